"""GraphQL mutation inputs. Each mirrors the JSON body of a REST write and is turned into that body (``body_of``) to be
checked by the same marshmallow schema, so both edges accept and refuse exactly the same values."""

import dataclasses
import enum
import uuid
from datetime import date

import strawberry

from api.gql.enums import DecisionOutcome, EnrolmentStatus, Verdict


def json_value(value):
    """``value`` as it would appear in a JSON body (ids and dates as strings, enums as REST's value)."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list):
        return [json_value(v) for v in value]
    if dataclasses.is_dataclass(value):
        return body_of(value)
    return value


def body_of(data) -> dict:
    """A strawberry input as the JSON body REST would receive (omitted fields left out; null kept as null)."""
    return {f.name: json_value(getattr(data, f.name)) for f in dataclasses.fields(data)
            if getattr(data, f.name) is not strawberry.UNSET}


@strawberry.input(description="A learner's id in another system (an LMS, an e-portfolio): unique per centre.")
class ExternalIdInput:
    system: str
    id: str


@strawberry.input(description="As the body of POST /v1/learners.")
class CreateLearnerInput:
    centre_id: uuid.UUID
    uln: str = strawberry.field(description="The 10-digit Unique Learner Number (its check digit is verified).")
    given_name: str
    family_name: str
    email: str | None = strawberry.UNSET
    date_of_birth: date | None = strawberry.UNSET
    external_ids: list[ExternalIdInput] | None = strawberry.UNSET


@strawberry.input(description="As the body of PATCH /v1/learners/{id}: only the fields given change (null clears an "
                              "optional one); externalIds, when given, replaces the learner's list.")
class UpdateLearnerInput:
    given_name: str | None = strawberry.UNSET
    family_name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    date_of_birth: date | None = strawberry.UNSET
    external_ids: list[ExternalIdInput] | None = strawberry.UNSET


@strawberry.input(description="As the body of POST /v1/enrolments.")
class EnrolLearnerInput:
    learner_id: uuid.UUID
    unit_id: uuid.UUID
    start_date: date
    planned_end_date: date | None = strawberry.UNSET
    assessor_ids: list[uuid.UUID] | None = strawberry.UNSET
    iqa_ids: list[uuid.UUID] | None = strawberry.UNSET


@strawberry.input(description="As the body of POST /v1/learners/{id}/qualifications/{id}/enrolments.")
class EnrolOnQualificationInput:
    start_date: date
    planned_end_date: date | None = strawberry.UNSET
    assessor_ids: list[uuid.UUID] | None = strawberry.UNSET
    iqa_ids: list[uuid.UUID] | None = strawberry.UNSET


@strawberry.input(description="As the body of PATCH /v1/enrolments/{id}: only the fields given change.")
class UpdateEnrolmentInput:
    status: EnrolmentStatus | None = strawberry.UNSET
    start_date: date | None = strawberry.UNSET
    planned_end_date: date | None = strawberry.UNSET
    assessor_ids: list[uuid.UUID] | None = strawberry.UNSET
    iqa_ids: list[uuid.UUID] | None = strawberry.UNSET


@strawberry.input(description="As the body of POST /v1/enrolment-migrations.")
class MigrateCohortInput:
    unit_id: uuid.UUID
    centre_id: uuid.UUID | None = strawberry.UNSET
    enrolment_ids: list[uuid.UUID] | None = strawberry.UNSET
    to_version: int | None = strawberry.field(default=strawberry.UNSET, description=(
        "The published version to move to; the unit's current one when omitted."))
    dry_run: bool | None = strawberry.field(default=strawberry.UNSET, description=(
        "Say what the move would do, and write nothing."))


@strawberry.input(description="As the body of POST /v1/enrolments/{id}/evidence.")
class SubmitEvidenceInput:
    type: str
    title: str
    date: date
    authenticity_declared: bool
    description: str | None = strawberry.UNSET
    reference_uri: str | None = strawberry.UNSET
    sha256: str | None = strawberry.UNSET
    criterion_ids: list[uuid.UUID] | None = strawberry.UNSET


@strawberry.input(description="As the body of POST /v1/enrolments/{id}/decisions.")
class RecordDecisionInput:
    criterion_id: uuid.UUID
    outcome: DecisionOutcome
    feedback: str
    reason: str | None = strawberry.UNSET
    evidence_ids: list[uuid.UUID] | None = strawberry.UNSET
    expected_sequence: int | None = strawberry.UNSET


@strawberry.input(description="As the body of POST /v1/iqa/plans.")
class CreateSamplingPlanInput:
    centre_id: uuid.UUID
    assessor_id: uuid.UUID
    rate: float = strawberry.field(description="The share of the assessor's decisions to sample, 0 to 1.")
    assessor_is_new: bool | None = strawberry.field(default=strawberry.UNSET, description=(
        "A new assessor has every decision sampled whatever the rate."))


@strawberry.input(description="As the body of POST /v1/iqa/samples/{id}/verdict.")
class RecordIqaVerdictInput:
    verdict: Verdict
    actions: str | None = strawberry.UNSET
