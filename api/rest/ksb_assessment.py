"""REST views for KSBs assessed directly: evidence claimed for an apprenticeship's KSBs, and decisions on a KSB with
their countersignatures, IQA samples and verdicts. Thin: parse, call api.services.apprenticeships, shape the
response."""

from flask import Blueprint

from api.auth import current_principal
from api.inputs import bodies, takes_no_body
from api.inputs.params import KSB_DECISION_LIST_ARGS, KSB_EVIDENCE_LIST_ARGS, NO_ARGS
from api.rest.http import Created, json_response, page_response, parse_args, parse_body, parse_id, write_endpoint
from api.services.apprenticeships import ksb_decisions, ksb_evidence

bp = Blueprint("ksb_assessment", __name__)
EVIDENCE_CREATE, DECISION_CREATE = bodies.KsbEvidenceCreate(), bodies.KsbDecisionCreate()
VERDICT_CREATE = bodies.VerdictCreate()
PRIVATE = "private, no-cache"


@bp.post("/apprenticeships/<apprenticeship_id>/ksb-evidence")
@write_endpoint
def submit_evidence(apprenticeship_id):
    """Record evidence claimed for KSBs of the apprenticeship's standard version."""
    parse_args(NO_ARGS)
    body = ksb_evidence.submit_evidence(current_principal(), parse_id(apprenticeship_id, "apprenticeship"),
                                        parse_body(EVIDENCE_CREATE))
    return Created(body, body["href"], None)


@bp.get("/apprenticeships/<apprenticeship_id>/ksb-evidence")
def list_evidence(apprenticeship_id):
    args = parse_args(KSB_EVIDENCE_LIST_ARGS)
    page = ksb_evidence.list_evidence(current_principal(), parse_id(apprenticeship_id, "apprenticeship"),
                                      args.get("ksb_code"), args.get("cursor"), args["limit"])
    return page_response(page, cache_control=PRIVATE)


@bp.get("/ksb-evidence/<ksb_evidence_id>")
def get_evidence(ksb_evidence_id):
    parse_args(NO_ARGS)
    return json_response(ksb_evidence.get_evidence(current_principal(), parse_id(ksb_evidence_id, "KSB evidence")),
                         cache_control=PRIVATE)


@bp.post("/apprenticeships/<apprenticeship_id>/ksb-decisions")
@write_endpoint
def record_decision(apprenticeship_id):
    """Record an assessor's decision on one KSB (append-only; supersedes the previous one with a reason)."""
    parse_args(NO_ARGS)
    body = ksb_decisions.record_decision(current_principal(), parse_id(apprenticeship_id, "apprenticeship"),
                                         parse_body(DECISION_CREATE))
    return Created(body, body["href"], None)


@bp.get("/apprenticeships/<apprenticeship_id>/ksb-decisions")
def list_decisions(apprenticeship_id):
    args = parse_args(KSB_DECISION_LIST_ARGS)
    items = ksb_decisions.list_decisions(current_principal(), parse_id(apprenticeship_id, "apprenticeship"),
                                         args.get("ksb_code"))
    return json_response({"items": items}, cache_control=PRIVATE)


@bp.get("/ksb-decisions/<ksb_decision_id>")
def get_decision(ksb_decision_id):
    parse_args(NO_ARGS)
    return json_response(ksb_decisions.get_decision(current_principal(), parse_id(ksb_decision_id, "KSB decision")),
                         cache_control=PRIVATE)


@bp.post("/ksb-decisions/<ksb_decision_id>/countersign")
@write_endpoint
@takes_no_body
def countersign(ksb_decision_id):
    """A qualified assessor countersigns a trainee's KSB decision, which then takes effect."""
    parse_args(NO_ARGS)
    return json_response(ksb_decisions.countersign(current_principal(), parse_id(ksb_decision_id, "KSB decision")),
                         cache_control="no-store")


@bp.post("/ksb-decisions/<ksb_decision_id>/iqa-sample")
@write_endpoint
@takes_no_body
def take_sample(ksb_decision_id):
    """An IQA samples a KSB decision for verification (once)."""
    parse_args(NO_ARGS)
    return json_response(ksb_decisions.take_sample(current_principal(), parse_id(ksb_decision_id, "KSB decision")),
                         cache_control="no-store")


@bp.post("/ksb-decisions/<ksb_decision_id>/iqa-verdict")
@write_endpoint
def record_verdict(ksb_decision_id):
    """The IQA verdict on a sampled KSB decision (once; never changed)."""
    parse_args(NO_ARGS)
    return json_response(ksb_decisions.record_verdict(current_principal(), parse_id(ksb_decision_id, "KSB decision"),
                                                      parse_body(VERDICT_CREATE)), cache_control="no-store")
