"""The feed (GET /v1/changes): one ordered log of content events (unit and CASE framework versions created, edited,
published, withdrawn) and tracking events (decisions, progress, IQA, enrolments, learners), in commit order.

Why a reader's cursor never skips or repeats an event: events are numbered by ``seq`` and a writer appends its events
while holding a lock that it keeps until it commits, so no event can become visible after an event with a higher
``seq`` (on PostgreSQL a transaction-scoped advisory lock; SQLite already lets one writer at a time hold the
database until commit). A cursor is the last ``seq`` a reader has seen, so the next page starts exactly after it.

Who sees what: a content event as its version (published to everyone, unpublished to its body's authors and
clients); a tracking event as the learner record it is about (api.services.common.access).
"""

import functools
import operator
import uuid
from datetime import datetime

from peewee import JOIN

from api import db
from api.errors import InvalidParameter
from api.ids import dashed
from api.models import (
    ApprenticeshipStandard,
    ApprenticeshipStandardVersion,
    AwardingBody,
    CaseFrameworkVersion,
    FeedEvent,
    Unit,
    UnitVersion,
)
from api.models.base import iso_utc, utcnow
from api.services.common.access import (
    Principal,
    content_condition,
    learner_record_centres,
    learner_records_condition,
)
from api.services.common.pagination import decode_cursor, encode_cursor

FEED_LOCK = 0x71756C74  # advisory lock key for appending to the feed ("qult")
CONTENT_ACTIONS = ("created", "draft_edited", "published", "withdrawn")
STANDARD_ACTIONS = ("created", "updated")  # an apprenticeship standard version imported, or its content changed
CONTENT_TYPES = (tuple(f"{kind}.{action}" for kind in ("unit", "framework") for action in CONTENT_ACTIONS)
                 + tuple(f"apprenticeship_standard.{action}" for action in STANDARD_ACTIONS))
TRACKING_TYPES = (
    "decision.recorded", "decision.superseded", "decision.countersigned",
    "criterion.met", "criterion.unmet",
    "outcome.completed", "outcome.uncompleted",
    "enrolment.completed", "enrolment.uncompleted",
    "qualification.completed", "qualification.uncompleted",
    "iqa.sampled", "iqa.verdict_recorded",
    "enrolment.created", "enrolment.updated", "enrolment.migrated", "enrolment.withdrawn",
    "learner.created", "learner.updated", "learner.withdrawn", "learner.pseudonymised",
    "apprenticeship.created", "apprenticeship.updated", "otj_activity.recorded", "otj_activity.confirmed",
    "ksb_decision.recorded", "ksb_decision.countersigned", "ksb_decision.sampled", "ksb_decision.verdict_recorded",
)
TYPES = CONTENT_TYPES + TRACKING_TYPES


TRACKING_COLUMNS = ["type", "action", "actor", "centre_id", "learner_id", "enrolment_id", "unit", "subject_id",
                    "occurred_at"]


def append(rows: list[tuple]) -> None:
    """Append tracking events (tracking_row's tuples), in order, inside the caller's transaction: the lock that keeps
    the feed in commit order is held from here to the end of the transaction, so append as the last write."""
    if not rows:
        return
    db.hold_until_commit(FEED_LOCK)
    now = db.db_timestamp(utcnow())
    db.insert_values(FeedEvent, TRACKING_COLUMNS, [(*row, now) for row in rows])


def _append_content(row: dict) -> None:
    """Append one content event (a FeedEvent row as a dict), as ``append`` appends tracking events."""
    db.hold_until_commit(FEED_LOCK)
    db.insert_rows(FeedEvent, [{**row, "occurred_at": utcnow()}])


def record(action: str, version: UnitVersion, actor: str) -> None:
    """Append one content event for a unit's ``version`` (inside the caller's transaction, as its last write)."""
    assert action in CONTENT_ACTIONS, action
    unit = Unit.get_by_id(version.unit_id)
    _append_content({"type": f"unit.{action}", "action": action, "unit": unit.id, "owner": unit.owner_id,
                     "version": version.id, "number": version.number, "status": version.status,
                     "etag": version.etag, "actor": actor})


