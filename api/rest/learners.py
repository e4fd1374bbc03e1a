"""REST views for learners and enrolments. Thin: parse, call api.services, shape the response."""

from flask import Blueprint, request

from api.auth import current_principal
from api.inputs import bodies, takes_no_body
from api.inputs.params import ENROLMENT_LIST_ARGS, LEARNER_LIST_ARGS, NO_ARGS
from api.rest.http import Created, json_response, page_response, parse_args, parse_body, parse_id, write_endpoint
from api.services.common.preconditions import etag_of
from api.services.tracking import enrolments, learners, progress

bp = Blueprint("learners", __name__)
LEARNER_CREATE, LEARNER_UPDATE = bodies.LearnerCreate(), bodies.LearnerUpdate()
ENROLMENT_CREATE, ENROLMENT_UPDATE = bodies.EnrolmentCreate(), bodies.EnrolmentUpdate()
ENROLMENT_BATCH_CREATE = bodies.EnrolmentBatchCreate()
QUALIFICATION_ENROLMENT_CREATE = bodies.QualificationEnrolmentCreate()


def _versioned_response(kind: str, row, body: dict, status: int):
    """A learner or enrolment with its ETag (201 with Location when just created)."""
    etag = etag_of(kind, row.id, row.row_version)
    if status == 201:
        return Created(body, body["href"], etag)
    response = json_response(body, cache_control="private, no-cache")
    response.headers["ETag"] = etag
    return response


def _learner_response(learner, status: int = 200):
    return _versioned_response("learner", learner, learners.learner_body(learner), status)


def _enrolment_response(enrolment, status: int = 200):
    return _versioned_response("enrolment", enrolment, enrolments.enrolment_body(enrolment), status)


@bp.post("/learners")
@write_endpoint
def create_learner():
    """Register a learner at a centre (ULN check digit verified)."""
    parse_args(NO_ARGS)
    return _learner_response(learners.create_learner(current_principal(), parse_body(LEARNER_CREATE)), 201)


@bp.get("/learners")
def list_learners():
    """Learners visible to the caller, filtered by centre, ULN, external id, last change (sync: sort=updated_at) or
    a search (q: a ULN, an external id or a name)."""
    args = parse_args(LEARNER_LIST_ARGS)
    page = learners.list_learners(current_principal(), centre_id=args.get("centre_id"), uln=args.get("uln"),
                                  external_system=args.get("external_system"), external_id=args.get("external_id"),
                                  cursor=args.get("cursor"), limit=args["limit"], sort=args.get("sort"),
                                  updated_since=args.get("updated_since"), q=args.get("q"))
    return page_response(page, cache_control="private, no-cache")


@bp.get("/learners/<learner_id>")
def get_learner(learner_id):
    parse_args(NO_ARGS)
    return _learner_response(learners.visible_learner(current_principal(), parse_id(learner_id, "learner")))


@bp.patch("/learners/<learner_id>")
@write_endpoint
def update_learner(learner_id):
    """Change personal fields or external ids; needs If-Match with the learner's ETag."""
    parse_args(NO_ARGS)
    changes = parse_body(LEARNER_UPDATE)
    learner = learners.update_learner(current_principal(), parse_id(learner_id, "learner"), changes,
                                      request.headers.get("If-Match"))
    return _learner_response(learner)


@bp.post("/learners/<learner_id>/withdraw")
@write_endpoint
@takes_no_body
def withdraw_learner(learner_id):
    """Withdraw a learner (never deleted: their records stay)."""
    parse_args(NO_ARGS)
    return _learner_response(learners.withdraw_learner(current_principal(), parse_id(learner_id, "learner")))


@bp.post("/learners/<learner_id>/pseudonymise")
@write_endpoint
@takes_no_body
def pseudonymise_learner(learner_id):
    """Replace a learner's personal data, keeping assessment records (admins only)."""
    parse_args(NO_ARGS)
    return _learner_response(learners.pseudonymise_learner(current_principal(), parse_id(learner_id, "learner")))


