"""GraphQL types for tracking: centres, learners, enrolments, evidence, decisions, IQA, progress and audit. Values
are the REST bodies of api.services; nested fields are batch-loaded per level (api.gql.context)."""

import datetime as dt
import enum
import uuid

import strawberry
from strawberry.scalars import JSON

from api.gql.apprenticeship_tracking import Apprenticeship, learner_apprenticeships
from api.gql.args import or_none, page_size
from api.gql.content_types import AssessmentCriterion, Info, LearningOutcome, Unit
from api.gql.enums import AssessorStatus, DecisionOutcome, EnrolmentStatus, LearnerStatus, StaffRole, Verdict
from api.gql.evidence_types import EvidenceReference
from api.gql.records import Connection, connection_from_list
from api.services.tracking import progress


@strawberry.type
class CriterionProgress:
    criterion_id: uuid.UUID
    number: str
    claimed: bool
    claims: int
    decision_id: uuid.UUID | None
    outcome: DecisionOutcome | None
    met: bool
    verified: bool
    reopened: bool
    iqa_outstanding: bool
    awaiting_countersignature: bool


@strawberry.type
class OutcomeProgress:
    outcome_id: uuid.UUID
    number: str
    claimed: int
    met: int
    verified: int
    reopened: int
    iqa_outstanding: int
    awaiting_countersignature: int
    complete: bool
    criteria: list[CriterionProgress]


@strawberry.type(description="GET /v1/enrolments/{id}/progress as a graph.")
class EnrolmentProgress:
    enrolment_id: uuid.UUID
    learner_id: uuid.UUID
    unit_id: uuid.UUID
    unit_code: str
    unit_version_id: uuid.UUID
    status: EnrolmentStatus
    criteria: int
    claimed: int
    met: int
    verified: int
    reopened: int
    iqa_outstanding: int
    awaiting_countersignature: int
    complete: bool
    percent_met: float
    learning_outcomes: list[OutcomeProgress]


@strawberry.type
class LearnerProgress:
    learner_id: uuid.UUID
    enrolments: list[EnrolmentProgress]
    units_complete: int
    units: int


@strawberry.type
class ProgressRollup:
    enrolments: int
    complete: int
    criteria: int
    claimed: int
    met: int
    verified: int
    reopened: int
    iqa_outstanding: int
    awaiting_countersignature: int


@strawberry.type
class AssessorProgress(ProgressRollup):
    assessor_id: uuid.UUID


@strawberry.type
class CentreProgress(ProgressRollup):
    centre_id: uuid.UUID
    by_assessor: list[AssessorProgress]


@strawberry.type
class QualificationUnitProgress:
    unit_id: uuid.UUID
    enrolment_id: uuid.UUID | None
    complete: bool
    credit_value: int | None


@strawberry.type
class GroupProgress:
    group_id: uuid.UUID
    name: str
    mandatory: bool
    min_units: int | None
    min_credits: int | None
    units_complete: int
    credits_complete: int
    satisfied: bool
    units: list[QualificationUnitProgress]


@strawberry.type
class QualificationProgress:
    learner_id: uuid.UUID
    qualification_id: uuid.UUID
    groups: list[GroupProgress]
    credits_earned: int
    min_credits: int | None
    achieved: bool


@strawberry.type
class Centre:
    id: uuid.UUID
    code: str
    name: str

    @strawberry.field(description="Cohort progress: totals and per assessor (the centre's staff and clients).")
    def progress(self, parent: strawberry.Parent[dict], info: Info) -> CentreProgress | None:
        return or_none(lambda: progress.centre_progress(info.context.principal, uuid.UUID(parent["id"])))


@strawberry.type
class ExternalId:
    system: str
    id: str


@strawberry.type
class Claim:
    id: uuid.UUID
    criterion_id: uuid.UUID


@strawberry.type
class Evidence:
    id: uuid.UUID
    enrolment_id: uuid.UUID
    type: str
    title: str
    description: str | None
    date: dt.date
    reference: EvidenceReference
    authenticity_declared: bool
    submitted_by: str
    created_at: dt.datetime
    updated_at: dt.datetime = strawberry.field(description="When it was submitted or last given a claim.")
    claims: list[Claim]


