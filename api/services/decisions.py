"""Assessor decisions: append-only per (enrolment, criterion). A new decision supersedes the previous one and must say
why; a trainee's decision takes effect only when a qualified assessor countersigns it."""

import uuid

from peewee import IntegrityError

from api.errors import NotFound, ValidationFailed
from api.ids import new_id
from api.models import (
    Account,
    AssessmentCriterion,
    Claim,
    Countersignature,
    Decision,
    Enrolment,
    EnrolmentStaff,
    Evidence,
)
from api.models.base import iso_utc
from api.services import audit
from api.services.access import Principal, require
from api.services.enrolments import visible_enrolment
from api.services.learners import Conflict


def decision_body(decision: Decision, countersignature: Countersignature | None = None) -> dict:
    signed = countersignature is not None
    return {
        "id": str(decision.id), "enrolment_id": str(decision.enrolment_id),
        "criterion_id": str(decision.criterion_id), "sequence": decision.sequence, "outcome": decision.outcome,
        "feedback": decision.feedback, "reason": decision.reason,
        "supersedes": str(decision.supersedes_id) if decision.supersedes_id else None,
        "assessor_id": str(decision.assessor_id), "assessor_status": decision.assessor_status,
        "evidence_ids": decision.evidence_ids, "decided_at": iso_utc(decision.created_at),
        "countersigned_by": str(countersignature.account_id) if signed else None,
        "countersigned_at": iso_utc(countersignature.created_at) if signed else None,
        "carried_from": str(decision.carried_from_id) if decision.carried_from_id else None,
        "in_effect": decision.assessor_status == "qualified" or signed or decision.carried_from_id is not None,
        "href": f"/v1/decisions/{decision.id}",
    }


def _assessor(principal: Principal) -> Account:
    require(principal.kind == "account" and "assessor" in principal.roles, "decisions are recorded by assessors")
    return Account.get_by_id(principal.id)


def record_decision(principal: Principal, enrolment_id: uuid.UUID, data: dict) -> Decision:
    """Append a decision on one criterion. The assessor must be assigned to the enrolment, may not assess their own
    learner record or evidence they submitted, and must give a reason when superseding an earlier decision."""
    enrolment = visible_enrolment(principal, enrolment_id)
    assessor = _assessor(principal)
    require(_is_assigned(enrolment, assessor.id), "only an assessor assigned to this enrolment records decisions on it")
    require(assessor.learner_id != enrolment.learner_id, "an assessor cannot assess their own learner record")
    criterion = AssessmentCriterion.get_or_none(AssessmentCriterion.id == data["criterion_id"],
                                                AssessmentCriterion.version == enrolment.unit_version_id)
    if criterion is None:
        raise ValidationFailed("the criterion is not in the unit version this enrolment is pinned to",
                               errors={"criterion_id": ["not in the enrolment's unit version"]})
    evidence_ids = list(dict.fromkeys(data.get("evidence_ids", [])))
    evidence = list(Evidence.select().where(Evidence.id.in_(evidence_ids), Evidence.enrolment == enrolment.id))
    if len(evidence) != len(evidence_ids):
        missing = sorted({str(i) for i in evidence_ids} - {str(e.id) for e in evidence})
        raise ValidationFailed("evidence considered must belong to this enrolment",
                               errors={"evidence_ids": [f"{i} is not evidence of this enrolment" for i in missing]})
    require(not any(e.submitted_by == audit.actor_of(principal) for e in evidence),
            "an assessor cannot assess evidence they submitted themselves")
    claimed = {c.evidence_id for c in Claim.select().where(Claim.evidence.in_(evidence_ids),
                                                           Claim.criterion == criterion.id)}
    unclaimed = [str(e.id) for e in evidence if e.id not in claimed]
    if unclaimed:
        raise ValidationFailed("evidence considered must be claimed against the criterion first",
                               errors={"evidence_ids": [f"{i} is not claimed against this criterion"
                                                        for i in unclaimed]})
    previous = (Decision.select().where(Decision.enrolment == enrolment.id, Decision.criterion == criterion.id)
                .order_by(Decision.sequence.desc()).first())
    if previous is not None and not (data.get("reason") or "").strip():
        raise ValidationFailed("this criterion already has a decision: say why the new one supersedes it",
                               errors={"reason": ["required when superseding a decision"]})
    if data.get("expected_sequence") is not None and data["expected_sequence"] != (previous.sequence if previous
                                                                                     else 0):
        raise Conflict("another decision was recorded on this criterion since you looked: review it first")
    try:
        decision = Decision.create(
            id=new_id(), enrolment=enrolment.id, criterion=criterion.id,
            sequence=(previous.sequence if previous else 0) + 1, outcome=data["outcome"], feedback=data["feedback"],
            reason=data.get("reason") if previous else None, supersedes=previous.id if previous else None,
            assessor=assessor.id, assessor_status=assessor.assessor_status or "qualified",
            evidence_ids=[str(e.id) for e in evidence])
    except IntegrityError:
        raise Conflict("another decision on this criterion was recorded at the same moment: retry") from None
    audit.record(principal, "decision.recorded", "decision", decision.id, centre_id=enrolment.centre_id,
                 before={"supersedes": str(previous.id)} if previous else None,
                 after={"id": str(decision.id), "enrolment_id": str(enrolment.id),
                        "criterion_id": str(criterion.id), "outcome": decision.outcome})
    return decision


