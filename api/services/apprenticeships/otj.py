"""The off-the-job (OTJ) training ledger of an apprenticeship: activities recorded (by the apprentice, the centre's
staff or its clients) and confirmed by someone else, and the position they add up to against the planned hours
(otj_rules). Activities after the gateway date do not count; a gap of more than INACTIVITY_DAYS without any activity
before gateway is flagged. Activities are never edited: a wrong one is left, and the ledger shows who confirmed what."""

import uuid
from datetime import date

from api import db
from api.errors import AlreadyExists, ValidationFailed
from api.ids import new_id
from api.models import (
    Apprenticeship,
    ApprenticeshipKsb,
    ApprenticeshipStandardVersion,
    AuditEvent,
    Enrolment,
    Evidence,
    OtjActivity,
)
from api.models.base import iso_utc, utcnow
from api.services.apprenticeships import otj_rules
from api.services.common import audit
from api.services.common.access import (
    Principal,
    can_confirm_otj,
    can_submit_evidence,
    require,
    visible_apprenticeship,
    visible_otj_activity,
)
from api.services.common.pagination import Page, keyset_page
from api.services.sync import feed
from api.services.tracking.identity import write_unique

INACTIVITY_DAYS = 28  # four weeks without off-the-job training before gateway is flagged
MAX_MINUTES_A_DAY = 24 * 60


def activity_href(activity_id) -> str:
    return f"/v1/otj-activities/{activity_id}"


def activity_body(row: OtjActivity) -> dict:
    return {"id": str(row.id), "apprenticeship_id": str(row.apprenticeship_id), "learner_id": str(row.learner_id),
            "activity_date": row.activity_date.isoformat(), "hours": round(row.minutes / 60, 2),
            "minutes": row.minutes, "kind": row.kind, "description": row.description,
            "ksb_codes": list(row.ksb_codes), "evidence_id": str(row.evidence_id) if row.evidence_id else None,
            "external_ref": row.external_ref, "recorded_by": row.recorded_by, "confirmed_by": row.confirmed_by,
            "confirmed_at": iso_utc(row.confirmed_at), "created_at": iso_utc(row.created_at),
            "href": activity_href(row.id)}


def checked_activity(row: Apprenticeship, data: dict, ksb_codes: set, *, today: date, prefix: str = "") -> dict:
    """The columns of an activity ``data`` describes, after every rule about it is checked against the
    apprenticeship (a 422 naming the field, ``prefix``ed, otherwise)."""
    def refuse(field: str, message: str):
        raise ValidationFailed(f"{prefix}{field}: {message}" if prefix else message,
                               errors={f"{prefix}{field}": [message]})

    day = data["activity_date"]
    if day < row.start_date:
        refuse("activity_date", "before the apprenticeship's start date")
    if day > today:
        refuse("activity_date", "in the future")
    if row.gateway_date is not None and day > row.gateway_date:
        refuse("activity_date", "after gateway: off-the-job training ends at gateway")
    minutes = round(float(data["hours"]) * 60)
    if not 0 < minutes <= MAX_MINUTES_A_DAY:
        refuse("hours", "must be more than 0 and at most 24")
    unknown = [code for code in data.get("ksb_codes", []) if code not in ksb_codes]
    if unknown:
        refuse("ksb_codes", f"not KSBs of the standard version: {', '.join(unknown)}")
    evidence = data.get("evidence_id")
    if evidence is not None and not Evidence.select().join(Enrolment).where(
            Evidence.id == evidence, Enrolment.learner == row.learner_id).exists():
        refuse("evidence_id", "not evidence of this learner")
    return {"activity_date": day, "minutes": minutes, "kind": data["kind"], "description": data["description"],
            "ksb_codes": list(dict.fromkeys(data.get("ksb_codes", []))), "evidence": evidence,
            "external_ref": data.get("external_ref")}


def ksb_codes_of(row: Apprenticeship) -> set:
    return {code for (code,) in ApprenticeshipKsb.select(ApprenticeshipKsb.code).where(
        ApprenticeshipKsb.version == row.standard_version_id).tuples()}


def duplicate_ref(apprenticeship_id, external_ref: str | None) -> AlreadyExists | None:
    """The AlreadyExists for an activity of the apprenticeship that already has ``external_ref``."""
    if external_ref is None:
        return None
    existing = OtjActivity.get_or_none(OtjActivity.apprenticeship == apprenticeship_id,
                                       OtjActivity.external_ref == external_ref)
    if existing is None:
        return None
    return AlreadyExists(f"external_ref {external_ref!r} already records activity {existing.id}",
                         field="external_ref", reason="already recorded", existing_id=existing.id,
                         existing_href=activity_href(existing.id))


def record_activity(principal: Principal, apprenticeship_id: uuid.UUID, data: dict) -> OtjActivity:
    """Record an activity against an apprenticeship (audited; an otj_activity.recorded event)."""
    row = visible_apprenticeship(principal, apprenticeship_id)
    require(can_submit_evidence(principal, row.centre_id, row.learner_id),
            "off-the-job training is recorded by the apprentice, the centre's staff or its clients")
    if row.status == "withdrawn":
        raise ValidationFailed("the apprenticeship is withdrawn", errors={"apprenticeship_id": ["withdrawn"]})
    columns = checked_activity(row, data, ksb_codes_of(row), today=utcnow().date())
    activity = write_unique(lambda: OtjActivity.create(
        id=new_id(), apprenticeship=row.id, centre=row.centre_id, learner=row.learner_id,
        recorded_by=audit.actor_of(principal), **columns), lambda: duplicate_ref(row.id, columns["external_ref"]))
    record_written(principal, row, [activity.id], "otj_activity.recorded")
    return activity


