"""Decisions on KSBs assessed directly, under the rules decisions on unit criteria follow (tracking.decisions,
tracking.iqa):
- append-only per (apprenticeship, KSB): a new decision supersedes the previous one and must say why, and the database
  keys the sequence, so two assessors at once cannot fork the history;
- recorded by assessors of the apprenticeship's centre, never on their own learner record nor on evidence they
  submitted; evidence considered must be claimed for the KSB (ksb_evidence);
- a trainee's decision takes effect once a qualified assessor (not its author) countersigns it;
- an IQA of the centre who had no hand in a decision may sample it, once, and record one verdict; not_confirmed
  (with actions) reopens the KSB until a new decision.
``direct_states`` gives each KSB's state from them, as tracking.progress derives a criterion's."""

import uuid

from peewee import JOIN, IntegrityError

from api.errors import Conflict, ValidationFailed
from api.ids import new_id
from api.models import Account, KsbClaim, KsbCountersignature, KsbDecision, KsbEvidence, KsbIqaSample, KsbIqaVerdict
from api.models.base import iso_utc, utcnow
from api.services.apprenticeships.otj import ksb_codes_of
from api.services.common import audit
from api.services.common.access import (
    Principal,
    can_assess_at,
    can_verify_decisions,
    require,
    visible_apprenticeship,
    visible_ksb_decision,
)
from api.services.sync import feed
from api.services.tracking import stamps
from api.services.tracking.progress import criterion_states


def decision_href(decision_id) -> str:
    return f"/v1/ksb-decisions/{decision_id}"


def decision_body(row: KsbDecision, signature: KsbCountersignature | None, sample: KsbIqaSample | None,
                  verdict: KsbIqaVerdict | None) -> dict:
    return {
        "id": str(row.id), "apprenticeship_id": str(row.apprenticeship_id), "learner_id": str(row.learner_id),
        "ksb_code": row.ksb_code, "sequence": row.sequence, "outcome": row.outcome, "feedback": row.feedback,
        "reason": row.reason, "supersedes": str(row.supersedes) if row.supersedes else None,
        "assessor_id": str(row.assessor_id), "assessor_status": row.assessor_status,
        "evidence_ids": list(row.evidence_ids), "decided_at": iso_utc(row.created_at),
        "updated_at": iso_utc(row.updated_at),
        "countersigned_by": str(signature.account_id) if signature else None,
        "countersigned_at": iso_utc(signature.created_at) if signature else None,
        "in_effect": row.assessor_status == "qualified" or signature is not None,
        "iqa": None if sample is None else {
            "sampled_by": str(sample.iqa_id), "sampled_at": iso_utc(sample.created_at),
            "verdict": verdict.verdict if verdict else None, "actions": verdict.actions if verdict else None,
            "verdict_by": str(verdict.iqa_id) if verdict else None,
            "verdict_at": iso_utc(verdict.created_at) if verdict else None},
        "href": decision_href(row.id),
    }


def bodies(rows: list[KsbDecision]) -> list[dict]:
    """Bodies of ``rows``, their countersignatures, samples and verdicts read in three queries."""
    ids = [r.id for r in rows]
    signatures = {s.decision_id: s for s in KsbCountersignature.select().where(KsbCountersignature.decision.in_(ids))}
    samples = {s.decision_id: s for s in KsbIqaSample.select().where(KsbIqaSample.decision.in_(ids))}
    verdicts = {v.decision_id: v for v in KsbIqaVerdict.select().where(KsbIqaVerdict.decision.in_(ids))}
    return [decision_body(r, signatures.get(r.id), samples.get(r.id), verdicts.get(r.id)) for r in rows]


def get_decision(principal: Principal, decision_id: uuid.UUID) -> dict:
    return bodies([visible_ksb_decision(principal, decision_id)])[0]


def list_decisions(principal: Principal, apprenticeship_id: uuid.UUID, ksb_code: str | None) -> list[dict]:
    """Every decision on the apprenticeship's KSBs (optionally one KSB), in the order they were made."""
    row = visible_apprenticeship(principal, apprenticeship_id)
    query = KsbDecision.select().where(KsbDecision.apprenticeship == row.id)
    if ksb_code is not None:
        query = query.where(KsbDecision.ksb_code == ksb_code)
    return bodies(list(query.order_by(KsbDecision.id)))  # ids grow with time


def _assessor(principal: Principal, centre_id, learner_id, doing: str) -> Account:
    """The calling assessor's account, if they may ``doing`` at the centre and are not the learner themselves."""
    require(can_assess_at(principal, centre_id), f"decisions on an apprenticeship's KSBs are {doing} by assessors "
            "of its centre")
    account = Account.get_by_id(principal.id)
    require(account.learner_id != learner_id, "an assessor cannot assess their own learner record")
    return account