@bp.get("/learners/<learner_id>/export")
def export_learner(learner_id):
    """A learner's full record as one JSON document."""
    parse_args(NO_ARGS)
    body = learners.export_learner(current_principal(), parse_id(learner_id, "learner"))
    response = json_response(body, cache_control="private, no-store")
    response.headers["Content-Disposition"] = f'attachment; filename="learner-{learner_id}.json"'
    return response


@bp.get("/learners/<learner_id>/progress")
def learner_progress(learner_id):
    parse_args(NO_ARGS)
    return json_response(progress.learner_progress(current_principal(), parse_id(learner_id, "learner")),
                         cache_control="private, no-cache")


@bp.post("/enrolments")
@write_endpoint
def create_enrolment():
    """Enrol a learner on a unit, pinned to its current published version."""
    parse_args(NO_ARGS)
    return _enrolment_response(enrolments.create_enrolment(current_principal(), parse_body(ENROLMENT_CREATE)), 201)


@bp.get("/enrolments")
def list_enrolments():
    args = parse_args(ENROLMENT_LIST_ARGS)
    page = enrolments.list_enrolments(current_principal(), learner_id=args.get("learner_id"),
                                      centre_id=args.get("centre_id"), unit_id=args.get("unit_id"),
                                      status=args.get("status"), cursor=args.get("cursor"), limit=args["limit"],
                                      sort=args.get("sort"), updated_since=args.get("updated_since"))
    return page_response(page, cache_control="private, no-cache")


@bp.post("/enrolment-batches")
@write_endpoint
def create_enrolments():
    """Make up to 100 enrolments at once: all or none, each under every rule of POST /v1/enrolments."""
    parse_args(NO_ARGS)
    made = enrolments.create_enrolments(current_principal(), parse_body(ENROLMENT_BATCH_CREATE)["enrolments"])
    return Created({"items": [enrolments.enrolment_body(e) for e in made]}, "/v1/enrolments?sort=created_at")


@bp.get("/enrolments/<enrolment_id>")
def get_enrolment(enrolment_id):
    parse_args(NO_ARGS)
    return _enrolment_response(enrolments.visible_enrolment(current_principal(), parse_id(enrolment_id, "enrolment")))


@bp.patch("/enrolments/<enrolment_id>")
@write_endpoint
def update_enrolment(enrolment_id):
    """Change status, dates or assigned staff; needs If-Match with the enrolment's ETag."""
    parse_args(NO_ARGS)
    changes = parse_body(ENROLMENT_UPDATE)
    enrolment = enrolments.update_enrolment(current_principal(), parse_id(enrolment_id, "enrolment"), changes,
                                            request.headers.get("If-Match"))
    return _enrolment_response(enrolment)


@bp.get("/enrolments/<enrolment_id>/progress")
def enrolment_progress(enrolment_id):
    """Progress per criterion, learning outcome and unit, derived from claims, decisions and IQA."""
    parse_args(NO_ARGS)
    return json_response(progress.enrolment_progress(current_principal(), parse_id(enrolment_id, "enrolment")),
                         cache_control="private, no-cache")


@bp.get("/learners/<learner_id>/qualifications/<qualification_id>/progress")
def qualification_progress(learner_id, qualification_id):
    """A learner's progress towards a qualification under its rules of combination."""
    parse_args(NO_ARGS)
    return json_response(progress.qualification_progress(current_principal(), parse_id(learner_id, "learner"),
                                                         parse_id(qualification_id, "qualification")),
                         cache_control="private, no-cache")


@bp.post("/learners/<learner_id>/qualifications/<qualification_id>/enrolments")
@write_endpoint
def enrol_on_qualification(learner_id, qualification_id):
    """Enrol a learner on every mandatory unit of a qualification (each pinned to its current published version)."""
    parse_args(NO_ARGS)
    made = enrolments.enrol_on_qualification(current_principal(), parse_id(learner_id, "learner"),
                                             parse_id(qualification_id, "qualification"),
                                             parse_body(QUALIFICATION_ENROLMENT_CREATE))
    body = {"items": [enrolments.enrolment_body(e) for e in made]}
    return Created(body, f"/v1/enrolments?learner_id={parse_id(learner_id, 'learner')}")
