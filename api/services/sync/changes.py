"""The content change feed: every unit version created, edited (draft), published or withdrawn, in commit order.

Why a reader's cursor never skips or repeats an entry: entries are numbered by ``seq`` and a writer appends its entry
while holding a lock that it keeps until it commits, so no entry can become visible after an entry with a higher
``seq`` (on PostgreSQL a transaction-scoped advisory lock; SQLite already lets one writer at a time hold the
database until commit). A cursor is the last ``seq`` a reader has seen, so the next page starts exactly after it.
"""

from api import db
from api.errors import InvalidParameter
from api.models import AwardingBody, ContentChange, Unit, UnitVersion
from api.models.base import iso_utc
from api.services.common.access import Principal, visible_content
from api.services.common.pagination import decode_cursor, encode_cursor

FEED_LOCK = 0x71756C74  # advisory lock key for appending to the feed ("qult")
ACTIONS = ("created", "draft_edited", "published", "withdrawn")


def record(action: str, version: UnitVersion, actor: str) -> None:
    """Append one entry for ``version`` (inside the caller's transaction, as its last write)."""
    assert action in ACTIONS, action
    unit = Unit.get_by_id(version.unit_id)
    db.hold_until_commit(FEED_LOCK)
    ContentChange.create(action=action, unit=unit.id, owner=unit.owner_id, version=version.id, number=version.number,
                         status=version.status, etag=version.etag, actor=actor)


def _entry(change: ContentChange) -> dict:
    unit_id = change.unit_id
    return {"cursor": encode_cursor([change.seq]), "occurred_at": iso_utc(change.occurred_at),
            "action": change.action, "unit_id": str(unit_id), "code": change.unit.code,
            "owner": change.owner.slug, "version": change.number, "version_id": str(change.version_id),
            "status": change.status, "etag": change.etag, "actor": change.actor,
            "href": f"/v1/units/{unit_id}/versions/{change.number}?status={change.status}"}


def list_changes(principal: Principal, since: str | None, limit: int) -> dict:
    """Entries after the cursor ``since`` (from the start without it) that the principal may see, oldest first.
    ``next_cursor`` is where to continue: after the last entry returned, or ``since`` again when there is none yet."""
    after = 0
    if since:
        (after,) = decode_cursor(since, 1, parameter="since")
        if not isinstance(after, int) or after < 0:
            raise InvalidParameter("since is not a cursor of this feed", errors={"since": ["not a feed cursor"]})
    query = (ContentChange.select(ContentChange, Unit, AwardingBody).join(Unit)
             .join_from(ContentChange, AwardingBody).where(ContentChange.seq > after))
    query = visible_content(query, principal, ContentChange.status, ContentChange.owner)
    changes = list(query.order_by(ContentChange.seq).limit(limit))
    items = [_entry(c) for c in changes]
    return {"items": items, "next_cursor": items[-1]["cursor"] if items else (since or encode_cursor([0]))}
