"""REST views for evidence, claims, decisions and countersignatures, IQA, audit and centre progress."""

from flask import Blueprint

from api.auth import current_principal
from api.inputs import bodies, takes_no_body
from api.inputs.params import ASSESSMENT_LIST_ARGS, AUDIT_ARGS, DECISION_LIST_ARGS, NO_ARGS
from api.rest.http import Created, json_response, page_response, parse_args, parse_body, parse_id, write_endpoint
from api.services.common import audit
from api.services.tracking import assessment_lists, decisions, evidence, iqa, progress

bp = Blueprint("assessment", __name__)
EVIDENCE_CREATE, CLAIM_CREATE, DECISION_CREATE = bodies.EvidenceCreate(), bodies.ClaimCreate(), bodies.DecisionCreate()
DECISION_BATCH = bodies.DecisionBatchCreate()
PLAN_CREATE, SAMPLE_CREATE, VERDICT_CREATE = bodies.PlanCreate(), bodies.SampleCreate(), bodies.VerdictCreate()
PRIVATE = "private, no-cache"


@bp.post("/enrolments/<enrolment_id>/evidence")
@write_endpoint
def submit_evidence(enrolment_id):
    """Record evidence for an enrolment (optionally claiming criteria at once)."""
    parse_args(NO_ARGS)
    item = evidence.submit_evidence(current_principal(), parse_id(enrolment_id, "enrolment"),
                                    parse_body(EVIDENCE_CREATE))
    body = evidence.evidence_body(item)
    return Created(body, body["href"])


@bp.get("/enrolments/<enrolment_id>/evidence")
def list_evidence(enrolment_id):
    parse_args(NO_ARGS)
    items = evidence.list_evidence(current_principal(), parse_id(enrolment_id, "enrolment"))
    return json_response({"items": items}, cache_control=PRIVATE)


@bp.get("/evidence")
def list_all_evidence():
    """Evidence visible to the caller, filtered by centre, enrolment, learner or last change (sync:
    sort=updated_at)."""
    args = parse_args(ASSESSMENT_LIST_ARGS)
    return page_response(assessment_lists.list_all_evidence(current_principal(), **args), cache_control=PRIVATE)


@bp.get("/evidence/<evidence_id>")
def get_evidence(evidence_id):
    parse_args(NO_ARGS)
    item, _ = evidence.visible_evidence(current_principal(), parse_id(evidence_id, "evidence"))
    return json_response(evidence.evidence_body(item), cache_control=PRIVATE)


@bp.post("/evidence/<evidence_id>/claims")
@write_endpoint
def claim_criteria(evidence_id):
    """Claim criteria of the enrolment's pinned unit version for this evidence."""
    parse_args(NO_ARGS)
    wanted = parse_body(CLAIM_CREATE)["criterion_ids"]
    principal = current_principal()
    evidence.claim_criteria(principal, parse_id(evidence_id, "evidence"), wanted)
    item, _ = evidence.visible_evidence(principal, parse_id(evidence_id, "evidence"))
    return json_response(evidence.evidence_body(item), cache_control="no-store")


@bp.post("/enrolments/<enrolment_id>/decisions")
@write_endpoint
def record_decision(enrolment_id):
    """Record an assessor's decision on one criterion (append-only; supersedes the previous one with a reason)."""
    parse_args(NO_ARGS)
    decision = decisions.record_decision(current_principal(), parse_id(enrolment_id, "enrolment"),
                                         parse_body(DECISION_CREATE))
    body = decisions.decision_body(decision)
    return Created(body, body["href"])


@bp.post("/enrolments/<enrolment_id>/decisions/batch")
@write_endpoint
def record_decisions(enrolment_id):
    """Record decisions on several criteria of one enrolment at once: all or none, each under every rule."""
    parse_args(NO_ARGS)
    recorded = decisions.record_decisions(current_principal(), parse_id(enrolment_id, "enrolment"),
                                          parse_body(DECISION_BATCH)["decisions"])
    return Created({"items": [decisions.decision_body(d) for d in recorded]},
                   f"/v1/enrolments/{enrolment_id}/decisions")


