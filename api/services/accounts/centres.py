"""Centres, the tenants: created by the operator; each caller sees only the centres they belong to (admins see all)."""

import uuid

from api.errors import NotFound, ValidationFailed
from api.ids import new_id
from api.models import Centre
from api.services.common.access import Principal, require_authenticated, visible_centre, visible_centres
from api.services.common.pagination import Page, keyset_page


def create_centre(code: str, name: str) -> Centre:
    """A new centre; ValidationFailed if the code is taken or blank."""
    code, name = code.strip(), name.strip()
    if not code or not name:
        raise ValidationFailed("a centre needs a code and a name")
    if Centre.select().where(Centre.code == code).exists():
        raise ValidationFailed(f"centre code {code!r} is already taken", errors={"code": ["already taken"]})
    return Centre.create(id=new_id(), code=code, name=name)


def centres_by_code(codes: list[str]) -> list[Centre]:
    """The centres with these codes; NotFound naming any that does not exist."""
    centres = list(Centre.select().where(Centre.code.in_(codes))) if codes else []
    missing = sorted(set(codes) - {c.code for c in centres})
    if missing:
        raise NotFound(f"unknown centre(s): {', '.join(missing)}")
    return centres


def centre_body(centre: Centre) -> dict:
    return {"id": str(centre.id), "code": centre.code, "name": centre.name, "href": f"/v1/centres/{centre.id}"}


def list_centres(principal: Principal, cursor: str | None, limit: int) -> Page:
    """The centres visible to the caller, by code."""
    require_authenticated(principal)
    query = visible_centres(Centre.select(), principal, Centre.id)
    page = keyset_page(query, [Centre.code, Centre.id], cursor, limit, key_of=lambda c: [c.code, str(c.id)])
    page.items = [centre_body(c) for c in page.items]
    return page


def get_centre(principal: Principal, centre_id: uuid.UUID) -> dict:
    """One centre, if the caller belongs to it (NotFound otherwise: other tenants are not revealed)."""
    return centre_body(visible_centre(principal, centre_id))