def record_framework(action: str, version: CaseFrameworkVersion, owner_id, actor: str) -> None:
    """Append one content event for a CASE framework's ``version`` (inside the caller's transaction, as its last
    write); its etag is its package's digest."""
    assert action in CONTENT_ACTIONS, action
    _append_content({"type": f"framework.{action}", "action": action, "framework": version.framework_id,
                     "owner": owner_id, "framework_version": version.id, "number": version.number,
                     "status": version.status, "etag": f'"{version.package_hash[:64]}"', "actor": actor})


def record_standard(action: str, version_id: uuid.UUID, public: bool, etag: str, actor: str) -> None:
    """Append one content event for an apprenticeship standard version imported (``created``) or changed
    (``updated``), inside the caller's transaction. ``public``: anyone may read the version (the event's status is
    then published, else draft, which only admins see)."""
    assert action in STANDARD_ACTIONS, action
    _append_content({"type": f"apprenticeship_standard.{action}", "action": action, "subject_id": str(version_id),
                     "status": "published" if public else "draft", "etag": etag, "actor": actor})


def tracking_row(event_type: str, actor: str, *, centre_id, learner_id, subject_id, enrolment_id=None,
                 unit_id=None) -> tuple:
    """One tracking event for ``append``, in TRACKING_COLUMNS order but its time: ids only, never personal data. Ids
    may be UUIDs, their text, or the 32 hex digits the database stores (taken as they are: bulk writers' own ids)."""
    assert event_type in TRACKING_TYPES, event_type
    return (event_type, event_type.split(".", 1)[1], actor, _hex(centre_id), _hex(learner_id), _hex(enrolment_id),
            _hex(unit_id), _dashed(subject_id))  # subject_id: a text column, any id, always in the dashed form


def enrolment_event(event_type: str, actor: str, enrolment) -> tuple:
    """A tracking event about an enrolment (an Enrolment, or anything with its id, centre_id, learner_id and
    unit_id)."""
    return tracking_row(event_type, actor, centre_id=enrolment.centre_id, learner_id=enrolment.learner_id,
                        enrolment_id=enrolment.id, unit_id=enrolment.unit_id, subject_id=enrolment.id)


def learner_event(event_type: str, actor: str, learner) -> tuple:
    """A tracking event about a learner (a Learner, or anything with its id and centre_id)."""
    return tracking_row(event_type, actor, centre_id=learner.centre_id, learner_id=learner.id, subject_id=learner.id)


def _uuid(value) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _hex(value) -> str | None:
    """An id as insert_values stores it (32 hex digits), or None."""
    if value is None or (isinstance(value, str) and len(value) == 32):
        return value
    return _uuid(value).hex


def _dashed(value) -> str:
    """An id in the standard dashed form."""
    if isinstance(value, str) and len(value) == 32:
        return dashed(value)
    return str(_uuid(value))


# -- reading ----------------------------------------------------------------------------------------------------

HREFS = {
    "decision": "/v1/decisions/{subject}",
    "criterion": "/v1/enrolments/{enrolment}/progress",
    "outcome": "/v1/enrolments/{enrolment}/progress",
    "iqa": "/v1/iqa/samples/{subject}",
    "qualification": "/v1/learners/{learner}/qualifications/{subject}/progress",
    "learner": "/v1/learners/{subject}",
    "apprenticeship": "/v1/apprenticeships/{subject}",
    "otj_activity": "/v1/otj-activities/{subject}",
    "ksb_decision": "/v1/ksb-decisions/{subject}",
}


def _href(event: FeedEvent, kind: str) -> str:
    if kind == "enrolment":
        suffix = "/progress" if event.action in ("completed", "uncompleted") else ""
        return f"/v1/enrolments/{event.enrolment_id}{suffix}"
    return HREFS[kind].format(subject=event.subject_id, enrolment=event.enrolment_id, learner=event.learner_id)


