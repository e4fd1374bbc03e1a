"""Assessor decisions: append-only per (enrolment, criterion). A new decision supersedes the previous one and must say
why; a trainee's decision takes effect only when a qualified assessor countersigns it."""

import uuid
from typing import NamedTuple

from peewee import IntegrityError

from api import db
from api.errors import Conflict, Forbidden, NotFound, ValidationFailed
from api.ids import new_id
from api.models import (
    Account,
    Countersignature,
    Decision,
)
from api.models.base import iso_utc, utcnow
from api.services.common import audit, batches
from api.services.common.access import (
    Principal,
    can_read_learner,
    can_record_decisions,
    require,
    require_authenticated,
    visible_decision,
    visible_enrolment,
)
from api.services.tracking import stamps, tallies
from api.services.tracking.queries import DECISION_EVIDENCE_SQL, DECISION_FACTS_SQL


def decision_body(decision: Decision, countersignature: Countersignature | None = None) -> dict:
    signed = countersignature is not None
    return {
        "id": str(decision.id), "enrolment_id": str(decision.enrolment_id),
        "criterion_id": str(decision.criterion_id), "sequence": decision.sequence, "outcome": decision.outcome,
        "feedback": decision.feedback, "reason": decision.reason,
        "supersedes": str(decision.supersedes_id) if decision.supersedes_id else None,
        "assessor_id": str(decision.assessor_id), "assessor_status": decision.assessor_status,
        "evidence_ids": decision.evidence_ids, "decided_at": iso_utc(decision.created_at),
        "updated_at": iso_utc(decision.updated_at),
        "countersigned_by": str(countersignature.account_id) if signed else None,
        "countersigned_at": iso_utc(countersignature.created_at) if signed else None,
        "carried_from": str(decision.carried_from_id) if decision.carried_from_id else None,
        "in_effect": decision.assessor_status == "qualified" or signed or decision.carried_from_id is not None,
        "href": f"/v1/decisions/{decision.id}",
    }


def _countersigner(principal: Principal) -> Account:
    require(can_record_decisions(principal), "decisions are countersigned by assessors")
    return Account.get_by_id(principal.id)


class _Facts(NamedTuple):
    """What DECISION_FACTS_SQL finds, ids as stored."""

    centre_id: object
    learner_id: object
    account_exists: bool
    assessor_learner_id: object
    assessor_status: str | None
    assigned: bool
    criterion_in_version: bool
    previous_id: object
    previous_sequence: int | None


def _uuid(value) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(str(value))


def _facts(principal: Principal, enrolment_id: uuid.UUID, criterion_id: uuid.UUID) -> _Facts | None:
    """What record_decision checks, read in one statement; None if there is no such enrolment."""
    account = principal.id.hex if principal.kind == "account" else None
    rows = db.fetch_rows(DECISION_FACTS_SQL, [account, criterion_id.hex, criterion_id.hex, criterion_id.hex,
                                               account, enrolment_id.hex])
    return _Facts(*rows[0]) if rows else None


