"""REST views for centres. Thin: parse, call api.services.accounts.centres, respond."""

from flask import Blueprint

from api.auth import current_principal
from api.inputs.params import NO_ARGS, PAGE_ARGS
from api.rest.http import json_response, page_response, parse_args, parse_id
from api.services.accounts import centres

bp = Blueprint("centres", __name__)


@bp.get("/centres")
def list_centres():
    """The centres visible to the caller, by code."""
    args = parse_args(PAGE_ARGS)
    page = centres.list_centres(current_principal(), args.get("cursor"), args["limit"])
    return page_response(page, cache_control="private, no-cache")


@bp.get("/centres/<centre_id>")
def get_centre(centre_id):
    """One centre, if the caller belongs to it (404 otherwise: other tenants are not revealed)."""
    parse_args(NO_ARGS)
    body = centres.get_centre(current_principal(), parse_id(centre_id, "centre"))
    return json_response(body, cache_control="private, no-cache")
