"""GraphQL for an enrolment's staff as a sub-resource (REST /v1/enrolments/{id}/staff): the `staff` field of an
enrolment, and assigning or unassigning one assessor or IQA without an etag."""

import uuid

import strawberry

from api.gql.content_types import Info
from api.gql.enums import StaffRole
from api.gql.failures import run_write
from api.gql.learner_mutations import EnrolmentResult, enrolment_record
from api.inputs import bodies, load_body
from api.models import Enrolment
from api.services.tracking import enrolment_staff


@strawberry.type
class StaffMutation:
    @strawberry.mutation(description="Assign an assessor or IQA of the centre to an enrolment (already assigned: "
                                     "nothing changes). No etag needed: it changes nothing else.")
    def assign_enrolment_staff(self, info: Info, enrolment_id: uuid.UUID, account_id: uuid.UUID,
                               role: StaffRole) -> EnrolmentResult:
        def write(principal):
            data = load_body(bodies.StaffAssign(), {"account_id": str(account_id), "role": role.value})
            enrolment_staff.add_staff(principal, enrolment_id, data)
            return Enrolment.get_by_id(enrolment_id)

        return run_write(info, write, enrolment_record)

    @strawberry.mutation(description="Unassign an account from an enrolment (from `role`, or from every role it "
                                     "holds there).")
    def unassign_enrolment_staff(self, info: Info, enrolment_id: uuid.UUID, account_id: uuid.UUID,
                                 role: StaffRole | None = None) -> EnrolmentResult:
        def write(principal):
            enrolment_staff.remove_staff(principal, enrolment_id, account_id, role.value if role else None)
            return Enrolment.get_by_id(enrolment_id)

        return run_write(info, write, enrolment_record)
