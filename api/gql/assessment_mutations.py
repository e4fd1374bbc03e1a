"""GraphQL mutations for assessment: evidence, claims, decisions, countersignature and IQA (sampling plans, samples,
verdicts), through the same services and body schemas as REST."""

import uuid
from typing import Annotated

import strawberry

from api.gql.content_types import Info
from api.gql.failures import result_union, run_write
from api.gql.mutation_inputs import (
    CreateSamplingPlanInput,
    RecordDecisionInput,
    RecordIqaVerdictInput,
    SubmitEvidenceInput,
    body_of,
    json_value,
)
from api.gql.records import as_type
from api.gql.tracking_types import Decision, DecisionBatch, Evidence, IqaSample, SamplingPlan
from api.inputs import bodies, load_body
from api.services.tracking import decisions, evidence, iqa

EvidenceResult = result_union("EvidenceResult", Evidence)
DecisionResult = result_union("DecisionResult", Decision)
DecisionBatchResult = result_union("DecisionBatchResult", DecisionBatch)
SamplingPlanResult = result_union("SamplingPlanResult", SamplingPlan)
IqaSampleResult = result_union("IqaSampleResult", IqaSample)


@strawberry.type
class AssessmentMutation:
    @strawberry.mutation(description="Record evidence for an enrolment, optionally claiming criteria at once.")
    def submit_evidence(self, info: Info, enrolment_id: uuid.UUID, input: SubmitEvidenceInput) -> EvidenceResult:
        def write(principal):
            return evidence.submit_evidence(principal, enrolment_id, load_body(bodies.EvidenceCreate(), body_of(input)))

        return run_write(info, write, lambda item: as_type(Evidence, evidence.evidence_body(item)))

    @strawberry.mutation(description="Claim criteria of the enrolment's pinned unit version for a piece of evidence.")
    def claim_criteria(self, info: Info, evidence_id: uuid.UUID, criterion_ids: list[uuid.UUID]) -> EvidenceResult:
        def write(principal):
            wanted = load_body(bodies.ClaimCreate(), {"criterion_ids": json_value(criterion_ids)})["criterion_ids"]
            evidence.claim_criteria(principal, evidence_id, wanted)
            return evidence.visible_evidence(principal, evidence_id)[0]

        return run_write(info, write, lambda item: as_type(Evidence, evidence.evidence_body(item)))

    @strawberry.mutation(description="Record an assessor's decision on one criterion (append-only).")
    def record_decision(self, info: Info, enrolment_id: uuid.UUID, input: RecordDecisionInput) -> DecisionResult:
        def write(principal):
            data = load_body(bodies.DecisionCreate(), body_of(input))
            return decisions.record_decision(principal, enrolment_id, data)

        return run_write(info, write, lambda d: as_type(Decision, decisions.decision_body(d)))

    @strawberry.mutation(description="Record decisions on several criteria of one enrolment at once: all or none, "
                                     "each under every rule of recordDecision.")
    def record_decisions(self, info: Info, enrolment_id: uuid.UUID,
                         items: Annotated[list[RecordDecisionInput], strawberry.argument(name="decisions")]
                         ) -> DecisionBatchResult:
        def write(principal):
            data = load_body(bodies.DecisionBatchCreate(), {"decisions": [body_of(item) for item in items]})
            return decisions.record_decisions(principal, enrolment_id, data["decisions"])

        return run_write(info, write, lambda recorded: as_type(
            DecisionBatch, {"items": [decisions.decision_body(d) for d in recorded]}))

    @strawberry.mutation(description="A qualified assessor countersigns a trainee's decision, which then takes effect.")
    def countersign_decision(self, info: Info, decision_id: uuid.UUID) -> DecisionResult:
        def write(principal):
            decisions.countersign(principal, decision_id)
            return decisions.get_decision(principal, decision_id)

        return run_write(info, write, lambda body: as_type(Decision, body))

    @strawberry.mutation(description="Set an IQA sampling plan for an assessor at a centre (the centre's IQAs or "
                                     "admins).")
    def create_sampling_plan(self, info: Info, input: CreateSamplingPlanInput) -> SamplingPlanResult:
        return run_write(info, lambda principal: iqa.create_plan(principal, load_body(bodies.PlanCreate(),
                                                                                      body_of(input))),
                         lambda plan: as_type(SamplingPlan, iqa.plan_body(plan)))

    @strawberry.mutation(description="An IQA of the centre samples a decision for verification (once per decision; "
                                     "never one they made or countersigned).")
    def sample_decision(self, info: Info, decision_id: uuid.UUID) -> IqaSampleResult:
        def write(principal):
            data = load_body(bodies.SampleCreate(), {"decision_id": str(decision_id)})
            return iqa.take_sample(principal, data["decision_id"])

        return run_write(info, write, lambda sample: as_type(IqaSample, iqa.sample_body(sample)))

    @strawberry.mutation(description="Record the IQA verdict on a sample (once; never changed).")
    def record_iqa_verdict(self, info: Info, sample_id: uuid.UUID, input: RecordIqaVerdictInput) -> IqaSampleResult:
        def write(principal):
            iqa.record_verdict(principal, sample_id, load_body(bodies.VerdictCreate(), body_of(input)))
            return iqa.get_sample(principal, sample_id)

        return run_write(info, write, lambda body: as_type(IqaSample, body))
