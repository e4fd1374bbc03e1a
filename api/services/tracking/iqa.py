"""Internal quality assurance: sampling plans per assessor, samples of decisions, and verdicts. An IQA never samples or
verifies a decision they made or countersigned; a not_confirmed verdict reopens the criterion until the assessor
records a new decision."""

import hashlib
import uuid

from peewee import IntegrityError

from api.errors import Conflict, ValidationFailed
from api.ids import new_id
from api.models import (
    Account,
    AccountCentre,
    Countersignature,
    Decision,
    Enrolment,
    IqaSample,
    IqaVerdict,
    SamplingPlan,
)
from api.models.base import iso_utc
from api.services.common import audit
from api.services.common.access import (
    Principal,
    can_set_sampling_plans,
    can_verify_decisions,
    require,
    visible_centre,
    visible_decision,
    visible_plan,
    visible_sample,
)
from api.services.tracking import stamps, tallies


def plan_body(plan: SamplingPlan) -> dict:
    return {"id": str(plan.id), "centre_id": str(plan.centre_id), "assessor_id": str(plan.assessor_id),
            "rate": plan.rate, "assessor_is_new": plan.assessor_is_new,
            "effective_rate": 1.0 if plan.assessor_is_new else plan.rate, "created_at": iso_utc(plan.created_at)}


def create_plan(principal: Principal, data: dict) -> SamplingPlan:
    """A sampling plan for one assessor at a centre, set by the centre's IQAs or admins."""
    centre = visible_centre(principal, data["centre_id"])
    require(can_set_sampling_plans(principal, centre.id), "sampling plans are set by the centre's IQAs or admins")
    assessor = (Account.select().join(AccountCentre)
                .where(Account.id == data["assessor_id"], AccountCentre.centre == centre.id).first())
    if assessor is None or "assessor" not in assessor.roles:
        raise ValidationFailed("not an assessor of this centre", errors={"assessor_id": ["not an assessor here"]})
    plan = SamplingPlan.create(id=new_id(), centre=centre.id, assessor=assessor.id, rate=data["rate"],
                               assessor_is_new=data.get("assessor_is_new", False),
                               created_by=audit.actor_of(principal))
    audit.record(principal, "iqa.plan_created", "sampling_plan", plan.id, centre_id=centre.id, after=plan_body(plan))
    return plan


def is_selected(decision_id, rate: float) -> bool:
    """Deterministic sampling: a decision is in the sample when its id hashes below the rate (stable across runs)."""
    bucket = int(hashlib.sha256(str(decision_id).encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return bucket < rate


def plan_candidates(principal: Principal, plan_id: uuid.UUID) -> list[str]:
    """Ids of the assessor's decisions at the plan's centre that the plan selects and that are not yet sampled."""
    plan = visible_plan(principal, plan_id)
    decisions = (Decision.select(Decision.id).join(Enrolment)
                 .where(Decision.assessor == plan.assessor_id, Enrolment.centre == plan.centre_id,
                        Decision.id.not_in(IqaSample.select(IqaSample.decision))).order_by(Decision.created_at))
    rate = 1.0 if plan.assessor_is_new else plan.rate
    return [str(d.id) for d in decisions if is_selected(d.id, rate)]


def sample_body(sample: IqaSample, verdict: IqaVerdict | None = None) -> dict:
    return {"id": str(sample.id), "decision_id": str(sample.decision_id), "enrolment_id": str(sample.enrolment_id),
            "iqa_id": str(sample.iqa_id), "created_at": iso_utc(sample.created_at),
            "verdict": None if verdict is None else {
                "verdict": verdict.verdict, "actions": verdict.actions, "iqa_id": str(verdict.iqa_id),
                "recorded_at": iso_utc(verdict.created_at)},
            "href": f"/v1/iqa/samples/{sample.id}"}


def _require_independent(principal: Principal, decision: Decision, doing: str) -> None:
    """Forbidden unless the IQA had no hand in the decision: they neither made nor countersigned it."""
    require(decision.assessor_id != principal.id, f"an IQA cannot {doing} a decision they made")
    countersigned = (Countersignature.select().where(Countersignature.decision == decision.id,
                                                     Countersignature.account == principal.id).exists())
    require(not countersigned, f"an IQA cannot {doing} a decision they countersigned")


def take_sample(principal: Principal, decision_id: uuid.UUID) -> IqaSample:
    """An IQA of the centre samples one decision for verification. A decision is sampled at most once."""
    decision, enrolment = visible_decision(principal, decision_id)
    require(can_verify_decisions(principal, enrolment.centre_id), "samples are taken by the centre's IQAs")
    _require_independent(principal, decision, "sample")
    with tallies.changing(enrolment.id, [decision.criterion_id], audit.actor_of(principal)) as events:
        try:
            sample = IqaSample.create(id=new_id(), decision=decision.id, enrolment=enrolment.id, iqa=principal.id)
        except IntegrityError:
            raise Conflict("this decision is already sampled") from None
        events.add("iqa.sampled", sample.id)
    audit.record(principal, "iqa.sampled", "iqa_sample", sample.id, centre_id=enrolment.centre_id,
                 after={"decision_id": str(decision.id)})
    stamps.touch(decision)
    return sample


def record_verdict(principal: Principal, sample_id: uuid.UUID, data: dict) -> IqaVerdict:
    """confirmed or not_confirmed (with actions) on a sampled decision; once per sample, never by its assessor."""
    sample, decision = visible_sample(principal, sample_id)
    centre_id = sample.enrolment.centre_id
    require(can_verify_decisions(principal, centre_id), "verdicts are recorded by the centre's IQAs")
    _require_independent(principal, decision, "verify")
    if data["verdict"] == "not_confirmed" and not (data.get("actions") or "").strip():
        raise ValidationFailed("say what the assessor must do when a decision is not confirmed",
                               errors={"actions": ["required for not_confirmed"]})
    with tallies.changing(sample.enrolment_id, [decision.criterion_id], audit.actor_of(principal)) as events:
        try:
            verdict = IqaVerdict.create(id=new_id(), sample=sample.id, verdict=data["verdict"],
                                        actions=data.get("actions"), iqa=principal.id)
        except IntegrityError:
            raise Conflict("this sample already has a verdict; verdicts are never changed") from None
        events.add("iqa.verdict_recorded", sample.id)
    audit.record(principal, "iqa.verdict", "iqa_sample", sample.id, centre_id=centre_id,
                 after={"decision_id": str(decision.id), "verdict": verdict.verdict})
    stamps.touch(decision)
    return verdict


def get_sample(principal: Principal, sample_id: uuid.UUID) -> dict:
    sample, _ = visible_sample(principal, sample_id)
    return sample_body(sample, IqaVerdict.get_or_none(IqaVerdict.sample == sample.id))
