"""Evidence and claims: what a learner offers, and which criteria of their pinned unit version it is offered for."""

import uuid

from api.errors import Conflict, ValidationFailed
from api.ids import new_id
from api.models import (
    AssessmentCriterion,
    Claim,
    Enrolment,
    Evidence,
    EvidenceType,
    LearningOutcome,
    OutcomeEvidenceType,
)
from api.models.base import iso_utc, utcnow
from api.services.common import audit
from api.services.common.access import (
    Principal,
    can_submit_evidence,
    require,
    require_learner_may_write,
    visible_enrolment,
    visible_evidence,
)
from api.services.tracking import stamps, tallies


def evidence_body(evidence: Evidence, claims: list | None = None) -> dict:
    if claims is None:
        claims = list(Claim.select().where(Claim.evidence == evidence.id))
    return {
        "id": str(evidence.id), "enrolment_id": str(evidence.enrolment_id), "type": evidence.evidence_type_id,
        "title": evidence.title, "description": evidence.description, "date": evidence.evidence_date.isoformat(),
        "reference": {"uri": evidence.reference_uri, "sha256": evidence.sha256},
        "authenticity_declared": evidence.authenticity_declared, "submitted_by": evidence.submitted_by,
        "created_at": iso_utc(evidence.created_at), "updated_at": iso_utc(evidence.updated_at),
        "claims": [{"id": str(c.id), "criterion_id": str(c.criterion_id)} for c in claims],
        "href": f"/v1/evidence/{evidence.id}",
    }


def submit_evidence(principal: Principal, enrolment_id: uuid.UUID, data: dict) -> Evidence:
    """Record a piece of evidence for an enrolment, optionally claiming criteria at once."""
    enrolment = visible_enrolment(principal, enrolment_id)
    require(can_submit_evidence(principal, enrolment.centre_id, enrolment.learner_id),
            "evidence is submitted by the learner, their centre's admins or assessors, or the centre's clients")
    require_learner_may_write(principal)
    if enrolment.status != "active":
        raise Conflict(f"the enrolment is {enrolment.status}: no new evidence")
    require_evidence_type(data["type"])
    now = utcnow()
    evidence = Evidence.create(id=new_id(), enrolment=enrolment.id, evidence_type=data["type"],
                               title=data["title"], description=data.get("description"),
                               evidence_date=data["date"], reference_uri=data.get("reference_uri"),
                               sha256=data.get("sha256"), authenticity_declared=data["authenticity_declared"],
                               submitted_by=audit.actor_of(principal), created_at=now, updated_at=now)
    audit.record(principal, "evidence.submitted", "evidence", evidence.id, centre_id=enrolment.centre_id,
                 after={"id": str(evidence.id), "enrolment_id": str(enrolment.id), "type": data["type"]})
    if data.get("criterion_ids"):
        _claim(principal, enrolment, evidence, data["criterion_ids"])
    return evidence


def require_evidence_type(code: str) -> None:
    """A 422 naming the known types unless ``code`` is an evidence type."""
    if not EvidenceType.select().where(EvidenceType.code == code).exists():
        known = ", ".join(t.code for t in EvidenceType.select(EvidenceType.code).order_by(EvidenceType.code))
        raise ValidationFailed(f"unknown evidence type {code!r}: the types are {known} "
                               "(GET /v1/evidence-types describes each)",
                               errors={"type": [f"unknown evidence type: one of {known}"]})


def claim_criteria(principal: Principal, evidence_id: uuid.UUID, criterion_ids: list[uuid.UUID]) -> list[Claim]:
    """Claim that a piece of evidence meets these criteria (of the enrolment's pinned version). Claims that exist
    already are kept, not duplicated."""
    evidence, enrolment = visible_evidence(principal, evidence_id)
    require(can_submit_evidence(principal, enrolment.centre_id, enrolment.learner_id),
            "claims are made by the learner, their centre's admins or assessors, or the centre's clients")
    require_learner_may_write(principal)
    return _claim(principal, enrolment, evidence, criterion_ids)


def _claim(principal: Principal, enrolment: Enrolment, evidence: Evidence, criterion_ids: list) -> list[Claim]:
    wanted = list(dict.fromkeys(criterion_ids))
    criteria = {c.id: c for c in AssessmentCriterion.select()
                .where(AssessmentCriterion.id.in_(wanted), AssessmentCriterion.version == enrolment.unit_version_id)}
    outside = [str(i) for i in wanted if i not in criteria]
    if outside:
        raise ValidationFailed("these criteria are not in the unit version this enrolment is pinned to: "
                               + ", ".join(outside), errors={"criterion_ids": [f"{i} is not in the enrolment's "
                                                                              "unit version" for i in outside]})
    outcome_ids = {c.outcome_id for c in criteria.values()}
    allowed: dict = {}
    for row in OutcomeEvidenceType.select().where(OutcomeEvidenceType.outcome.in_(list(outcome_ids))):
        allowed.setdefault(row.outcome_id, set()).add(row.evidence_type_id)
    refused = [c for c in criteria.values()
               if c.outcome_id in allowed and evidence.evidence_type_id not in allowed[c.outcome_id]]
    if refused:
        raise ValidationFailed(_type_refused(evidence.evidence_type_id, refused, allowed),
                               errors={"criterion_ids": [str(c.id) for c in refused]})
    existing = {c.criterion_id for c in Claim.select().where(Claim.evidence == evidence.id)}
    new = [{"id": new_id(), "evidence": evidence.id, "enrolment": enrolment.id, "criterion": c}
           for c in wanted if c not in existing]
    if new:
        with tallies.changing(enrolment.id, [r["criterion"] for r in new], audit.actor_of(principal)):
            Claim.insert_many(new).execute()
        audit.record(principal, "claims.created", "evidence", evidence.id, centre_id=enrolment.centre_id,
                     after={"criterion_ids": [str(r["criterion"]) for r in new]})
        stamps.touch(evidence)
    return list(Claim.select().where(Claim.evidence == evidence.id))


def _type_refused(evidence_type: str, refused: list, allowed: dict) -> str:
    """Why evidence of ``evidence_type`` cannot be claimed for the ``refused`` criteria: each by its number, with
    the types its outcome accepts."""
    outcomes = {o.id: o.number for o in LearningOutcome.select(LearningOutcome.id, LearningOutcome.number)
                .where(LearningOutcome.id.in_(list({c.outcome_id for c in refused})))}
    by_outcome: dict = {}
    for criterion in sorted(refused, key=lambda c: c.position):
        by_outcome.setdefault(criterion.outcome_id, []).append(criterion.number)
    parts = [f"criteria {', '.join(numbers)} (outcome {outcomes[outcome]} accepts "
             f"{', '.join(sorted(allowed[outcome]))})" for outcome, numbers in by_outcome.items()]
    return f"evidence of type {evidence_type!r} cannot be claimed for " + "; ".join(parts)


def list_evidence(principal: Principal, enrolment_id: uuid.UUID) -> list[dict]:
    enrolment = visible_enrolment(principal, enrolment_id)
    items = list(Evidence.select().where(Evidence.enrolment == enrolment.id).order_by(Evidence.created_at))
    claims: dict = {}
    for claim in Claim.select().where(Claim.enrolment == enrolment.id):
        claims.setdefault(claim.evidence_id, []).append(claim)
    return [evidence_body(e, claims.get(e.id, [])) for e in items]
