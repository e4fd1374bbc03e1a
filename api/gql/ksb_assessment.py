"""GraphQL over KSBs assessed directly: evidence claimed for an apprenticeship's KSBs, decisions on a KSB with their
countersignatures, IQA samples and verdicts, and the writes REST offers for them, through the same services and body
schemas."""

import datetime as dt
import uuid

import strawberry

from api.gql.args import or_none, page_size, validated
from api.gql.content_types import Info
from api.gql.enums import DecisionOutcome
from api.gql.evidence_types import EvidenceReference
from api.gql.failures import result_union, run_write
from api.gql.mutation_inputs import RecordIqaVerdictInput, body_of
from api.gql.records import as_type, connection_from_page
from api.inputs import bodies, load_body
from api.inputs.params import KSB_DECISION_LIST_ARGS, KSB_EVIDENCE_LIST_ARGS
from api.services.apprenticeships import ksb_decisions, ksb_evidence


@strawberry.type(description="Evidence claimed for KSBs of an apprenticeship's standard version (REST's "
                             "GET /v1/ksb-evidence/{id}).")
class KsbEvidence:
    id: uuid.UUID
    apprenticeship_id: uuid.UUID
    learner_id: uuid.UUID
    type: str
    title: str
    description: str | None
    date: dt.date
    reference: EvidenceReference
    authenticity_declared: bool
    submitted_by: str
    created_at: dt.datetime
    ksb_codes: list[str]
    href: str


@strawberry.type(description="An IQA's sample of a KSB decision and, once recorded, its verdict.")
class KsbDecisionIqa:
    sampled_by: uuid.UUID
    sampled_at: dt.datetime
    verdict: str | None
    actions: str | None
    verdict_by: uuid.UUID | None
    verdict_at: dt.datetime | None


@strawberry.type(description="An assessor's decision on one KSB of an apprenticeship (REST's "
                             "GET /v1/ksb-decisions/{id}). in_effect: made by a qualified assessor, or countersigned.")
class KsbDecision:
    id: uuid.UUID
    apprenticeship_id: uuid.UUID
    learner_id: uuid.UUID
    ksb_code: str
    sequence: int
    outcome: str
    feedback: str
    reason: str | None
    supersedes: uuid.UUID | None
    assessor_id: uuid.UUID
    assessor_status: str
    evidence_ids: list[uuid.UUID]
    decided_at: dt.datetime
    updated_at: dt.datetime
    countersigned_by: uuid.UUID | None
    countersigned_at: dt.datetime | None
    in_effect: bool
    iqa: KsbDecisionIqa | None
    href: str


@strawberry.type(description="A KSB's state from decisions on it directly: the decision in effect (the latest by a "
                             "qualified assessor, or countersigned), whether it is met (and not reopened by IQA), "
                             "and how often evidence is claimed for it.")
class KsbDirectState:
    claims: int
    decision_id: uuid.UUID | None
    outcome: str | None
    met: bool
    verified: bool
    reopened: bool
    iqa_outstanding: bool
    awaiting_countersignature: bool


def evidence_connection(info: Info, apprenticeship_id: uuid.UUID, ksb_code: str | None, first: int | None,
                        after: str | None) -> dict:
    """A page of an apprenticeship's KSB evidence as a connection (Apprenticeship.ksbEvidence)."""
    args = validated(KSB_EVIDENCE_LIST_ARGS, ksb_code=ksb_code, after=after)
    return connection_from_page(ksb_evidence.list_evidence(info.context.principal, apprenticeship_id,
                                                           args.get("ksb_code"), args["cursor"],
                                                           page_size(info, first)))


def decision_list(info: Info, apprenticeship_id: uuid.UUID, ksb_code: str | None) -> list[dict]:
    """An apprenticeship's KSB decisions in the order made (Apprenticeship.ksbDecisions)."""
    args = validated(KSB_DECISION_LIST_ARGS, ksb_code=ksb_code)
    return ksb_decisions.list_decisions(info.context.principal, apprenticeship_id, args.get("ksb_code"))


@strawberry.type
class KsbAssessmentQuery:
    @strawberry.field(description="One piece of KSB evidence (null where REST answers 404).")
    def ksb_evidence(self, info: Info, id: uuid.UUID) -> KsbEvidence | None:
        return or_none(lambda: ksb_evidence.get_evidence(info.context.principal, id))

    @strawberry.field(description="One decision on a KSB (null where REST answers 404).")
    def ksb_decision(self, info: Info, id: uuid.UUID) -> KsbDecision | None:
        return or_none(lambda: ksb_decisions.get_decision(info.context.principal, id))


@strawberry.input(description="As the body of POST /v1/apprenticeships/{id}/ksb-evidence.")
class SubmitKsbEvidenceInput:
    type: str
    title: str
    date: dt.date
    authenticity_declared: bool
    ksb_codes: list[str]
    description: str | None = strawberry.UNSET
    reference_uri: str | None = strawberry.UNSET
    sha256: str | None = strawberry.UNSET


@strawberry.input(description="As the body of POST /v1/apprenticeships/{id}/ksb-decisions.")
class RecordKsbDecisionInput:
    ksb_code: str
    outcome: DecisionOutcome
    feedback: str
    reason: str | None = strawberry.UNSET
    evidence_ids: list[uuid.UUID] | None = strawberry.UNSET
    expected_sequence: int | None = strawberry.UNSET


KsbEvidenceResult = result_union("KsbEvidenceResult", KsbEvidence)
KsbDecisionResult = result_union("KsbDecisionResult", KsbDecision)


def _decision(body: dict) -> KsbDecision:
    return as_type(KsbDecision, body)


@strawberry.type
class KsbAssessmentMutation:
    @strawberry.mutation(description="Record evidence claimed for KSBs of an apprenticeship's standard version.")
    def submit_ksb_evidence(self, info: Info, apprenticeship_id: uuid.UUID,
                            input: SubmitKsbEvidenceInput) -> KsbEvidenceResult:
        return run_write(info, lambda principal: ksb_evidence.submit_evidence(
            principal, apprenticeship_id, load_body(bodies.KsbEvidenceCreate(), body_of(input))),
            lambda body: as_type(KsbEvidence, body))

    @strawberry.mutation(description="Record an assessor's decision on one KSB (append-only: a decision on a KSB "
                                     "that has one supersedes it, with a reason).")
    def record_ksb_decision(self, info: Info, apprenticeship_id: uuid.UUID,
                            input: RecordKsbDecisionInput) -> KsbDecisionResult:
        return run_write(info, lambda principal: ksb_decisions.record_decision(
            principal, apprenticeship_id, load_body(bodies.KsbDecisionCreate(), body_of(input))), _decision)

    @strawberry.mutation(description="Countersign a trainee assessor's KSB decision, which then takes effect.")
    def countersign_ksb_decision(self, info: Info, id: uuid.UUID) -> KsbDecisionResult:
        return run_write(info, lambda principal: ksb_decisions.countersign(principal, id), _decision)

    @strawberry.mutation(description="Sample a KSB decision for IQA verification (once).")
    def sample_ksb_decision(self, info: Info, id: uuid.UUID) -> KsbDecisionResult:
        return run_write(info, lambda principal: ksb_decisions.take_sample(principal, id), _decision)

    @strawberry.mutation(description="Record the IQA verdict on a sampled KSB decision (once; never changed).")
    def record_ksb_verdict(self, info: Info, id: uuid.UUID, input: RecordIqaVerdictInput) -> KsbDecisionResult:
        return run_write(info, lambda principal: ksb_decisions.record_verdict(
            principal, id, load_body(bodies.VerdictCreate(), body_of(input))), _decision)
