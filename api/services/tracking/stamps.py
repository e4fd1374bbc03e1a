"""``updated_at`` of records that change after they are made (a decision countersigned, sampled or given a verdict;
evidence given new claims), bumped in the writer's transaction so sync lists (common.sorted_lists) show them again."""

import peewee

from api.models.base import utcnow


def touch(record: peewee.Model) -> None:
    """Stamp ``record`` (and its row) as changed now."""
    record.updated_at = utcnow()
    type(record).update(updated_at=record.updated_at).where(type(record).id == record.id).execute()
