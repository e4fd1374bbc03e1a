"""Apprenticeships: a learner on a version of an apprenticeship standard (the version approved for delivery on their
start date, unless one is named), optionally one of its options, with the learner's unit enrolments that deliver it.
One live apprenticeship per learner and standard version (the database enforces it: migration 034)."""

import json
import uuid
from datetime import date

from api.errors import AlreadyExists, PreconditionFailed, ValidationFailed
from api.ids import new_id
from api.models import (
    Apprenticeship,
    ApprenticeshipStandard,
    ApprenticeshipStandardVersion,
    ApprenticeshipUnit,
    Enrolment,
)
from api.models.base import iso_utc, utcnow
from api.services.apprenticeships import documents
from api.services.common import audit
from api.services.common.access import (
    Principal,
    can_manage_learners,
    require,
    visible_apprenticeship,
    visible_learner,
    visible_learner_records,
)
from api.services.common.pagination import Page, keyset_page
from api.services.common.preconditions import check_if_match, etag_of
from api.services.sync import feed
from api.services.tracking.identity import write_unique

DELIVERABLE_STATUSES = ("approved", "retired")  # a version someone may have started on


def apprenticeship_href(apprenticeship_id) -> str:
    return f"/v1/apprenticeships/{apprenticeship_id}"


def body(row: Apprenticeship) -> dict:
    """An apprenticeship as served."""
    return bodies([row])[0]


def bodies(rows: list[Apprenticeship]) -> list[dict]:
    """Apprenticeships as served, in order: two queries however many (their versions, their unit enrolments)."""
    if not rows:
        return []
    versions = {v.id: v for v in ApprenticeshipStandardVersion.select(
        ApprenticeshipStandardVersion.id, ApprenticeshipStandardVersion.version, ApprenticeshipStandardVersion.title,
        ApprenticeshipStandard.reference_number).join(ApprenticeshipStandard).where(
        ApprenticeshipStandardVersion.id.in_({row.standard_version_id for row in rows}))}
    units: dict = {}
    for link in ApprenticeshipUnit.select().where(ApprenticeshipUnit.apprenticeship.in_([row.id for row in rows])):
        units.setdefault(link.apprenticeship_id, []).append(str(link.enrolment_id))
    return [_body(row, versions[row.standard_version_id], units.get(row.id, [])) for row in rows]


def _body(row: Apprenticeship, version: ApprenticeshipStandardVersion, enrolment_ids: list) -> dict:
    href = apprenticeship_href(row.id)
    return {"id": str(row.id), "learner_id": str(row.learner_id), "centre_id": str(row.centre_id),
            "reference_number": version.standard.reference_number, "version": version.version,
            "standard_version_id": str(version.id), "title": version.title, "option_id": row.option_id,
            "start_date": row.start_date.isoformat(), "planned_end_date": row.planned_end_date.isoformat(),
            "weekly_hours": row.weekly_hours, "prior_learning_hours": row.prior_learning_hours,
            "gateway_date": documents.iso_day(row.gateway_date), "status": row.status,
            "enrolment_ids": sorted(enrolment_ids), "created_at": iso_utc(row.created_at),
            "updated_at": iso_utc(row.updated_at), "etag": etag_of("apprenticeship", row.id, row.row_version),
            "href": href, "progress": f"{href}/progress", "otj": f"{href}/otj"}


def _version_for(reference: str, version: str | None, start: date) -> ApprenticeshipStandardVersion:
    """The version named, or the one approved for delivery on ``start`` (the latest whose start-date window holds
    it); a 422 if there is none."""
    query = ApprenticeshipStandardVersion.select().where(
        ApprenticeshipStandardVersion.standard == documents.standard_id(reference),
        ApprenticeshipStandardVersion.status.in_(DELIVERABLE_STATUSES))
    if version is not None:
        row = query.where(ApprenticeshipStandardVersion.version == version).first()
        if row is None:
            raise ValidationFailed(f"no version {version} of {reference} has been approved for delivery",
                                   errors={"version": ["not a version approved for delivery"]})
        return row
    fits = [row for row in query if (row.earliest_start_date is None or row.earliest_start_date <= start)
            and (row.latest_start_date is None or start <= row.latest_start_date)]
    if not fits:
        raise ValidationFailed(f"no version of {reference} was approved for starts on {start.isoformat()}",
                               errors={"start_date": ["no version of the standard open to starts on this date"]})
    return max(fits, key=lambda row: documents.version_order(row.version))