@bp.get("/enrolments/<enrolment_id>/decisions")
def list_decisions(enrolment_id):
    args = parse_args(DECISION_LIST_ARGS)
    items = decisions.list_decisions(current_principal(), parse_id(enrolment_id, "enrolment"),
                                     args.get("criterion_id"))
    return json_response({"items": items}, cache_control=PRIVATE)


@bp.get("/decisions")
def list_all_decisions():
    """Decisions visible to the caller, filtered by centre, enrolment, learner or last change (sync:
    sort=updated_at)."""
    args = parse_args(ASSESSMENT_LIST_ARGS)
    return page_response(assessment_lists.list_all_decisions(current_principal(), **args), cache_control=PRIVATE)


@bp.get("/decisions/<decision_id>")
def get_decision(decision_id):
    parse_args(NO_ARGS)
    return json_response(decisions.get_decision(current_principal(), parse_id(decision_id, "decision")),
                         cache_control=PRIVATE)


@bp.post("/decisions/<decision_id>/countersign")
@write_endpoint
@takes_no_body
def countersign(decision_id):
    """A qualified assessor countersigns a trainee's decision, which then takes effect."""
    parse_args(NO_ARGS)
    principal = current_principal()
    decisions.countersign(principal, parse_id(decision_id, "decision"))
    return json_response(decisions.get_decision(principal, parse_id(decision_id, "decision")),
                         cache_control="no-store")


@bp.post("/iqa/plans")
@write_endpoint
def create_plan():
    """Set an IQA sampling plan for an assessor at a centre."""
    parse_args(NO_ARGS)
    plan = iqa.create_plan(current_principal(), parse_body(PLAN_CREATE))
    return Created(iqa.plan_body(plan), f"/v1/iqa/plans/{plan.id}")


@bp.get("/iqa/plans/<plan_id>/candidates")
def plan_candidates(plan_id):
    """Decisions the plan selects for sampling that are not sampled yet."""
    parse_args(NO_ARGS)
    ids = iqa.plan_candidates(current_principal(), parse_id(plan_id, "sampling plan"))
    return json_response({"decision_ids": ids}, cache_control=PRIVATE)


@bp.post("/iqa/samples")
@write_endpoint
def take_sample():
    """Sample a decision for IQA verification."""
    parse_args(NO_ARGS)
    sample = iqa.take_sample(current_principal(), parse_body(SAMPLE_CREATE)["decision_id"])
    body = iqa.sample_body(sample)
    return Created(body, body["href"])


@bp.get("/iqa/samples/<sample_id>")
def get_sample(sample_id):
    parse_args(NO_ARGS)
    return json_response(iqa.get_sample(current_principal(), parse_id(sample_id, "IQA sample")), cache_control=PRIVATE)


@bp.post("/iqa/samples/<sample_id>/verdict")
@write_endpoint
def record_verdict(sample_id):
    """Record the IQA verdict on a sample (once; never changed)."""
    parse_args(NO_ARGS)
    principal = current_principal()
    iqa.record_verdict(principal, parse_id(sample_id, "IQA sample"), parse_body(VERDICT_CREATE))
    return json_response(iqa.get_sample(principal, parse_id(sample_id, "IQA sample")), cache_control="no-store")


@bp.get("/centres/<centre_id>/progress")
def centre_progress(centre_id):
    """Cohort progress for a centre: totals and per assessor."""
    parse_args(NO_ARGS)
    return json_response(progress.centre_progress(current_principal(), parse_id(centre_id, "centre")),
                         cache_control=PRIVATE)


@bp.get("/audit")
def list_audit():
    """Audit events: all for admins, their centres' for centre admins; filter by subject and time."""
    args = parse_args(AUDIT_ARGS)
    page = audit.list_events(current_principal(), centre_id=args.get("centre_id"),
                             subject_type=args.get("subject_type"), subject_id=args.get("subject_id"),
                             since=args.get("since"), until=args.get("until"), cursor=args.get("cursor"),
                             limit=args["limit"])
    return page_response(page, cache_control=PRIVATE)
