"""Enrolments: a learner on a unit at their centre, pinned to the unit version published when they enrolled, with
assigned assessors and IQAs."""

import uuid

from api.errors import AlreadyExists, Conflict, Forbidden, NotFound, PreconditionFailed, ValidationFailed
from api.ids import new_id
from api.models import (
    Account,
    AccountCentre,
    Enrolment,
    EnrolmentStaff,
    Qualification,
    QualificationGroup,
    QualificationGroupUnit,
    Unit,
    UnitVersion,
)
from api.models.base import iso_utc, utcnow
from api.services.common import audit, batches
from api.services.common.access import (
    Principal,
    can_manage_learners,
    require,
    require_authenticated,
    visible_enrolment,
    visible_learner,
    visible_learner_records,
    visible_unit,
)
from api.services.common.pagination import Page
from api.services.common.preconditions import check_if_match, etag_of
from api.services.common.sorted_lists import by_time, sorted_page
from api.services.sync import feed
from api.services.tracking import tallies
from api.services.tracking.identity import enrolment_duplicate, write_unique

STATUSES = ("active", "completed", "withdrawn", "transferred")
STAFF_NAMES = {"assessor": ("an assessor", "assessors"), "iqa": ("an IQA", "IQAs")}  # role: (one, many)
ENROLMENT_ORDERS = by_time(Enrolment)


def enrolment_body(enrolment: Enrolment, staff: list | None = None) -> dict:
    if staff is None:
        staff = list(EnrolmentStaff.select().where(EnrolmentStaff.enrolment == enrolment.id))
    return {
        "id": str(enrolment.id), "learner_id": str(enrolment.learner_id), "centre_id": str(enrolment.centre_id),
        "unit_id": str(enrolment.unit_id), "unit_version_id": str(enrolment.unit_version_id),
        "status": enrolment.status, "start_date": enrolment.start_date.isoformat(),
        "planned_end_date": enrolment.planned_end_date.isoformat() if enrolment.planned_end_date else None,
        "assessor_ids": sorted(str(s.account_id) for s in staff if s.role == "assessor"),
        "iqa_ids": sorted(str(s.account_id) for s in staff if s.role == "iqa"),
        "created_at": iso_utc(enrolment.created_at), "updated_at": iso_utc(enrolment.updated_at),
        "href": f"/v1/enrolments/{enrolment.id}", "progress": f"/v1/enrolments/{enrolment.id}/progress",
    }


def _snapshot(enrolment: Enrolment) -> dict:
    return {"id": str(enrolment.id), "learner_id": str(enrolment.learner_id),
            "unit_version_id": str(enrolment.unit_version_id), "status": enrolment.status,
            "row_version": enrolment.row_version}


def staff_of_centre(centre_id, account_ids: list, role: str, field: str) -> list[uuid.UUID]:
    """Check that every id is an account of ``centre_id`` with ``role``; 422 naming the ones that are not."""
    if not account_ids:
        return []
    accounts = {a.id: a for a in Account.select().join(AccountCentre)
                .where(Account.id.in_(account_ids), AccountCentre.centre == centre_id, Account.is_active)}
    wrong = [str(i) for i in account_ids if i not in accounts or role not in accounts[i].roles]
    if wrong:
        one, many = STAFF_NAMES[role]
        raise ValidationFailed(f"not {many} of this centre: {', '.join(wrong)}",
                               errors={field: [f"{i} is not {one} of this centre" for i in wrong]})
    return list(dict.fromkeys(account_ids))


def _unit_to_enrol_on(principal: Principal, unit_id: uuid.UUID) -> Unit:
    """The unit named in an enrolment's body: a 422 on unit_id, the same for a unit hidden from the caller as for
    one that does not exist."""
    try:
        return visible_unit(principal, unit_id)
    except NotFound:
        raise ValidationFailed(f"no unit {unit_id} visible to you", errors={"unit_id": ["unknown unit"]}) from None


