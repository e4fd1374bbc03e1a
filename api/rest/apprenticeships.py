"""REST views for apprenticeship standards. Thin: parse, call api.services.apprenticeships, shape the response.
Versions published for delivery are public; importing is for admins."""

from flask import Blueprint, request

from api.auth import current_principal
from api.errors import UnsupportedMediaType
from api.inputs.params import NO_ARGS, PAGE_ARGS, VERSION_CHANGES_ARGS
from api.rest.http import document_response, json_response, page_response, parse_args, write_endpoint
from api.services.apprenticeships import catalog, importing

bp = Blueprint("apprenticeships", __name__)


def _cache_control() -> str:
    """Shared caches may keep what anyone may read; an admin's answer can hold versions in development."""
    return "private, no-cache" if current_principal().is_admin else "public, max-age=60"


@bp.get("/apprenticeship-standards")
def list_standards():
    """Apprenticeship standards by reference number, each with its versions; cursor-paginated."""
    args = parse_args(PAGE_ARGS)
    page = catalog.list_standards(current_principal(), args.get("cursor"), args["limit"])
    return page_response(page, _cache_control())


@bp.get("/apprenticeship-standards/<reference_number>")
def get_standard(reference_number):
    """A standard and its versions, oldest first."""
    parse_args(NO_ARGS)
    return json_response(catalog.get_standard(current_principal(), reference_number), _cache_control())


@bp.get("/apprenticeship-standards/<reference_number>/versions/<version>")
def get_standard_version(reference_number, version):
    """A version of a standard: its KSBs and duties in published order, and the faults its import reported."""
    parse_args(NO_ARGS)
    document = catalog.get_version(current_principal(), reference_number, version)
    return document_response(document, _cache_control())


@bp.get("/apprenticeship-standards/<reference_number>/versions/<version>/changes")
def get_standard_version_changes(reference_number, version):
    """What changed from an earlier version (``from_version``) to this one."""
    earlier = parse_args(VERSION_CHANGES_ARGS)["from_version"]
    changes = catalog.version_changes(current_principal(), reference_number, version, earlier)
    return json_response(changes, _cache_control())


@bp.post("/imports/apprenticeship-standards")
@write_endpoint
def import_standards():
    """Import standards as Skills England publishes them (one version object, or the API's array); admins."""
    parse_args(NO_ARGS)
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("send the standards as application/json")
    report = importing.import_standards(current_principal(), request.get_data(cache=False))
    return json_response(report, cache_control="no-store")