def record_decision(principal: Principal, enrolment_id: uuid.UUID, data: dict) -> Decision:
    """Append a decision on one criterion. The assessor must be assigned to the enrolment, may not assess their own
    learner record or evidence they submitted, and must give a reason when superseding an earlier decision."""
    require_authenticated(principal)
    criterion_id = data["criterion_id"]
    evidence_ids = list(dict.fromkeys(data.get("evidence_ids", [])))
    facts = _facts(principal, enrolment_id, criterion_id)
    evidence = _evidence_of(enrolment_id, criterion_id, evidence_ids) if facts else {}  # {id: (by, claimed)}
    centre_id, learner_id = (_uuid(facts.centre_id), _uuid(facts.learner_id)) if facts else (None, None)
    if facts is None or not can_read_learner(principal, centre_id, learner_id):
        raise NotFound(f"no enrolment {enrolment_id} visible to you")
    require(can_record_decisions(principal) and facts.account_exists, "decisions are recorded by assessors")
    require(bool(facts.assigned), "only an assessor assigned to this enrolment records decisions on it")
    require(_uuid(facts.assessor_learner_id) != learner_id, "an assessor cannot assess their own learner record")
    require(facts.assessor_status is not None, "your account has no assessor status, so whether your decisions need "
            "a countersignature is unknown: an admin sets it (`qualtrack set-assessor-status`)")
    if not facts.criterion_in_version:
        raise ValidationFailed("the criterion is not in the unit version this enrolment is pinned to",
                               errors={"criterion_id": ["not in the enrolment's unit version"]})
    if len(evidence) != len(evidence_ids):
        missing = sorted(str(i) for i in evidence_ids if i not in evidence)
        raise ValidationFailed("evidence considered must belong to this enrolment",
                               errors={"evidence_ids": [f"{i} is not evidence of this enrolment" for i in missing]})
    require(not any(submitted_by == audit.actor_of(principal) for submitted_by, _ in evidence.values()),
            "an assessor cannot assess evidence they submitted themselves")
    unclaimed = [str(i) for i in evidence_ids if not evidence[i][1]]
    if unclaimed:
        raise ValidationFailed("evidence considered must be claimed against the criterion first",
                               errors={"evidence_ids": [f"{i} is not claimed against this criterion"
                                                        for i in unclaimed]})
    previous_id, previous_sequence = facts.previous_id, facts.previous_sequence or 0
    if previous_id is not None and not (data.get("reason") or "").strip():
        raise ValidationFailed("this criterion already has a decision: say why the new one supersedes it",
                               errors={"reason": ["required when superseding a decision"]})
    if data.get("expected_sequence") is not None and data["expected_sequence"] != previous_sequence:
        raise Conflict("another decision was recorded on this criterion since you looked: review it first")
    decision = Decision(
        id=new_id(), enrolment=enrolment_id, criterion=criterion_id, sequence=previous_sequence + 1,
        outcome=data["outcome"], feedback=data["feedback"], reason=data.get("reason") if previous_id else None,
        supersedes=_uuid(previous_id), assessor=principal.id, assessor_status=facts.assessor_status,
        evidence_ids=[str(i) for i in evidence_ids], created_at=utcnow())
    decision.updated_at = decision.created_at
    with tallies.changing(enrolment_id, [criterion_id], audit.actor_of(principal)) as events:
        try:
            db.insert_rows(Decision, [decision.__data__])
        except IntegrityError:
            raise Conflict("another decision on this criterion was recorded at the same moment: retry") from None
        events.add("decision.recorded", decision.id)
        if previous_id is not None:
            events.add("decision.superseded", previous_id)
    audit.record(principal, "decision.recorded", "decision", decision.id, centre_id=centre_id,
                 before={"supersedes": str(decision.supersedes_id)} if previous_id else None,
                 after={"id": str(decision.id), "enrolment_id": str(enrolment_id),
                        "criterion_id": str(criterion_id), "outcome": decision.outcome})
    return decision


def record_decisions(principal: Principal, enrolment_id: uuid.UUID, items: list[dict]) -> list[Decision]:
    """Record a decision on each of several criteria of one enrolment, in order, inside the caller's transaction:
    each obeys every rule of record_decision, and one refused refuses them all (the caller rolls back), its problem
    naming it (``decisions[i]``). A criterion may appear once."""
    first: dict = {}
    recorded = []
    for i, data in enumerate(items):
        earlier = first.setdefault(data["criterion_id"], i)
        if earlier != i:  # found in turn, so the caller's own refusals (not theirs to see, not an assessor) come first
            raise ValidationFailed(f"decisions[{i}]: decisions[{earlier}] is on the same criterion: a batch has one "
                                   "decision per criterion", errors={f"decisions[{i}].criterion_id": [
                                       f"decisions[{earlier}] is on this criterion too"]})
        try:
            recorded.append(record_decision(principal, enrolment_id, data))
        except (ValidationFailed, Conflict, Forbidden) as error:
            raise batches.naming(error, f"decisions[{i}]") from None
    return recorded


def _evidence_of(enrolment_id: uuid.UUID, criterion_id: uuid.UUID, evidence_ids: list[uuid.UUID]) -> dict:
    """Of ``evidence_ids``, those that are evidence of the enrolment: {id: (submitted_by, claimed against the
    criterion)}."""
    rows = db.fetch_in(DECISION_EVIDENCE_SQL, [criterion_id.hex, enrolment_id.hex], [i.hex for i in evidence_ids])
    return {_uuid(evidence_id): (submitted_by, bool(claimed)) for evidence_id, submitted_by, claimed in rows}


def countersign(principal: Principal, decision_id: uuid.UUID) -> Countersignature:
    """A qualified assessor of the centre countersigns a trainee's decision, which then takes effect."""
    decision, enrolment = visible_decision(principal, decision_id)
    signer = _countersigner(principal)
    require(signer.assessor_status == "qualified", "only a qualified assessor countersigns")
    require(signer.id != decision.assessor_id, "an assessor cannot countersign their own decision")
    if decision.assessor_status != "trainee" or decision.carried_from_id is not None:
        raise Conflict("this decision needs no countersignature: it was made by a qualified assessor, or carried "
                       "over from a decision already in effect")
    with tallies.changing(enrolment.id, [decision.criterion_id], audit.actor_of(principal)) as events:
        try:  # one countersignature per decision: the unique constraint says so, for concurrent requests too
            signature = Countersignature.create(decision=decision.id, account=signer.id)
        except IntegrityError:
            raise Conflict("this decision is already countersigned") from None
        events.add("decision.countersigned", decision.id)
    audit.record(principal, "decision.countersigned", "decision", decision.id, centre_id=enrolment.centre_id,
                 after={"countersigned_by": str(signer.id)})
    stamps.touch(decision)
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