@strawberry.type
class Decision:
    id: uuid.UUID
    enrolment_id: uuid.UUID
    criterion_id: uuid.UUID
    sequence: int
    outcome: DecisionOutcome
    feedback: str
    reason: str | None
    supersedes: uuid.UUID | None
    assessor_id: uuid.UUID
    assessor_status: AssessorStatus
    evidence_ids: list[uuid.UUID]
    decided_at: dt.datetime
    updated_at: dt.datetime = strawberry.field(
        description="When it was made, or last countersigned, sampled or given a verdict.")
    countersigned_by: uuid.UUID | None
    countersigned_at: dt.datetime | None
    carried_from: uuid.UUID | None = strawberry.field(
        description="The decision this one was carried over from when the learner moved to a new unit version.")
    in_effect: bool


@strawberry.type(description="Decisions recorded together on one enrolment, in the order they were sent.")
class DecisionBatch:
    items: list[Decision]


@strawberry.type
class IqaVerdict:
    verdict: Verdict
    actions: str | None
    iqa_id: uuid.UUID
    recorded_at: dt.datetime


@strawberry.type
class IqaSample:
    id: uuid.UUID
    decision_id: uuid.UUID
    enrolment_id: uuid.UUID
    iqa_id: uuid.UUID
    created_at: dt.datetime
    verdict: IqaVerdict | None


@strawberry.type(description="How many of an assessor's decisions at a centre IQA samples.")
class SamplingPlan:
    id: uuid.UUID
    centre_id: uuid.UUID
    assessor_id: uuid.UUID
    rate: float
    assessor_is_new: bool
    effective_rate: float = strawberry.field(description="1 while the assessor is new, else the rate.")
    created_at: dt.datetime


@strawberry.type(description="A criterion of the enrolment's pinned unit version with the learner's state and the "
                             "decisions on it, side by side.")
class CriterionAssessment:
    criterion: AssessmentCriterion
    progress: CriterionProgress
    decisions: list[Decision]


@strawberry.type
class OutcomeAssessment:
    outcome: LearningOutcome
    progress: OutcomeProgress
    criteria: list[CriterionAssessment]


@strawberry.type(description="An account assigned to an enrolment, in one role.")
class StaffAssignment:
    account_id: uuid.UUID
    role: StaffRole


@strawberry.type
class Enrolment:
    id: uuid.UUID
    learner_id: uuid.UUID
    centre_id: uuid.UUID
    unit_id: uuid.UUID
    unit_version_id: uuid.UUID
    status: EnrolmentStatus
    start_date: dt.date
    planned_end_date: dt.date | None
    assessor_ids: list[uuid.UUID]
    iqa_ids: list[uuid.UUID]
    created_at: dt.datetime
    updated_at: dt.datetime

    @strawberry.field(description="The enrolment's current version (REST's ETag), which updateEnrolment and "
                                  "withdrawEnrolment require: no change overwrites one you have not seen.")
    def etag(self, parent: strawberry.Parent[dict], info: Info) -> str:
        return parent.get("etag") or info.context.load("enrolment", "etag", parent)

    @strawberry.field
    def learner(self, parent: strawberry.Parent[dict], info: Info) -> "Learner | None":
        return info.context.load("enrolment", "learner", parent)

    @strawberry.field(description="The unit version this enrolment is pinned to (readable by whoever may read the "
                                  "enrolment, even after the version is withdrawn).")
    def unit_version(self, parent: strawberry.Parent[dict], info: Info) -> Unit:
        return info.context.load("enrolment", "unit_version", parent)

    @strawberry.field
    def progress(self, parent: strawberry.Parent[dict], info: Info) -> EnrolmentProgress:
        return info.context.load("enrolment", "progress", parent)

    @strawberry.field
    def evidence(self, parent: strawberry.Parent[dict], info: Info) -> list[Evidence]:
        return info.context.load("enrolment", "evidence", parent)

    @strawberry.field
    def decisions(self, parent: strawberry.Parent[dict], info: Info) -> list[Decision]:
        return info.context.load("enrolment", "decisions", parent)

    @strawberry.field
    def iqa_samples(self, parent: strawberry.Parent[dict], info: Info) -> list[IqaSample]:
        return info.context.load("enrolment", "iqa_samples", parent)

    @strawberry.field(description="The assessors and IQAs assigned (REST: GET /v1/enrolments/{id}/staff).")
    def staff(self, parent: strawberry.Parent[dict], info: Info) -> list[StaffAssignment]:
        from api.services.tracking import enrolment_staff

        return [{**s, "role": StaffRole(s["role"])}
                for s in enrolment_staff.list_staff(info.context.principal, uuid.UUID(str(parent["id"])))]

    @strawberry.field(description="The pinned unit tree with progress and decisions beside each criterion.")
    def assessment(self, parent: strawberry.Parent[dict], info: Info) -> list[OutcomeAssessment]:
        document = info.context.load("enrolment", "unit_version", parent)
        state = info.context.load("enrolment", "progress", parent)
        by_criterion: dict[str, list] = {}
        for decision in info.context.load("enrolment", "decisions", parent):
            by_criterion.setdefault(decision["criterion_id"], []).append(decision)
        progress_by_outcome = {o["outcome_id"]: o for o in state["learning_outcomes"]}
        tree = []
        for outcome in document["learning_outcomes"]:
            outcome_state = progress_by_outcome[outcome["id"]]
            criterion_state = {c["criterion_id"]: c for c in outcome_state["criteria"]}
            tree.append({"outcome": outcome, "progress": outcome_state, "criteria": [
                {"criterion": c, "progress": criterion_state[c["id"]], "decisions": by_criterion.get(c["id"], [])}
                for c in outcome["criteria"]]})
        return tree