def create_enrolment(principal: Principal, data: dict) -> Enrolment:
    """Enrol a learner on a unit, pinned to the unit's current published version; 409 AlreadyExists (pointing at it)
    if the learner already has an active enrolment on the unit. Nothing is written before that is known."""
    learner = visible_learner(principal, data["learner_id"])
    unit = _unit_to_enrol_on(principal, data["unit_id"])
    require(can_manage_learners(principal, learner.centre_id), "only the centre's admins enrol learners")
    if learner.status != "active":
        raise ValidationFailed("a withdrawn learner cannot be enrolled", errors={"learner_id": ["withdrawn"]})
    version = (UnitVersion.select().where(UnitVersion.unit == unit.id, UnitVersion.status == "published",
                                          UnitVersion.is_head).first())
    if version is None:
        raise ValidationFailed("the unit has no published version to enrol on",
                               errors={"unit_id": ["no published version"]})
    if data.get("planned_end_date") and data["planned_end_date"] < data["start_date"]:
        raise ValidationFailed("planned_end_date is before start_date",
                               errors={"planned_end_date": ["before start_date"]})
    assessors = staff_of_centre(learner.centre_id, data.get("assessor_ids", []), "assessor", "assessor_ids")
    iqas = staff_of_centre(learner.centre_id, data.get("iqa_ids", []), "iqa", "iqa_ids")
    enrolment = write_unique(
        lambda: Enrolment.create(id=new_id(), learner=learner.id, centre=learner.centre_id, unit=data["unit_id"],
                                 unit_version=version.id, start_date=data["start_date"],
                                 planned_end_date=data.get("planned_end_date")),
        lambda: enrolment_duplicate(learner.id, data["unit_id"]))
    rows = [{"enrolment": enrolment.id, "account": a, "centre": enrolment.centre_id, "role": "assessor"}
            for a in assessors]
    rows += [{"enrolment": enrolment.id, "account": a, "centre": enrolment.centre_id, "role": "iqa"} for a in iqas]
    if rows:
        EnrolmentStaff.insert_many(rows).execute()
    tallies.add_new([(enrolment.id, enrolment.centre_id, version.id)])
    audit.record(principal, "enrolment.created", "enrolment", enrolment.id, centre_id=enrolment.centre_id,
                 after=_snapshot(enrolment))
    feed.append([feed.enrolment_event("enrolment.created", audit.actor_of(principal), enrolment)])
    return enrolment


def list_enrolments(principal: Principal, *, learner_id, centre_id, unit_id, status, cursor, limit, sort=None,
                    updated_since=None) -> Page:
    """Enrolments the principal may see, filtered by learner, centre, unit, status or time of their last change;
    oldest first (the default), or by when they were last updated (for sync: common.sorted_lists)."""
    require_authenticated(principal)
    query = visible_learner_records(Enrolment.select(), principal, Enrolment.centre, Enrolment.learner)
    for field, value in ((Enrolment.learner, learner_id), (Enrolment.centre, centre_id), (Enrolment.unit, unit_id),
                         (Enrolment.status, status)):
        if value:
            query = query.where(field == value)
    page = sorted_page(query, Enrolment, ENROLMENT_ORDERS, sort=sort, updated_since=updated_since, cursor=cursor,
                       limit=limit)
    staff: dict = {}
    for row in EnrolmentStaff.select().where(EnrolmentStaff.enrolment.in_([e.id for e in page.items])):
        staff.setdefault(row.enrolment_id, []).append(row)
    page.items = [enrolment_body(e, staff.get(e.id, [])) for e in page.items]
    return page


