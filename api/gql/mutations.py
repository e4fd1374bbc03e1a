"""GraphQL mutations for the tracking writes. Each one validates its input with the REST body schema, calls the same
service as REST inside one transaction (nothing half-written), and returns expected failures as union members:
the same ApiError a REST client gets as problem+json becomes ValidationError, NotFound, Forbidden, Conflict or
AuthenticationRequired here."""

import dataclasses
import enum
import uuid
from collections.abc import Callable
from datetime import date
from typing import Annotated

import strawberry

from api.db import write_transaction
from api.errors import ApiError
from api.gql.content_types import Info
from api.gql.enums import DecisionOutcome, Verdict
from api.gql.records import as_type
from api.gql.tracking_types import Decision, Enrolment, Evidence, IqaSample
from api.inputs import bodies, load_body
from api.services.common.access import require_authenticated
from api.services.tracking import decisions, enrolments, evidence, iqa


@strawberry.type
class FieldError:
    field: str
    messages: list[str]


@strawberry.interface(description="An expected failure: what went wrong, in words for a person.")
class Problem:
    message: str
    http_status: int = strawberry.field(description="The HTTP status REST answers for the same failure.")


@strawberry.type(description="The input broke a rule (REST 400/422); `fields` names each bad field.")
class ValidationError(Problem):
    fields: list[FieldError]


@strawberry.type(description="The record does not exist or is not visible to you (REST 404).")
class NotFound(Problem):
    pass


@strawberry.type(description="You can see the record but may not do this to it (REST 403).")
class Forbidden(Problem):
    pass


@strawberry.type(description="The record's state does not allow this, e.g. already countersigned, or the write would "
                             "duplicate a record (REST 409). For a duplicate, `existingId` and `existingHref` name the "
                             "record that exists and `fields` the field whose value it holds.")
class Conflict(Problem):
    existing_id: strawberry.ID | None = None
    existing_href: str | None = None
    fields: list[FieldError] = strawberry.field(default_factory=list)


@strawberry.type(description="This needs a bearer token (REST 401).")
class AuthenticationRequired(Problem):
    pass


def _problem(error: ApiError) -> Problem:
    """The union member for an ApiError, chosen by its HTTP status."""
    kinds = {401: AuthenticationRequired, 403: Forbidden, 404: NotFound}
    kind = kinds.get(error.status)
    if kind is not None:
        return kind(message=error.detail, http_status=error.status)
    fields = [FieldError(field=name, messages=list(messages)) for name, messages in (error.errors or {}).items()]
    if error.status == 409:
        return Conflict(message=error.detail, http_status=error.status, fields=fields,
                        existing_id=error.extensions.get("existing_id"),
                        existing_href=error.extensions.get("existing_href"))
    return ValidationError(message=error.detail, http_status=error.status, fields=fields)


def _json_value(value):
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    return value


def _body(data) -> dict:
    """A strawberry input as the JSON body REST would receive (omitted fields left out)."""
    return {f.name: _json_value(getattr(data, f.name)) for f in dataclasses.fields(data)
            if getattr(data, f.name) is not strawberry.UNSET}


def _write(info: Info, write: Callable, present: Callable):
    """Run ``write(principal)`` in one transaction and ``present`` its result, or the Problem for an ApiError (the
    transaction is rolled back first)."""
    principal = info.context.principal
    try:
        require_authenticated(principal)  # as in REST, a missing token is reported before a bad input
        with write_transaction():
            return present(write(principal))
    except ApiError as error:
        return _problem(error)


@strawberry.input(description="As the body of POST /v1/enrolments.")
class EnrolLearnerInput:
    learner_id: uuid.UUID
    unit_id: uuid.UUID
    start_date: date
    planned_end_date: date | None = strawberry.UNSET
    assessor_ids: list[uuid.UUID] | None = strawberry.UNSET
    iqa_ids: list[uuid.UUID] | None = strawberry.UNSET


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


@strawberry.input(description="As the body of POST /v1/iqa/samples/{id}/verdict.")
class RecordIqaVerdictInput:
    verdict: Verdict
    actions: str | None = strawberry.UNSET


def _result(name: str, success: type):
    return Annotated[success | ValidationError | NotFound | Forbidden | Conflict | AuthenticationRequired,
                     strawberry.union(name)]


EnrolLearnerResult = _result("EnrolLearnerResult", Enrolment)
EvidenceResult = _result("EvidenceResult", Evidence)
DecisionResult = _result("DecisionResult", Decision)
IqaSampleResult = _result("IqaSampleResult", IqaSample)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Enrol a learner on a unit, pinned to its current published version.")
    def enrol_learner(self, info: Info, input: EnrolLearnerInput) -> EnrolLearnerResult:
        def write(principal):
            return enrolments.create_enrolment(principal, load_body(bodies.EnrolmentCreate(), _body(input)))

        return _write(info, write, lambda e: as_type(Enrolment, enrolments.enrolment_body(e)))

    @strawberry.mutation(description="Record evidence for an enrolment, optionally claiming criteria at once.")
    def submit_evidence(self, info: Info, enrolment_id: uuid.UUID, input: SubmitEvidenceInput) -> EvidenceResult:
        def write(principal):
            return evidence.submit_evidence(principal, enrolment_id, load_body(bodies.EvidenceCreate(), _body(input)))

        return _write(info, write, lambda item: as_type(Evidence, evidence.evidence_body(item)))

    @strawberry.mutation(description="Claim criteria of the enrolment's pinned unit version for a piece of evidence.")
    def claim_criteria(self, info: Info, evidence_id: uuid.UUID, criterion_ids: list[uuid.UUID]) -> EvidenceResult:
        def write(principal):
            wanted = load_body(bodies.ClaimCreate(), {"criterion_ids": _json_value(criterion_ids)})["criterion_ids"]
            evidence.claim_criteria(principal, evidence_id, wanted)
            return evidence.visible_evidence(principal, evidence_id)[0]

        return _write(info, write, lambda item: as_type(Evidence, evidence.evidence_body(item)))

    @strawberry.mutation(description="Record an assessor's decision on one criterion (append-only).")
    def record_decision(self, info: Info, enrolment_id: uuid.UUID, input: RecordDecisionInput) -> DecisionResult:
        def write(principal):
            return decisions.record_decision(principal, enrolment_id,
                                             load_body(bodies.DecisionCreate(), _body(input)))

        return _write(info, write, lambda d: as_type(Decision, decisions.decision_body(d)))

    @strawberry.mutation(description="A qualified assessor countersigns a trainee's decision, which then takes effect.")
    def countersign_decision(self, info: Info, decision_id: uuid.UUID) -> DecisionResult:
        def write(principal):
            decisions.countersign(principal, decision_id)
            return decisions.get_decision(principal, decision_id)

        return _write(info, write, lambda body: as_type(Decision, body))

    @strawberry.mutation(description="Record the IQA verdict on a sample (once; never changed).")
    def record_iqa_verdict(self, info: Info, sample_id: uuid.UUID, input: RecordIqaVerdictInput) -> IqaSampleResult:
        def write(principal):
            iqa.record_verdict(principal, sample_id, load_body(bodies.VerdictCreate(), _body(input)))
            return iqa.get_sample(principal, sample_id)

        return _write(info, write, lambda body: as_type(IqaSample, body))