def _check_option(version: ApprenticeshipStandardVersion, option_id: str | None) -> None:
    options = [o["option_id"] for o in json.loads(version.document)["options"] if o.get("option_id")]
    if option_id is not None and option_id not in options:
        raise ValidationFailed(f"version {version.version} has no option {option_id}",
                               errors={"option_id": [f"one of: {', '.join(options)}" if options else "no options"]})


def _delivering_enrolments(learner_id, enrolment_ids: list) -> list[uuid.UUID]:
    """Check each id is a unit enrolment of the learner that is not withdrawn; 422 naming those that are not."""
    ids = list(dict.fromkeys(enrolment_ids))
    found = {e.id for e in Enrolment.select(Enrolment.id).where(
        Enrolment.id.in_(ids), Enrolment.learner == learner_id, Enrolment.status != "withdrawn")}
    wrong = [str(i) for i in ids if i not in found]
    if wrong:
        raise ValidationFailed(f"not enrolments of this learner: {', '.join(wrong)}",
                               errors={"enrolment_ids": [f"{i} is not a live enrolment of the learner"
                                                         for i in wrong]})
    return ids


def _duplicate(learner_id, version_id, *, other_than=None) -> AlreadyExists | None:
    query = Apprenticeship.select(Apprenticeship.id).where(
        Apprenticeship.learner == learner_id, Apprenticeship.standard_version == version_id,
        Apprenticeship.status != "withdrawn")
    if other_than is not None:
        query = query.where(Apprenticeship.id != other_than)
    existing = query.first()
    if existing is None:
        return None
    return AlreadyExists(f"the learner is already on this standard version: {existing.id}",
                         field="reference_number", reason="the learner already has this apprenticeship",
                         existing_id=existing.id, existing_href=apprenticeship_href(existing.id))


def _check_dates(start: date, planned_end: date, gateway: date | None) -> None:
    if planned_end <= start:
        raise ValidationFailed("planned_end_date is not after start_date",
                               errors={"planned_end_date": ["not after start_date"]})
    if gateway is not None and gateway < start:
        raise ValidationFailed("gateway_date is before start_date", errors={"gateway_date": ["before start_date"]})


def create_apprenticeship(principal: Principal, data: dict) -> Apprenticeship:
    """Put a learner on a standard version, with the unit enrolments that deliver it; 409 AlreadyExists if they are
    on it already. Audited, and a tracking event (apprenticeship.created)."""
    learner = visible_learner(principal, data["learner_id"])
    require(can_manage_learners(principal, learner.centre_id), "only the centre's admins enrol apprentices")
    if learner.status != "active":
        raise ValidationFailed("a withdrawn learner cannot be enrolled", errors={"learner_id": ["withdrawn"]})
    version = _version_for(data["reference_number"], data.get("version"), data["start_date"])
    _check_option(version, data.get("option_id"))
    _check_dates(data["start_date"], data["planned_end_date"], None)
    enrolment_ids = _delivering_enrolments(learner.id, data.get("enrolment_ids", []))
    row = write_unique(lambda: Apprenticeship.create(
        id=new_id(), learner=learner.id, centre=learner.centre_id, standard_version=version.id,
        option_id=data.get("option_id"), start_date=data["start_date"], planned_end_date=data["planned_end_date"],
        weekly_hours=data.get("weekly_hours"), prior_learning_hours=data.get("prior_learning_hours", 0)),
        lambda: _duplicate(learner.id, version.id))
    if enrolment_ids:
        ApprenticeshipUnit.insert_many([{"apprenticeship": row.id, "enrolment": e} for e in enrolment_ids]).execute()
    audit.record(principal, "apprenticeship.created", "apprenticeship", row.id, centre_id=row.centre_id,
                 after=_snapshot(row, enrolment_ids))
    feed.append([_event("apprenticeship.created", principal, row)])
    return Apprenticeship.get_by_id(row.id)


