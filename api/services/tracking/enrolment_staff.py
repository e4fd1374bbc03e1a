"""An enrolment's staff as a sub-resource (/v1/enrolments/{id}/staff): the assessors and IQAs assigned to it, listed,
added and removed one at a time, without the If-Match a whole-enrolment PATCH needs. Each change is a new version of
the enrolment (its ETag and updated_at move, so sync clients see it), audited and told to the feed."""

import uuid

from api.errors import NotFound
from api.models import Enrolment, EnrolmentStaff
from api.models.base import utcnow
from api.services.common import audit
from api.services.common.access import Principal, can_manage_learners, require, visible_enrolment
from api.services.sync import feed
from api.services.tracking.enrolments import staff_of_centre


def staff_body(enrolment_id, account_id, role: str) -> dict:
    return {"account_id": str(account_id), "role": role,
            "href": f"/v1/enrolments/{enrolment_id}/staff/{account_id}?role={role}"}


def list_staff(principal: Principal, enrolment_id: uuid.UUID) -> list[dict]:
    """Who is assigned to the enrolment, by role then account id."""
    enrolment = visible_enrolment(principal, enrolment_id)
    rows = EnrolmentStaff.select().where(EnrolmentStaff.enrolment == enrolment.id)
    return [staff_body(enrolment.id, r.account_id, r.role)
            for r in sorted(rows, key=lambda r: (r.role, str(r.account_id)))]


def add_staff(principal: Principal, enrolment_id: uuid.UUID, data: dict) -> tuple[dict, bool]:
    """Assign an assessor or IQA of the enrolment's centre; (the assignment, whether it is new). Assigning someone
    already assigned changes nothing."""
    enrolment = visible_enrolment(principal, enrolment_id)
    _require_manager(principal, enrolment)
    [account_id] = staff_of_centre(enrolment.centre_id, [data["account_id"]], data["role"], "account_id")
    new = (EnrolmentStaff.insert(enrolment=enrolment.id, account=account_id, centre=enrolment.centre_id,
                                 role=data["role"]).on_conflict_ignore().as_rowcount().execute()) == 1
    if new:  # the key decides, so of two requests assigning the same person at once only one changes anything
        _changed(principal, enrolment, "enrolment.staff_added", account_id, data["role"])
    return staff_body(enrolment.id, account_id, data["role"]), new


def remove_staff(principal: Principal, enrolment_id: uuid.UUID, account_id: uuid.UUID, role: str | None) -> None:
    """Unassign an account from the enrolment (from ``role``, or from every role it holds there); NotFound if it
    holds none (whoever asks: whoever may see the enrolment may see its staff)."""
    enrolment = visible_enrolment(principal, enrolment_id)
    held = [EnrolmentStaff.enrolment == enrolment.id, EnrolmentStaff.account == account_id]
    held += [EnrolmentStaff.role == role] if role is not None else []
    if not EnrolmentStaff.select().where(*held).exists():
        raise NotFound(f"account {account_id} is not {'an ' + role if role else 'staff'} on enrolment {enrolment.id}")
    _require_manager(principal, enrolment)
    if not EnrolmentStaff.delete().where(*held).execute():  # unassigned by someone else meanwhile
        raise NotFound(f"account {account_id} is not {'an ' + role if role else 'staff'} on enrolment {enrolment.id}")
    _changed(principal, enrolment, "enrolment.staff_removed", account_id, role)


def _require_manager(principal: Principal, enrolment: Enrolment) -> None:
    require(can_manage_learners(principal, enrolment.centre_id), "only the centre's admins assign an enrolment's staff")


def _changed(principal: Principal, enrolment: Enrolment, action: str, account_id, role: str | None) -> None:
    """A new version of the enrolment, audited, and an enrolment.updated event."""
    Enrolment.update(row_version=Enrolment.row_version + 1, updated_at=utcnow()).where(
        Enrolment.id == enrolment.id).execute()
    audit.record(principal, action, "enrolment", enrolment.id, centre_id=enrolment.centre_id,
                 after={"account_id": str(account_id), "role": role})
    feed.append([feed.enrolment_event("enrolment.updated", audit.actor_of(principal), enrolment)])