def record_written(principal: Principal, row: Apprenticeship, activity_ids: list, event_type: str) -> None:
    """Audit and tell the feed of activities just written (in the caller's transaction)."""
    db.insert_rows(AuditEvent, [audit.event_row(principal, event_type, "otj_activity", activity_id,
                                                centre_id=row.centre_id, after={"apprenticeship_id": str(row.id)})
                                for activity_id in activity_ids])
    feed.append([feed.tracking_row(event_type, audit.actor_of(principal), centre_id=row.centre_id,
                                   learner_id=row.learner_id, subject_id=activity_id) for activity_id in activity_ids])


def confirm_activity(principal: Principal, activity_id: uuid.UUID) -> OtjActivity:
    """Confirm an activity someone else recorded. Confirming a confirmed activity changes nothing (it keeps who
    confirmed it first), so a retried confirmation is safe."""
    activity = visible_otj_activity(principal, activity_id)
    require(can_confirm_otj(principal, activity.centre_id), "off-the-job training is confirmed by the centre's staff")
    actor = audit.actor_of(principal)
    require(actor != activity.recorded_by, "an activity is confirmed by someone other than who recorded it")
    confirmed = OtjActivity.update(confirmed_by=actor, confirmed_at=utcnow()).where(
        OtjActivity.id == activity.id, OtjActivity.confirmed_by.is_null()).execute()
    if confirmed != 1:
        return OtjActivity.get_by_id(activity.id)
    record_written(principal, Apprenticeship.get_by_id(activity.apprenticeship_id), [activity.id],
                   "otj_activity.confirmed")
    return OtjActivity.get_by_id(activity.id)


def list_activities(principal: Principal, apprenticeship_id: uuid.UUID, cursor: str | None, limit: int) -> Page:
    """An apprenticeship's activities by date (then id)."""
    row = visible_apprenticeship(principal, apprenticeship_id)
    query = OtjActivity.select().where(OtjActivity.apprenticeship == row.id)
    page = keyset_page(query, [OtjActivity.activity_date, OtjActivity.id], cursor, limit,
                       key_of=lambda a: [a.activity_date.isoformat(), str(a.id)])
    page.items = [activity_body(a) for a in page.items]
    return page


def ledger(principal: Principal, apprenticeship_id: uuid.UUID, *, today: date | None = None) -> dict:
    """The apprenticeship's OTJ position: planned hours and the rule set behind them, hours recorded and confirmed
    up to gateway, hours expected by now at an even pace, and periods of more than four weeks without activity."""
    row = visible_apprenticeship(principal, apprenticeship_id)
    version = ApprenticeshipStandardVersion.select(ApprenticeshipStandardVersion.minimum_otj_hours).where(
        ApprenticeshipStandardVersion.id == row.standard_version_id).get()  # not its stored documents
    return ledger_document(row, version, today or utcnow().date())


def ledger_document(row: Apprenticeship, version: ApprenticeshipStandardVersion, today: date) -> dict:
    plan = otj_rules.planned_hours(row, version)
    end = min(d for d in (today, row.gateway_date, row.planned_end_date) if d is not None)
    counted, excluded_minutes, confirmed_minutes, days = 0, 0, 0, []
    for day, minutes, confirmed_by in OtjActivity.select(
            OtjActivity.activity_date, OtjActivity.minutes, OtjActivity.confirmed_by).where(
            OtjActivity.apprenticeship == row.id).order_by(OtjActivity.activity_date).tuples():
        if row.gateway_date is not None and day > row.gateway_date:
            excluded_minutes += minutes
            continue
        counted += minutes
        confirmed_minutes += minutes if confirmed_by else 0
        days.append(day)
    gaps = inactive_periods(row.start_date, end, days)
    elapsed = max((end - row.start_date).days, 0) / max((row.planned_end_date - row.start_date).days, 1)
    expected = round(plan.hours * min(elapsed, 1), 1) if plan.hours is not None else None
    hours = round(counted / 60, 2)
    return {"apprenticeship_id": str(row.id), **plan.to_dict(), "hours_recorded": hours,
            "hours_confirmed": round(confirmed_minutes / 60, 2),
            "hours_remaining": round(max(plan.hours - hours, 0), 2) if plan.hours is not None else None,
            "expected_hours_to_date": expected,
            "on_track": expected is not None and hours >= expected,
            "hours_after_gateway_excluded": round(excluded_minutes / 60, 2),
            "gateway_date": row.gateway_date.isoformat() if row.gateway_date else None,
            "last_activity_date": days[-1].isoformat() if days else None, "as_of": end.isoformat(),
            "inactive": (end - (days[-1] if days else row.start_date)).days > INACTIVITY_DAYS,
            "inactive_periods": gaps}


def inactive_periods(start: date, end: date, days: list[date]) -> list[dict]:
    """Each stretch of more than INACTIVITY_DAYS with no activity: after ``start`` or an activity day (``days``,
    sorted) and until the next activity day or ``end``."""
    periods, previous = [], start
    for day in [*days, end]:
        if (day - previous).days > INACTIVITY_DAYS:
            periods.append({"after": previous.isoformat(), "until": day.isoformat(), "days": (day - previous).days})
        previous = max(previous, day)
    return periods