def _is_assigned(enrolment: Enrolment, account_id) -> bool:
    return EnrolmentStaff.select().where(EnrolmentStaff.enrolment == enrolment.id,
                                         EnrolmentStaff.account == account_id,
                                         EnrolmentStaff.role == "assessor").exists()


def visible_decision(principal: Principal, decision_id: uuid.UUID) -> tuple[Decision, Enrolment]:
    decision = Decision.get_or_none(Decision.id == decision_id)
    if decision is None:
        raise NotFound(f"no decision {decision_id} visible to you")
    try:
        return decision, visible_enrolment(principal, decision.enrolment_id)
    except NotFound:
        raise NotFound(f"no decision {decision_id} visible to you") from None


def countersign(principal: Principal, decision_id: uuid.UUID) -> Countersignature:
    """A qualified assessor of the centre countersigns a trainee's decision, which then takes effect."""
    decision, enrolment = visible_decision(principal, decision_id)
    signer = _assessor(principal)
    require(signer.assessor_status == "qualified", "only a qualified assessor countersigns")
    require(signer.id != decision.assessor_id, "an assessor cannot countersign their own decision")
    if decision.assessor_status != "trainee" or decision.carried_from_id is not None:
        raise Conflict("this decision needs no countersignature: it was made by a qualified assessor, or carried "
                       "over from a decision already in effect")
    if Countersignature.select().where(Countersignature.decision == decision.id).exists():
        raise Conflict("this decision is already countersigned")
    try:
        signature = Countersignature.create(decision=decision.id, account=signer.id)
    except IntegrityError:
        raise Conflict("this decision is already countersigned") from None
    audit.record(principal, "decision.countersigned", "decision", decision.id, centre_id=enrolment.centre_id,
                 after={"countersigned_by": str(signer.id)})
    return signature


def list_decisions(principal: Principal, enrolment_id: uuid.UUID, criterion_id: uuid.UUID | None) -> list[dict]:
    """Every decision of an enrolment (optionally one criterion), in the order they were made."""
    enrolment = visible_enrolment(principal, enrolment_id)
    query = Decision.select().where(Decision.enrolment == enrolment.id)
    if criterion_id:
        query = query.where(Decision.criterion == criterion_id)
    decisions = list(query.order_by(Decision.created_at, Decision.sequence))
    signatures = {s.decision_id: s for s in Countersignature.select()
                  .where(Countersignature.decision.in_([d.id for d in decisions]))}
    return [decision_body(d, signatures.get(d.id)) for d in decisions]


def get_decision(principal: Principal, decision_id: uuid.UUID) -> dict:
    decision, _ = visible_decision(principal, decision_id)
    return decision_body(decision, Countersignature.get_or_none(Countersignature.decision == decision.id))