def _considered(row, data: dict, actor: str) -> list[str]:
    """The ids of the evidence a decision considers, each checked: KSB evidence of this apprenticeship, claimed for
    the KSB, not submitted by the assessor."""
    wanted = list(dict.fromkeys(data.get("evidence_ids", [])))
    found = {e.id: e for e in KsbEvidence.select(KsbEvidence.id, KsbEvidence.submitted_by).where(
        KsbEvidence.id.in_(wanted), KsbEvidence.apprenticeship == row.id)}
    missing = [str(i) for i in wanted if i not in found]
    if missing:
        raise ValidationFailed("evidence considered must be KSB evidence of this apprenticeship",
                               errors={"evidence_ids": [f"{i} is not KSB evidence of this apprenticeship"
                                                        for i in missing]})
    require(not any(e.submitted_by == actor for e in found.values()),
            "an assessor cannot assess evidence they submitted themselves")
    claimed = {e for (e,) in KsbClaim.select(KsbClaim.evidence).where(
        KsbClaim.evidence.in_(wanted), KsbClaim.ksb_code == data["ksb_code"]).tuples()}
    unclaimed = [str(i) for i in wanted if i not in claimed]
    if unclaimed:
        raise ValidationFailed("evidence considered must be claimed for the KSB first",
                               errors={"evidence_ids": [f"{i} is not claimed for {data['ksb_code']}"
                                                        for i in unclaimed]})
    return [str(i) for i in wanted]


def record_decision(principal: Principal, apprenticeship_id: uuid.UUID, data: dict) -> dict:
    """Append a decision on one KSB of the apprenticeship's standard version (audited; a ksb_decision.recorded
    event)."""
    row = visible_apprenticeship(principal, apprenticeship_id)
    account = _assessor(principal, row.centre_id, row.learner_id, "recorded")
    require(account.assessor_status is not None, "your account has no assessor status, so whether your decisions "
            "need a countersignature is unknown: an admin sets it (`qualtrack set-assessor-status`)")
    code = data["ksb_code"]
    if code not in ksb_codes_of(row):
        raise ValidationFailed(f"{code} is not a KSB of the apprenticeship's standard version",
                               errors={"ksb_code": ["not a KSB of the standard version"]})
    actor = audit.actor_of(principal)
    evidence_ids = _considered(row, data, actor)
    previous = (KsbDecision.select(KsbDecision.id, KsbDecision.sequence)
                .where(KsbDecision.apprenticeship == row.id, KsbDecision.ksb_code == code)
                .order_by(KsbDecision.sequence.desc()).first())
    if previous is not None and not (data.get("reason") or "").strip():
        raise ValidationFailed("this KSB already has a decision: say why the new one supersedes it",
                               errors={"reason": ["required when superseding a decision"]})
    sequence = previous.sequence if previous else 0
    if data.get("expected_sequence") is not None and data["expected_sequence"] != sequence:
        raise Conflict("another decision was recorded on this KSB since you looked: review it first")
    now = utcnow()
    try:
        decision = KsbDecision.create(
            id=new_id(), apprenticeship=row.id, centre=row.centre_id, learner=row.learner_id, ksb_code=code,
            sequence=sequence + 1, outcome=data["outcome"], feedback=data["feedback"],
            reason=data.get("reason") if previous else None, supersedes=previous.id if previous else None,
            assessor=account.id, assessor_status=account.assessor_status, evidence_ids=evidence_ids,
            created_at=now, updated_at=now)
    except IntegrityError:
        raise Conflict("another decision on this KSB was recorded at the same moment: retry") from None
    _written(principal, decision, "ksb_decision.recorded",
             before={"supersedes": str(previous.id)} if previous else None,
             after={"apprenticeship_id": str(row.id), "ksb_code": code, "outcome": decision.outcome})
    return decision_body(decision, None, None, None)  # new: nothing countersigned, sampled or verified yet


def _written(principal: Principal, decision: KsbDecision, event_type: str, *, before=None, after=None) -> None:
    """Audit and tell the feed of a change to ``decision`` (in the caller's transaction)."""
    audit.record(principal, event_type, "ksb_decision", decision.id, centre_id=decision.centre_id, before=before,
                 after=after)
    feed.append([feed.tracking_row(event_type, audit.actor_of(principal), centre_id=decision.centre_id,
                                   learner_id=decision.learner_id, subject_id=decision.id)])


