"""REST views for apprenticeships as tracked: KSB mappings of unit criteria, a learner's apprenticeships with their
KSB progress, and the off-the-job training ledger. Thin: parse, call api.services.apprenticeships, shape the
response."""

from flask import Blueprint, Response, request

from api.auth import current_principal
from api.errors import UnsupportedMediaType
from api.inputs import bodies, takes_no_body
from api.inputs.params import KSB_MAPPING_LIST_ARGS, NO_ARGS, PAGE_ARGS
from api.rest.http import Created, json_response, page_response, parse_args, parse_body, parse_id, write_endpoint
from api.services.apprenticeships import enrolling, ksb_progress, mappings, otj, otj_import
from api.services.common.access import visible_apprenticeship, visible_otj_activity
from api.services.common.preconditions import etag_of

bp = Blueprint("apprenticeship_tracking", __name__)
MAPPING_CREATE, MAPPING_CARRY = bodies.KsbMappingCreate(), bodies.KsbMappingCarry()
APPRENTICESHIP_CREATE, APPRENTICESHIP_UPDATE = bodies.ApprenticeshipCreate(), bodies.ApprenticeshipUpdate()
OTJ_CREATE = bodies.OtjActivityCreate()
PRIVATE = "private, no-cache"


@bp.post("/ksb-mappings")
@write_endpoint
def create_mapping():
    """Map a unit criterion (or a whole unit version) to a KSB: 201, or 200 with the mapping already there."""
    parse_args(NO_ARGS)
    mapping, created = mappings.create_mapping(current_principal(), parse_body(MAPPING_CREATE))
    return Created(mapping, mapping["href"], None) if created else json_response(mapping, cache_control="no-store")


@bp.get("/ksb-mappings")
def list_mappings():
    """Mappings of a unit version, or to a standard version (and one KSB)."""
    args = parse_args(KSB_MAPPING_LIST_ARGS)
    page = mappings.list_mappings(current_principal(), unit_version_id=args.get("unit_version_id"),
                                  reference_number=args.get("reference_number"), version=args.get("version"),
                                  ksb_code=args.get("ksb_code"), cursor=args.get("cursor"), limit=args["limit"])
    return page_response(page, cache_control=PRIVATE)


@bp.get("/ksb-mappings/<mapping_id>")
def get_mapping(mapping_id):
    parse_args(NO_ARGS)
    row = mappings.visible_mapping(current_principal(), parse_id(mapping_id, "KSB mapping"))
    return json_response(mappings.mapping_body(row), cache_control=PRIVATE)


@bp.delete("/ksb-mappings/<mapping_id>")
@write_endpoint
@takes_no_body
def delete_mapping(mapping_id):
    parse_args(NO_ARGS)
    mappings.delete_mapping(current_principal(), parse_id(mapping_id, "KSB mapping"))
    return Response(status=204)


@bp.post("/ksb-mapping-carries")
@write_endpoint
def carry_mappings():
    """Copy mappings from one version of a standard to another, by the KSBs' published GUIDs."""
    parse_args(NO_ARGS)
    return json_response(mappings.carry_mappings(current_principal(), parse_body(MAPPING_CARRY)),
                         cache_control="no-store")


def _apprenticeship_response(row, status: int = 200):
    body = enrolling.body(row)
    etag = etag_of("apprenticeship", row.id, row.row_version)
    if status == 201:
        return Created(body, body["href"], etag)
    response = json_response(body, cache_control=PRIVATE)
    response.headers["ETag"] = etag
    return response


@bp.post("/apprenticeships")
@write_endpoint
def create_apprenticeship():
    """Enrol a learner on an apprenticeship standard version (chosen by start date unless given)."""
    parse_args(NO_ARGS)
    row = enrolling.create_apprenticeship(current_principal(), parse_body(APPRENTICESHIP_CREATE))
    return _apprenticeship_response(row, 201)