def _entry(event: FeedEvent, standards: dict) -> dict:
    """An event as the feed shows it; ``standards``: {version id: (reference number, version)} of the apprenticeship
    standard versions the events name."""
    kind = event.type.split(".", 1)[0]
    entry = {"cursor": encode_cursor([event.seq]), "occurred_at": iso_utc(event.occurred_at), "type": event.type,
             "kind": kind, "action": event.action, "actor": event.actor,
             "unit_id": str(event.unit_id) if event.unit_id else None,
             "code": event.unit.code if event.unit_id else None, "framework_id": None, "owner": None,
             "version": event.number, "version_id": None, "status": event.status, "etag": event.etag,
             "centre_id": None, "learner_id": None, "enrolment_id": None, "subject_id": None}
    if event.centre_id is not None:
        entry.update(centre_id=str(event.centre_id), learner_id=str(event.learner_id), subject_id=event.subject_id,
                     enrolment_id=str(event.enrolment_id) if event.enrolment_id else None, href=_href(event, kind))
    elif kind == "apprenticeship_standard":
        reference, number = standards.get(event.subject_id, (None, None))
        entry.update(code=reference, version_id=event.subject_id, subject_id=event.subject_id,
                     href=f"/v1/apprenticeship-standards/{reference}/versions/{number}")
    elif event.framework_id is not None:
        entry.update(framework_id=str(event.framework_id), owner=event.owner.slug,
                     version_id=str(event.framework_version_id), href=f"/v1/frameworks/{event.framework_id}")
    else:
        entry.update(owner=event.owner.slug, version_id=str(event.version_id),
                     href=f"/v1/units/{event.unit_id}/versions/{event.number}?status={event.status}")
    return entry


def list_changes(principal: Principal, since: str | datetime | None, limit: int, *, types: str | None = None,
                 unit_id: uuid.UUID | None = None, centre_id: uuid.UUID | None = None,
                 learner_id: uuid.UUID | None = None) -> dict:
    """Events after the cursor ``since`` (or from the time ``since``; from the start without it) that the principal
    may see and the filters select, oldest first. ``types`` is a comma-separated list of event types, or of kinds
    as ``decision.*``. ``next_cursor`` is where to continue: after the last event returned, or where this page
    started when there is none yet."""
    after = _start(since)
    events = _events(principal, after, limit, event_types(types), unit_id=unit_id, centre_id=centre_id,
                     learner_id=learner_id)
    standards = _standard_versions(events)
    items = [_entry(e, standards) for e in events]
    return {"items": items, "next_cursor": items[-1]["cursor"] if items else encode_cursor([after])}


def events_after(principal: Principal, after: int, limit: int, types: list[str] | None) -> list[tuple[int, dict]]:
    """(seq, event) of the events after ``seq`` ``after`` that the principal may see, of ``types`` (types or kinds
    as ``decision.*``; all if None), oldest first: what a webhook endpoint is sent."""
    wanted = event_types(",".join(types)) if types else set(TYPES)
    events = _events(principal, after, limit, wanted)
    standards = _standard_versions(events)
    return [(e.seq, _entry(e, standards)) for e in events]


def _standard_versions(events: list[FeedEvent]) -> dict:
    """{version id: (reference number, version)} of the apprenticeship standard versions ``events`` name (one
    query, none without such events)."""
    ids = {e.subject_id for e in events if e.centre_id is None and e.type.startswith("apprenticeship_standard.")}
    if not ids:
        return {}
    version = ApprenticeshipStandardVersion
    rows = (version.select(version.id, ApprenticeshipStandard.reference_number, version.version)
            .join(ApprenticeshipStandard).where(version.id.in_(sorted(ids))).tuples())
    return {str(version_id): (reference, number) for version_id, reference, number in rows}