def update_apprenticeship(principal: Principal, apprenticeship_id: uuid.UUID, changes: dict,
                          if_match: str | None) -> Apprenticeship:
    """Change dates, hours, option, status or the delivering enrolments, if If-Match names the current version."""
    row = visible_apprenticeship(principal, apprenticeship_id)
    require(can_manage_learners(principal, row.centre_id), "only the centre's admins change apprenticeships")
    check_if_match(if_match, etag_of("apprenticeship", row.id, row.row_version))
    before = _snapshot(row)
    fields = ("option_id", "start_date", "planned_end_date", "weekly_hours", "prior_learning_hours", "gateway_date",
              "status")
    for name in fields:
        if name in changes:
            setattr(row, name, changes[name])
    if "option_id" in changes:
        _check_option(ApprenticeshipStandardVersion.get_by_id(row.standard_version_id), row.option_id)
    _check_dates(row.start_date, row.planned_end_date, row.gateway_date)
    if "enrolment_ids" in changes:
        ids = _delivering_enrolments(row.learner_id, changes["enrolment_ids"])
        ApprenticeshipUnit.delete().where(ApprenticeshipUnit.apprenticeship == row.id).execute()
        if ids:
            ApprenticeshipUnit.insert_many([{"apprenticeship": row.id, "enrolment": e} for e in ids]).execute()
    current = row.row_version
    save = Apprenticeship.update(**{name: getattr(row, name) for name in fields}, row_version=current + 1,
                                 updated_at=utcnow()).where(Apprenticeship.id == row.id,
                                                            Apprenticeship.row_version == current)
    if row.status != "withdrawn" and before["status"] == "withdrawn":
        saved = write_unique(save.execute, lambda: _duplicate(row.learner_id, row.standard_version_id,
                                                              other_than=row.id))
    else:
        saved = save.execute()
    if saved != 1:
        raise PreconditionFailed("the apprenticeship changed while you were updating it: GET it again and retry")
    row = Apprenticeship.get_by_id(row.id)
    audit.record(principal, "apprenticeship.updated", "apprenticeship", row.id, centre_id=row.centre_id,
                 before=before, after={**_snapshot(row), "fields": sorted(changes)})
    feed.append([_event("apprenticeship.updated", principal, row)])
    return row


def list_apprenticeships(principal: Principal, learner_id: uuid.UUID, cursor: str | None, limit: int) -> Page:
    """A learner's apprenticeships, by id."""
    learner = visible_learner(principal, learner_id)
    query = visible_learner_records(Apprenticeship.select(), principal, Apprenticeship.centre,
                                    Apprenticeship.learner).where(Apprenticeship.learner == learner.id)
    page = keyset_page(query, [Apprenticeship.id], cursor, limit, key_of=lambda a: [str(a.id)])
    page.items = bodies(page.items)
    return page


def _snapshot(row: Apprenticeship, enrolment_ids: list | None = None) -> dict:
    snapshot = {"standard_version_id": str(row.standard_version_id), "option_id": row.option_id,
                "start_date": row.start_date.isoformat(), "planned_end_date": row.planned_end_date.isoformat(),
                "weekly_hours": row.weekly_hours, "prior_learning_hours": row.prior_learning_hours,
                "gateway_date": documents.iso_day(row.gateway_date), "status": row.status,
                "row_version": row.row_version}
    if enrolment_ids is not None:
        snapshot["enrolment_ids"] = sorted(str(e) for e in enrolment_ids)
    return snapshot


def _event(event_type: str, principal: Principal, row: Apprenticeship) -> tuple:
    return feed.tracking_row(event_type, audit.actor_of(principal), centre_id=row.centre_id,
                             learner_id=row.learner_id, subject_id=row.id)

