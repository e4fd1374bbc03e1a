"""REST views over canonical content: units, versions, outcomes, criteria, evidence types, standards,
qualifications. Thin: parse arguments, call api.services.content.catalog, shape the response."""

from flask import Blueprint, request

from api.auth import current_principal
from api.inputs.params import NO_ARGS, QUALIFICATION_LIST_ARGS, STANDARD_LIST_ARGS, STATUS_ARGS, UNIT_LIST_ARGS
from api.rest.http import cache_control_for, document_response, json_response, page_response, parse_args, parse_id
from api.services.content import catalog
from api.services.content.catalog import UnitFilters

bp = Blueprint("content", __name__)


@bp.get("/units")
def list_units():
    """Units at one status, filtered by code, owner, level or words (q); cursor-paginated.

    Without ``status`` a browse lists published units only, while an exact ``code`` lookup finds the unit whatever
    its status (each item says which)."""
    args = parse_args(UNIT_LIST_ARGS)
    limit, cursor = args.pop("limit"), args.pop("cursor", None)
    args["status"] = args.get("status") or (catalog.ANY_STATUS if args.get("code") else "published")
    page = catalog.list_units(UnitFilters(**args), cursor, limit, current_principal())
    return page_response(page, cache_control_for(args["status"]))


@bp.get("/units/<unit_id>")
def get_unit(unit_id):
    """The full tree of a unit at its newest version of the requested status."""
    status = parse_args(STATUS_ARGS)["status"]
    document = catalog.get_unit_document(parse_id(unit_id, "unit"), status, current_principal())
    return document_response(document, cache_control_for(document.status))


@bp.get("/units/<unit_id>/document")
def get_unit_source(unit_id):
    """The unit at its newest version of the requested status as the document PUT .../draft accepts."""
    status = parse_args(STATUS_ARGS)["status"]
    document, etag = catalog.get_unit_source(parse_id(unit_id, "unit"), status, current_principal())
    response = json_response(document, cache_control_for(status))
    response.headers["ETag"] = etag  # the version's: send it as If-Match with the PUT
    return response.make_conditional(request)


@bp.get("/units/<unit_id>/versions")
def list_unit_versions(unit_id):
    """The versions of a unit at the requested status, newest first."""
    status = parse_args(STATUS_ARGS)["status"]
    versions = catalog.list_versions(parse_id(unit_id, "unit"), status, current_principal())
    return json_response({"items": versions}, cache_control_for(status))


@bp.get("/units/<unit_id>/versions/<int(signed=True):number>")
def get_unit_version(unit_id, number):
    """One numbered version of a unit, as it was rendered when loaded or published."""
    status = parse_args(STATUS_ARGS)["status"]
    document = catalog.get_unit_version(parse_id(unit_id, "unit"), number, status, current_principal())
    return document_response(document, cache_control_for(document.status, max_age=3600))


@bp.get("/learning-outcomes/<outcome_id>")
def get_learning_outcome(outcome_id):
    """A learning outcome with its criteria and its unit version."""
    status = parse_args(STATUS_ARGS)["status"]
    return json_response(catalog.get_outcome(parse_id(outcome_id, "learning outcome"), status, current_principal()),
                         cache_control_for(status))


@bp.get("/criteria/<criterion_id>")
def get_criterion(criterion_id):
    """An assessment criterion with its range, outcome, unit version and mappings."""
    status = parse_args(STATUS_ARGS)["status"]
    criterion = catalog.get_criterion(parse_id(criterion_id, "assessment criterion"), status, current_principal())
    return json_response(criterion, cache_control_for(status))


@bp.get("/evidence-types")
def list_evidence_types():
    """The evidence-type vocabulary that units allow per learning outcome."""
    parse_args(NO_ARGS)
    return json_response({"items": catalog.list_evidence_types()}, cache_control_for("published"))


@bp.get("/standards")
def list_standards():
    """National Occupational Standards, by slug; cursor-paginated."""
    args = parse_args(STANDARD_LIST_ARGS)
    return page_response(catalog.list_standards(args.get("cursor"), args["limit"], args.get("urn")),
                         cache_control_for("published"))


@bp.get("/standards/<standard_id>")
def get_standard(standard_id):
    """A standard with its performance criteria and knowledge items."""
    parse_args(NO_ARGS)
    return document_response(catalog.get_standard(parse_id(standard_id, "standard")), cache_control_for("published"))


@bp.get("/qualifications")
def list_qualifications():
    """Qualifications at one status, filtered by code or owner; cursor-paginated."""
    args = parse_args(QUALIFICATION_LIST_ARGS)
    page = catalog.list_qualifications(args.get("cursor"), args["limit"], args["status"], args.get("code"),
                                       args.get("owner"), current_principal())
    return page_response(page, cache_control_for(args["status"]))


@bp.get("/qualifications/<qualification_id>")
def get_qualification(qualification_id):
    """A qualification with its rules of combination."""
    status = parse_args(STATUS_ARGS)["status"]
    document = catalog.get_qualification(parse_id(qualification_id, "qualification"), status, current_principal())
    return document_response(document, cache_control_for(document.status))
