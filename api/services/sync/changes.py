"""The content change feed: every unit version, and every CASE framework version, created, edited (draft), published
or withdrawn, in commit order.

Why a reader's cursor never skips or repeats an entry: entries are numbered by ``seq`` and a writer appends its entry
while holding a lock that it keeps until it commits, so no entry can become visible after an entry with a higher
``seq`` (on PostgreSQL a transaction-scoped advisory lock; SQLite already lets one writer at a time hold the
database until commit). A cursor is the last ``seq`` a reader has seen, so the next page starts exactly after it.
"""

from peewee import JOIN

from api import db
from api.errors import InvalidParameter
from api.models import AwardingBody, CaseFrameworkVersion, ContentChange, Unit, UnitVersion
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


def record_framework(action: str, version: CaseFrameworkVersion, owner_id, actor: str) -> None:
    """Append one entry for a CASE framework's ``version`` (inside the caller's transaction, as its last write); its
    etag is its package's digest."""
    assert action in ACTIONS, action
    db.hold_until_commit(FEED_LOCK)
    ContentChange.create(action=action, framework=version.framework_id, owner=owner_id, framework_version=version.id,
                         number=version.number, status=version.status, etag=f'"{version.package_hash[:64]}"',
                         actor=actor)


def _entry(change: ContentChange) -> dict:
    if change.framework_id is not None:
        framework_id = change.framework_id
        subject = {"kind": "framework", "unit_id": None, "code": None, "framework_id": str(framework_id)}
        version_id, href = change.framework_version_id, f"/v1/frameworks/{framework_id}"
    else:
        unit_id = change.unit_id
        subject = {"kind": "unit", "unit_id": str(unit_id), "code": change.unit.code, "framework_id": None}
        version_id, href = change.version_id, f"/v1/units/{unit_id}/versions/{change.number}?status={change.status}"
    return {"cursor": encode_cursor([change.seq]), "occurred_at": iso_utc(change.occurred_at),
            "action": change.action, **subject, "owner": change.owner.slug, "version": change.number,
            "version_id": str(version_id), "status": change.status, "etag": change.etag, "actor": change.actor,
            "href": href}


def list_changes(principal: Principal, since: str | None, limit: int) -> dict:
    """Entries after the cursor ``since`` (from the start without it) that the principal may see, oldest first.
    ``next_cursor`` is where to continue: after the last entry returned, or ``since`` again when there is none yet."""
    after = 0
    if since:
        (after,) = decode_cursor(since, 1, parameter="since")
        if not isinstance(after, int) or after < 0:
            raise InvalidParameter("since is not a cursor of this feed", errors={"since": ["not a feed cursor"]})
    query = (ContentChange.select(ContentChange, Unit, AwardingBody).join(Unit, JOIN.LEFT_OUTER)
             .join_from(ContentChange, AwardingBody).where(ContentChange.seq > after))
    query = visible_content(query, principal, ContentChange.status, ContentChange.owner)
    changes = list(query.order_by(ContentChange.seq).limit(limit))
    items = [_entry(c) for c in changes]
    return {"items": items, "next_cursor": items[-1]["cursor"] if items else (since or encode_cursor([0]))}