def _events(principal: Principal, after: int, limit: int, wanted: set, *, unit_id=None, centre_id=None,
            learner_id=None) -> list[FeedEvent]:
    """The first ``limit`` events after ``after`` that the principal may see and the filters select, by seq."""
    parts = []
    content = content_condition(principal, FeedEvent.status, FeedEvent.owner)
    tracking = learner_records_condition(principal, FeedEvent.centre_id, FeedEvent.learner_id)
    of_learners = [FeedEvent.centre_id == centre_id] if centre_id else []
    of_learners += [FeedEvent.learner_id == learner_id] if learner_id else []
    if content is None and tracking is None:  # admins: one query over the whole feed
        parts.append(_part(of_learners, wanted, TYPES))
    else:
        if not of_learners and wanted & set(CONTENT_TYPES):
            parts.append(_part([FeedEvent.centre_id.is_null(), content], wanted, CONTENT_TYPES))
        sees_learners = learner_record_centres(principal) or principal.learner_id is not None
        if sees_learners and wanted & set(TRACKING_TYPES):
            parts.append(_part([FeedEvent.centre_id.is_null(False), tracking, *of_learners], wanted, TRACKING_TYPES))
    events = []
    for condition in parts:
        query = (FeedEvent.select(FeedEvent, Unit, AwardingBody).join(Unit, JOIN.LEFT_OUTER)
                 .join_from(FeedEvent, AwardingBody, JOIN.LEFT_OUTER).where(FeedEvent.seq > after))
        if condition is not None:
            query = query.where(condition)
        if unit_id:
            query = query.where(FeedEvent.unit == unit_id)
        events.extend(query.order_by(FeedEvent.seq).limit(limit))
    return sorted(events, key=lambda e: e.seq)[:limit]  # each part in seq order: the first ``limit`` of both


def _part(conditions: list, wanted: set, of_kind: tuple):
    """The condition of one part of the feed (None: every event): ``conditions`` (None among them: none), and the
    wanted types when they are not all of the part's types."""
    conditions = [c for c in conditions if c is not None]
    if not set(of_kind) <= wanted:
        conditions.append(FeedEvent.type.in_(sorted(wanted & set(of_kind))))
    return functools.reduce(operator.and_, conditions) if conditions else None

def _start(since: str | datetime | None) -> int:
    """The ``seq`` the page starts after: a cursor's, or before the first event at or after a time."""
    if since is None:
        return 0
    if isinstance(since, datetime):
        return seq_before(since)
    (after,) = decode_cursor(since, 1, parameter="since")
    if not isinstance(after, int) or after < 0:
        raise InvalidParameter("since is not a cursor of this feed", errors={"since": ["not a feed cursor"]})
    return after


def event_types(text: str | None) -> set:
    """The event types a ``type`` filter selects (all without one); a 400 naming any it does not know."""
    if text is None:
        return set(TYPES)
    wanted, unknown = set(), []
    for name in (part.strip() for part in text.split(",")):
        matched = {t for t in TYPES if t.startswith(name[:-1])} if name.endswith(".*") else {name} & set(TYPES)
        if not matched:
            unknown.append(name)
        wanted |= matched
    if unknown:
        raise InvalidParameter(f"unknown event type {', '.join(repr(u) for u in unknown)}: give types such as "
                               "decision.recorded, or kinds such as decision.*, separated by commas",
                               errors={"type": [f"one of: {', '.join(TYPES)}"]})
    return wanted


def last_seq() -> int:
    """The seq of the newest event (0 if there is none): a new webhook endpoint starts after it."""
    last = FeedEvent.select(FeedEvent.seq).order_by(FeedEvent.seq.desc()).first()
    return last.seq if last else 0


def seq_before(moment: datetime) -> int:
    """The seq just before the first event at or after ``moment`` (the newest if there is none)."""
    first = FeedEvent.select(FeedEvent.seq).where(FeedEvent.occurred_at >= moment).order_by(
        FeedEvent.occurred_at, FeedEvent.seq).first()
    return first.seq - 1 if first is not None else last_seq()