def update_enrolment(principal: Principal, enrolment_id: uuid.UUID, changes: dict, if_match: str | None) -> Enrolment:
    """Change status, dates or assigned staff, if If-Match names the current version. Back to active while the
    learner has another active enrolment on the unit: 409 AlreadyExists pointing at that one."""
    enrolment = visible_enrolment(principal, enrolment_id)
    require(can_manage_learners(principal, enrolment.centre_id), "only the centre's admins change enrolments")
    check_if_match(if_match, etag_of("enrolment", enrolment.id, enrolment.row_version))
    before = _snapshot(enrolment)
    for name in ("status", "start_date", "planned_end_date"):
        if name in changes:
            setattr(enrolment, name, changes[name])
    if enrolment.planned_end_date and enrolment.planned_end_date < enrolment.start_date:
        raise ValidationFailed("planned_end_date is before start_date",
                               errors={"planned_end_date": ["before start_date"]})
    for role, field in (("assessor", "assessor_ids"), ("iqa", "iqa_ids")):
        if field in changes:
            accounts = staff_of_centre(enrolment.centre_id, changes[field], role, field)
            EnrolmentStaff.delete().where(EnrolmentStaff.enrolment == enrolment.id,
                                          EnrolmentStaff.role == role).execute()
            if accounts:
                EnrolmentStaff.insert_many([{"enrolment": enrolment.id, "account": a, "centre": enrolment.centre_id,
                                             "role": role} for a in accounts]).execute()
    current = enrolment.row_version
    save = (Enrolment.update(status=enrolment.status, start_date=enrolment.start_date,
                             planned_end_date=enrolment.planned_end_date, row_version=current + 1,
                             updated_at=utcnow())
            .where(Enrolment.id == enrolment.id, Enrolment.row_version == current))
    if enrolment.status == "active" and before["status"] != "active":
        saved = write_unique(save.execute, lambda: enrolment_duplicate(enrolment.learner_id, enrolment.unit_id,
                                                                       enrolment_id=enrolment.id))
    else:
        saved = save.execute()
    if saved != 1:
        raise PreconditionFailed("the enrolment changed while you were updating it: GET it again and retry")
    enrolment = Enrolment.get_by_id(enrolment.id)
    audit.record(principal, "enrolment.updated", "enrolment", enrolment.id, centre_id=enrolment.centre_id,
                 before=before, after={**_snapshot(enrolment), "fields": sorted(changes)})
    withdrawn = enrolment.status == "withdrawn" and before["status"] != "withdrawn"
    feed.append([feed.enrolment_event("enrolment.withdrawn" if withdrawn else "enrolment.updated",
                                      audit.actor_of(principal), enrolment)])
    return enrolment


def create_enrolments(principal: Principal, items: list[dict]) -> list[Enrolment]:
    """Enrol several learners (or one learner on several units), in order, inside the caller's transaction: each
    under every rule of create_enrolment, and one refused refuses them all (the caller rolls back), its problem
    naming it (``enrolments[i]``). A learner and unit may appear once."""
    first: dict = {}
    made = []
    for i, data in enumerate(items):
        earlier = first.setdefault((data["learner_id"], data["unit_id"]), i)
        if earlier != i:
            raise ValidationFailed(f"enrolments[{i}]: enrolments[{earlier}] enrols the same learner on the same unit",
                                   errors={f"enrolments[{i}].unit_id": [f"as enrolments[{earlier}]"]})
        try:
            made.append(create_enrolment(principal, data))
        except (ValidationFailed, Conflict, Forbidden, NotFound) as error:
            raise batches.naming(error, f"enrolments[{i}]") from None
    return made


def enrol_on_qualification(principal: Principal, learner_id: uuid.UUID, qualification_id: uuid.UUID,
                           data: dict) -> list[Enrolment]:
    """Enrol a learner on every unit of a qualification's mandatory groups (units they are already enrolled on, even
    by a concurrent request, are kept as they are). Optional units are chosen one by one with POST /v1/enrolments.
    All or nothing."""
    learner = visible_learner(principal, learner_id)
    qualification = Qualification.get_or_none(Qualification.id == qualification_id,
                                              Qualification.status == "published")
    if qualification is None:
        raise NotFound(f"no published qualification {qualification_id}")
    require(can_manage_learners(principal, learner.centre_id), "only the centre's admins enrol learners")
    mandatory = [m.unit_id for m in QualificationGroupUnit.select(QualificationGroupUnit.unit)
                 .join(QualificationGroup).where(QualificationGroup.qualification == qualification.id,
                                                 QualificationGroup.mandatory)
                 .order_by(QualificationGroup.position, QualificationGroupUnit.position)]
    current = {e.unit_id for e in Enrolment.select(Enrolment.unit)
               .where(Enrolment.learner == learner_id, Enrolment.status != "withdrawn")}
    made = []
    for unit_id in mandatory:
        if unit_id in current:
            continue
        try:
            made.append(create_enrolment(principal, {**data, "learner_id": learner_id, "unit_id": unit_id}))
        except AlreadyExists:
            continue  # enrolled by a concurrent request since ``current`` was read: kept as it is, like the others
    return made