@strawberry.enum
class CredentialStatus(enum.Enum):
    ACTIVE = "active"
    REVOKED = "revoked"


@strawberry.enum(description="What a credential records: a unit completed, or a qualification achieved.")
class CredentialAchievement(enum.Enum):
    UNIT = "unit"
    QUALIFICATION = "qualification"


@strawberry.type(description="An Open Badges 3.0 credential issued when an enrolment became complete, or when the "
                             "learner met a qualification's rules of combination.")
class Credential:
    id: uuid.UUID
    href: str
    achievement: CredentialAchievement
    enrolment_id: uuid.UUID | None = strawberry.field(description="The completed enrolment (a unit's credential).")
    unit_version_id: uuid.UUID | None = strawberry.field(
        description="The unit version the enrolment was on when it completed (a unit's credential).")
    qualification_id: uuid.UUID | None = strawberry.field(
        description="The qualification achieved (a qualification's credential).")
    issued_at: dt.datetime
    revoked_at: dt.datetime | None
    status: CredentialStatus
    credential: JSON = strawberry.field(description="The signed OpenBadgeCredential, as GET /v1/credentials/{id} "
                                                    "serves it (anyone may fetch and verify it).")


@strawberry.type
class Learner:
    id: uuid.UUID
    centre_id: uuid.UUID
    uln: str
    given_name: str
    family_name: str
    email: str | None
    date_of_birth: dt.date | None
    status: LearnerStatus
    pseudonymised: bool
    external_ids: list[ExternalId]
    created_at: dt.datetime
    updated_at: dt.datetime

    @strawberry.field(description="The learner's current version (REST's ETag), which updateLearner requires: no "
                                  "change overwrites one you have not seen.")
    def etag(self, parent: strawberry.Parent[dict], info: Info) -> str:
        return parent.get("etag") or info.context.load("learner", "etag", parent)

    @strawberry.field(description="The learner's enrolments, oldest first.")
    def enrolments(self, parent: strawberry.Parent[dict], info: Info, first: int | None = None,
                   after: str | None = None) -> Connection[Enrolment]:
        items = info.context.load("learner", "enrolments", parent)
        return connection_from_list(items, lambda e: e["id"], page_size(info, first), after)

    @strawberry.field(description="The learner's apprenticeships (REST's GET /v1/learners/{id}/apprenticeships).")
    def apprenticeships(self, parent: strawberry.Parent[dict], info: Info, first: int | None = None,
                        after: str | None = None) -> Connection[Apprenticeship]:
        return learner_apprenticeships(info, uuid.UUID(str(parent["id"])), first, after)

    @strawberry.field(description="Every credential issued to the learner (revoked ones too), newest first.")
    def credentials(self, parent: strawberry.Parent[dict], info: Info) -> list[Credential]:
        return [{**c, "status": CredentialStatus(c["status"]), "achievement": CredentialAchievement(c["achievement"])}
                for c in info.context.load("learner", "credentials", parent)]

    @strawberry.field
    def progress(self, parent: strawberry.Parent[dict], info: Info) -> LearnerProgress:
        items = info.context.load("learner", "enrolments", parent)
        documents = [info.context.load("enrolment", "progress", e) for e in items]
        return {"learner_id": parent["id"], "enrolments": documents,
                "units_complete": sum(1 for d in documents if d["complete"]), "units": len(documents)}


@strawberry.type
class AuditEvent:
    id: uuid.UUID
    occurred_at: dt.datetime
    actor: str
    acting_client: str | None = strawberry.field(
        description="The client that acted for the actor (client:<id>), when a client acted for a person.")
    action: str
    subject_type: str
    subject_id: str
    centre_id: uuid.UUID | None
    request_id: str | None
    before: JSON | None
    after: JSON | None