@bp.get("/apprenticeships/<apprenticeship_id>")
def get_apprenticeship(apprenticeship_id):
    parse_args(NO_ARGS)
    return _apprenticeship_response(visible_apprenticeship(current_principal(),
                                                           parse_id(apprenticeship_id, "apprenticeship")))


@bp.patch("/apprenticeships/<apprenticeship_id>")
@write_endpoint
def update_apprenticeship(apprenticeship_id):
    """Change an apprenticeship (If-Match required): dates, hours, option, gateway, status, delivering units."""
    parse_args(NO_ARGS)
    changes = parse_body(APPRENTICESHIP_UPDATE, partial=True)
    row = enrolling.update_apprenticeship(current_principal(), parse_id(apprenticeship_id, "apprenticeship"),
                                          changes, request.headers.get("If-Match"))
    return _apprenticeship_response(row)


@bp.get("/learners/<learner_id>/apprenticeships")
def list_apprenticeships(learner_id):
    args = parse_args(PAGE_ARGS)
    page = enrolling.list_apprenticeships(current_principal(), parse_id(learner_id, "learner"), args.get("cursor"),
                                          args["limit"])
    return page_response(page, cache_control=PRIVATE)


@bp.get("/apprenticeships/<apprenticeship_id>/progress")
def apprenticeship_progress(apprenticeship_id):
    """Progress per KSB, per duty and for the whole standard, from decisions on the mapped criteria."""
    parse_args(NO_ARGS)
    document = ksb_progress.apprenticeship_progress(current_principal(), parse_id(apprenticeship_id, "apprenticeship"))
    return json_response(document, cache_control=PRIVATE)


@bp.get("/apprenticeships/<apprenticeship_id>/otj")
def otj_ledger(apprenticeship_id):
    """The off-the-job training position: planned hours (and the rule set), hours to date, inactivity."""
    parse_args(NO_ARGS)
    return json_response(otj.ledger(current_principal(), parse_id(apprenticeship_id, "apprenticeship")),
                         cache_control=PRIVATE)


@bp.post("/apprenticeships/<apprenticeship_id>/otj-activities")
@write_endpoint
def record_otj_activity(apprenticeship_id):
    parse_args(NO_ARGS)
    activity = otj.record_activity(current_principal(), parse_id(apprenticeship_id, "apprenticeship"),
                                   parse_body(OTJ_CREATE))
    body = otj.activity_body(activity)
    return Created(body, body["href"], None)


@bp.get("/apprenticeships/<apprenticeship_id>/otj-activities")
def list_otj_activities(apprenticeship_id):
    args = parse_args(PAGE_ARGS)
    page = otj.list_activities(current_principal(), parse_id(apprenticeship_id, "apprenticeship"),
                               args.get("cursor"), args["limit"])
    return page_response(page, cache_control=PRIVATE)


@bp.get("/otj-activities/<activity_id>")
def get_otj_activity(activity_id):
    parse_args(NO_ARGS)
    activity = visible_otj_activity(current_principal(), parse_id(activity_id, "off-the-job activity"))
    return json_response(otj.activity_body(activity), cache_control=PRIVATE)


@bp.post("/otj-activities/<activity_id>/confirm")
@write_endpoint
@takes_no_body
def confirm_otj_activity(activity_id):
    parse_args(NO_ARGS)
    activity = otj.confirm_activity(current_principal(), parse_id(activity_id, "off-the-job activity"))
    return json_response(otj.activity_body(activity), cache_control="no-store")


@bp.post("/imports/otj-activities")
@write_endpoint
def import_otj_activities():
    """Record off-the-job training from a CSV file: all rows or none."""
    parse_args(NO_ARGS)
    if request.mimetype != "text/csv":
        raise UnsupportedMediaType("send the activities as text/csv")
    report = otj_import.import_csv(current_principal(), request.stream)
    return json_response(report, cache_control="no-store")