def countersign(principal: Principal, decision_id: uuid.UUID) -> dict:
    """A qualified assessor of the centre countersigns a trainee's decision, which then takes effect."""
    decision = visible_ksb_decision(principal, decision_id)
    signer = _assessor(principal, decision.centre_id, decision.learner_id, "countersigned")
    require(signer.assessor_status == "qualified", "only a qualified assessor countersigns")
    require(signer.id != decision.assessor_id, "an assessor cannot countersign their own decision")
    if decision.assessor_status != "trainee":
        raise Conflict("this decision needs no countersignature: it was made by a qualified assessor")
    try:
        KsbCountersignature.create(decision=decision.id, account=signer.id, created_at=utcnow())
    except IntegrityError:
        raise Conflict("this decision is already countersigned") from None
    stamps.touch(decision)
    _written(principal, decision, "ksb_decision.countersigned", after={"countersigned_by": str(signer.id)})
    return get_decision(principal, decision.id)


def _require_iqa(principal: Principal, decision: KsbDecision, doing: str) -> None:
    """Forbidden unless the caller is an IQA of the centre who neither made nor countersigned the decision."""
    require(can_verify_decisions(principal, decision.centre_id), f"KSB decisions are {doing} by the centre's IQAs")
    require(decision.assessor_id != principal.id, "an IQA cannot sample or verify a decision they made")
    require(not KsbCountersignature.select().where(KsbCountersignature.decision == decision.id,
                                                   KsbCountersignature.account == principal.id).exists(),
            "an IQA cannot sample or verify a decision they countersigned")


def take_sample(principal: Principal, decision_id: uuid.UUID) -> dict:
    """An IQA samples a KSB decision for verification; once per decision."""
    decision = visible_ksb_decision(principal, decision_id)
    _require_iqa(principal, decision, "sampled")
    try:
        KsbIqaSample.create(decision=decision.id, apprenticeship=decision.apprenticeship_id, iqa=principal.id,
                            created_at=utcnow())
    except IntegrityError:
        raise Conflict("this decision is already sampled") from None
    stamps.touch(decision)
    _written(principal, decision, "ksb_decision.sampled")
    return get_decision(principal, decision.id)


def record_verdict(principal: Principal, decision_id: uuid.UUID, data: dict) -> dict:
    """confirmed, or not_confirmed with actions, on a sampled KSB decision; once, never changed."""
    decision = visible_ksb_decision(principal, decision_id)
    _require_iqa(principal, decision, "verified")
    if not KsbIqaSample.select().where(KsbIqaSample.decision == decision.id).exists():
        raise Conflict("this decision is not sampled: sample it first (POST .../iqa-sample)")
    if data["verdict"] == "not_confirmed" and not (data.get("actions") or "").strip():
        raise ValidationFailed("say what the assessor must do when a decision is not confirmed",
                               errors={"actions": ["required for not_confirmed"]})
    try:
        KsbIqaVerdict.create(decision=decision.id, verdict=data["verdict"], actions=data.get("actions"),
                             iqa=principal.id, created_at=utcnow())
    except IntegrityError:
        raise Conflict("this sample already has a verdict; verdicts are never changed") from None
    stamps.touch(decision)
    _written(principal, decision, "ksb_decision.verdict_recorded", after={"verdict": data["verdict"]})
    return get_decision(principal, decision.id)


def direct_states(apprenticeship_id) -> dict:
    """{KSB code: its state from direct decisions and claims (tracking.progress's criterion state)} for the KSBs of
    the apprenticeship with a claim or a decision. Two queries."""
    claims: dict = {}
    for code, in KsbClaim.select(KsbClaim.ksb_code).where(KsbClaim.apprenticeship == apprenticeship_id).tuples():
        claims[code] = claims.get(code, 0) + 1
    rows = [(code, claims.get(code, 0), None, None, None, None, None, None, None) for code in claims]
    decisions = (KsbDecision.select(KsbDecision.ksb_code, KsbDecision.id, KsbDecision.outcome,
                                    KsbDecision.assessor_status, KsbCountersignature.account,
                                    KsbIqaSample.iqa, KsbIqaVerdict.verdict)
                 .join(KsbCountersignature, on=KsbCountersignature.decision == KsbDecision.id,
                       join_type=JOIN.LEFT_OUTER)
                 .switch(KsbDecision)
                 .join(KsbIqaSample, on=KsbIqaSample.decision == KsbDecision.id, join_type=JOIN.LEFT_OUTER)
                 .join(KsbIqaVerdict, on=KsbIqaVerdict.decision == KsbIqaSample.decision, join_type=JOIN.LEFT_OUTER)
                 .where(KsbDecision.apprenticeship == apprenticeship_id)
                 .order_by(KsbDecision.ksb_code, KsbDecision.sequence).tuples())
    for code, decision_id, outcome, status, signed, sampled, verdict in decisions:
        rows.append((code, claims.get(code, 0), decision_id, outcome, status, signed, None, sampled, verdict))
    return criterion_states(rows)
