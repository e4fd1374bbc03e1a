"""Centres, the tenants: each caller sees only the centres they belong to (admins see all)."""

from flask import Blueprint

from api.auth import current_principal
from api.errors import NotFound
from api.models import Centre
from api.rest.http import json_response, page_response, parse_args
from api.rest.params import NO_ARGS, PAGE_ARGS
from api.services.access import require_authenticated, visible_centres
from api.services.catalog import parse_id
from api.services.pagination import keyset_page

bp = Blueprint("centres", __name__)


def centre_body(centre: Centre) -> dict:
    return {"id": str(centre.id), "code": centre.code, "name": centre.name, "href": f"/v1/centres/{centre.id}"}


@bp.get("/centres")
def list_centres():
    """The centres visible to the caller, by code."""
    args = parse_args(PAGE_ARGS)
    principal = current_principal()
    require_authenticated(principal)
    query = visible_centres(Centre.select(), principal, Centre.id)
    page = keyset_page(query, [Centre.code, Centre.id], args.get("cursor"), args["limit"],
                       key_of=lambda c: [c.code, str(c.id)])
    page.items = [centre_body(c) for c in page.items]
    return page_response(page, cache_control="private, no-cache")


@bp.get("/centres/<centre_id>")
def get_centre(centre_id):
    """One centre, if the caller belongs to it (404 otherwise: other tenants are not revealed)."""
    parse_args(NO_ARGS)
    principal = current_principal()
    require_authenticated(principal)
    wanted = parse_id(centre_id, "centre")
    centre = visible_centres(Centre.select(), principal, Centre.id).where(Centre.id == wanted).first()
    if centre is None:
        raise NotFound(f"no centre {wanted} visible to you")
    return json_response(centre_body(centre), cache_control="private, no-cache")
