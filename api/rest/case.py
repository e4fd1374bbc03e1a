"""The CASE 1.1 provider at /ims/case/v1p1 (1EdTech REST/JSON binding): our published frameworks, read-only.

Responses are exactly the binding's payloads (no envelope of ours); failures are imsx_StatusInfo payloads with the
1.1 codeMinor values: unknownobject and invalid_uuid (404), invalid_selection_field and invalid_sort_field (400).
The mapping itself is in api.services.interop.case (units and qualifications), case_frameworks (frameworks kept
whole) and case_standards (apprenticeship standard versions, which the views ask first: a version in development is
served to admins only, and to anyone else does not exist).
"""

import re
import uuid
from urllib.parse import urlencode

from flask import Blueprint, Response, json, request, send_file

from api.auth import current_principal
from api.config import PROJECT_ROOT
from api.services.interop import case, case_frameworks, case_standards

bp = Blueprint("case", __name__)  # path variables use the binding's name, sourcedId
BASE_PATH = case.BASE_PATH
DISCOVERY_FILE = PROJECT_ROOT / "schema" / "case" / "imscasev1p1_openapi3_v1p0.json"
DEFAULT_LIMIT = 100
MAX_INT32 = 2**31 - 1
FILTER_TERM = re.compile(r"^\s*(\w+)\s*(<=|>=|!=|=|<|>|~)\s*'((?:[^']|'')*)'\s*$")


class CaseError(Exception):
    """A CASE failure: HTTP status, codeMinor value and a description for a person."""

    def __init__(self, status: int, code_minor: str, description: str, field: str = "sourcedId"):
        super().__init__(description)
        self.status, self.code_minor, self.description, self.field = status, code_minor, description, field


@bp.errorhandler(CaseError)
def status_info(error: CaseError) -> Response:
    body = {"imsx_codeMajor": "failure", "imsx_severity": "error", "imsx_description": error.description,
            "imsx_codeMinor": {"imsx_codeMinorField": [{"imsx_codeMinorFieldName": error.field,
                                                        "imsx_codeMinorFieldValue": error.code_minor}]}}
    return _json(body, error.status)


def _json(body, status: int = 200, *, private: bool = False) -> Response:
    """``private``: the answer holds what not everyone may read (shared caches must not keep it)."""
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    cache = ("private, no-cache" if private else "public, max-age=60") if status == 200 else "no-store"
    response.headers["Cache-Control"] = cache
    return response


def _links() -> case.Links:
    return case.Links(request.host_url)


def _sourced_id(value: str) -> uuid.UUID:
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        parsed = None
    if parsed is None or str(parsed) != value.lower():
        raise CaseError(404, "invalid_uuid", f"{value!r} is not a UUID: CASE identifiers are lower-case UUIDs")
    return parsed


def _unknown(kind: str, identifier) -> CaseError:
    return CaseError(404, "unknownobject", f"there is no published {kind} with identifier {identifier}")


@bp.get("/discovery/imscasev1p1_openapi3_v1p0.json")
def discovery():
    """The binding this provider implements (the official OpenAPI 3.0 file)."""
    return send_file(DISCOVERY_FILE, mimetype="application/json", max_age=3600)


# -- getAllCFDocuments -----------------------------------------------------------------------------------------------

def _int_arg(name: str, default: int, minimum: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not minimum <= int(raw) <= MAX_INT32:
        raise CaseError(400, "invalid_selection_field", f"{name} must be a whole number from {minimum} to {MAX_INT32}",
                        field=name)
    return int(raw)


def _matches(record: dict, term: str) -> bool:
    found = FILTER_TERM.match(term)
    if not found:
        raise CaseError(400, "invalid_selection_field", f"cannot read the filter term {term!r}: write field='value' "
                                                        "(operators = != > >= < <= ~, joined by AND or OR)",
                        field="filter")
    name, operator, value = found.group(1), found.group(2), found.group(3).replace("''", "'")
    actual = record.get(name)
    if isinstance(actual, dict):
        actual = actual.get("identifier")
    actual = "" if actual is None else str(actual)
    return {"=": actual == value, "!=": actual != value, ">": actual > value, ">=": actual >= value,
            "<": actual < value, "<=": actual <= value, "~": value.lower() in actual.lower()}[operator]


def _filtered(records: list[dict], expression: str) -> list[dict]:
    """OneRoster-style filter: terms joined by a single kind of logical operator (AND or OR)."""
    joiner = " OR " if " OR " in expression else " AND "
    terms = expression.split(joiner)
    combine = any if joiner == " OR " else all
    return [r for r in records if combine(_matches(r, t) for t in terms)]


@bp.get("/CFDocuments")
def get_all_documents():
    """Every published framework's CFDocument, with limit/offset paging, sort, filter and field selection."""
    limit, offset = _int_arg("limit", DEFAULT_LIMIT, 1), _int_arg("offset", 0, 0)
    links = _links()
    principal = current_principal()
    stored = [case_frameworks.document_record(v, links.root) for v in case_frameworks.served_versions()]
    stored += case_standards.listed_documents(principal, links.root)
    held = {record["identifier"] for record in stored}
    records = stored + [case.document_record(fw, links) for fw in case.frameworks() if fw.identifier not in held]
    if request.args.get("filter") is not None:
        records = _filtered(records, request.args["filter"])
    sort = request.args.get("sort")
    order = request.args.get("orderBy", "asc")
    if order not in ("asc", "desc"):
        raise CaseError(400, "invalid_sort_field", "orderBy must be asc or desc", field="orderBy")
    if sort is not None:
        if sort not in {key for r in records for key in r} | set(case.DOCUMENT_FIELDS):
            raise CaseError(400, "invalid_sort_field", f"cannot sort by {sort!r}: not a CFDocument field", field="sort")
        records.sort(key=lambda r: str(r.get(sort) or ""), reverse=order == "desc")
    elif order == "desc":
        records.reverse()
    total = len(records)
    page = records[offset:offset + limit]
    if "fields" in request.args:
        wanted = [f.strip() for f in request.args["fields"].split(",")]
        unknown = [f for f in wanted if f not in case.DOCUMENT_FIELDS]
        if not any(wanted) or unknown:
            raise CaseError(400, "invalid_selection_field",
                            f"fields must name CFDocument fields; not known: {', '.join(unknown) or '(blank)'}",
                            field="fields")
        page = [{k: v for k, v in r.items() if k in wanted} for r in page]
    response = _json({"CFDocuments": page}, private=principal.is_admin)
    response.headers["X-Total-Count"] = str(total)
    response.headers["Link"] = _page_links(total, limit, offset)
    return response


def _page_links(total: int, limit: int, offset: int) -> str:
    def link(at: int, rel: str) -> str:
        args = {k: v for k, v in request.args.items() if k not in ("offset", "limit")} | {"limit": limit,
                                                                                         "offset": at}
        return f'<{request.base_url}?{urlencode(args)}>; rel="{rel}"'

    last = max(0, (total - 1) // limit * limit)
    parts = [link(0, "first"), link(last, "last")]
    if offset + limit < total:
        parts.append(link(offset + limit, "next"))
    if offset > 0:
        parts.append(link(max(0, offset - limit), "prev"))
    return ", ".join(parts)


# -- one object by identifier ----------------------------------------------------------------------------------------

def _framework(sourced_id: str) -> case.Framework:
    identifier = _sourced_id(sourced_id)
    try:
        return case.framework(str(identifier))
    except case.UnknownObject:
        raise _unknown("CFDocument", identifier) from None


def _stored(kind: str, sourced_id: str) -> tuple:
    """(the served version of a framework kept whole that holds this member, or is this document, if any; the
    identifier asked for, as a UUID: invalid_uuid if it is not one)."""
    identifier = _sourced_id(sourced_id)
    if kind == "CFDocuments":
        return case_frameworks.served_version(str(identifier)), identifier
    return case_frameworks.holding(kind, str(identifier)), identifier


def _standard(kind: str, sourced_id: str, *, whole: bool = True) -> tuple:
    """(the apprenticeship standard version the caller may read that is this document or holds this member, if any;
    the identifier asked for, as a UUID: invalid_uuid if it is not one)."""
    identifier = _sourced_id(sourced_id)
    return case_standards.find(current_principal(), kind, identifier, _links().root, whole=whole), identifier


@bp.get("/CFDocuments/<sourcedId>")
def get_document(sourcedId):
    standard, _ = _standard("CFDocuments", sourcedId, whole=False)
    if standard is not None:
        return _json(standard.document(), private=not standard.public)
    version, _ = _stored("CFDocuments", sourcedId)
    if version is not None:
        return _json(case_frameworks.document_record(version, _links().root))
    return _json(case.document_record(_framework(sourcedId), _links()))


@bp.get("/CFPackages/<sourcedId>")
def get_package(sourcedId):
    standard, _ = _standard("CFDocuments", sourcedId)
    if standard is not None:
        return _json(standard.serving().whole(), private=not standard.public)
    version, _ = _stored("CFDocuments", sourcedId)
    if version is not None:
        return _json(case_frameworks.package_of(version, _links().root))
    return _json(case.package(_framework(sourcedId), _links()))


@bp.get("/CFItems/<sourcedId>")
def get_item(sourcedId):
    standard, identifier = _standard("CFItems", sourcedId)
    if standard is not None:
        return _json(standard.serving().alone("CFItems", str(identifier)), private=not standard.public)
    version, identifier = _stored("CFItems", sourcedId)
    if version is not None:
        return _json(case_frameworks.member_record(version, "CFItems", str(identifier), _links().root))
    try:
        item, _ = case.item_and_associations(identifier, _links())
    except case.UnknownObject:
        raise _unknown("CFItem", identifier) from None
    return _json(item)


@bp.get("/CFItemAssociations/<sourcedId>")
def get_item_associations(sourcedId):
    standard, identifier = _standard("CFItems", sourcedId)
    if standard is not None:
        item, associations = standard.serving().item_and_associations(str(identifier))
        return _json({"CFItem": item, "CFAssociations": associations}, private=not standard.public)
    version, identifier = _stored("CFItems", sourcedId)
    if version is not None:
        item, associations = case_frameworks.item_associations(version, str(identifier), _links().root)
        return _json({"CFItem": item, "CFAssociations": associations})
    try:
        item, associations = case.item_and_associations(identifier, _links())
    except case.UnknownObject:
        raise _unknown("CFItem", identifier) from None
    return _json({"CFItem": item, "CFAssociations": associations})


@bp.get("/CFAssociations/<sourcedId>")
def get_association(sourcedId):
    standard, identifier = _standard("CFAssociations", sourcedId)
    if standard is not None:
        return _json(standard.serving().alone("CFAssociations", str(identifier)), private=not standard.public)
    version, identifier = _stored("CFAssociations", sourcedId)
    if version is not None:
        return _json(case_frameworks.member_record(version, "CFAssociations", str(identifier), _links().root))
    try:
        return _json(case.association(identifier, _links()))
    except case.UnknownObject:
        raise _unknown("CFAssociation", identifier) from None


@bp.get("/CFItemTypes/<sourcedId>")
def get_item_type(sourcedId):
    shared = case_standards.definition("CFItemTypes", str(_sourced_id(sourcedId)), _links().root)
    if shared is not None:
        return _json({"CFItemTypes": [shared]})
    version, identifier = _stored("CFItemTypes", sourcedId)
    if version is not None:
        return _json({"CFItemTypes": [case_frameworks.member_record(version, "CFItemTypes", str(identifier),
                                                                    _links().root)]})
    try:
        return _json({"CFItemTypes": case.item_types(identifier, _links())})
    except case.UnknownObject:
        raise _unknown("CFItemType", identifier) from None


def _held_by_frameworks(path: str, kind: str, listed: bool):
    """The view of a definition only frameworks kept whole and standards hold (our own units have none): the member,
    alone or as a one-member list named ``path`` (``listed``), else unknownobject."""
    def view(sourcedId):
        shared = case_standards.definition(path, str(_sourced_id(sourcedId)), _links().root)
        if shared is not None:
            return _json({path: [shared]} if listed else shared)
        version, identifier = _stored(path, sourcedId)
        if version is None:
            raise _unknown(kind, identifier)
        record = case_frameworks.member_record(version, path, str(identifier), _links().root)
        return _json({path: [record]} if listed else record)

    view.__name__ = f"get_{kind.lower()}"
    view.__doc__ = f"A {kind} of a published framework kept whole or of the standards; unknownobject otherwise."
    return view


for _path, _kind, _listed in (("CFSubjects", "CFSubject", True), ("CFConcepts", "CFConcept", True),
                              ("CFLicenses", "CFLicense", False),
                              ("CFAssociationGroupings", "CFAssociationGrouping", False),
                              ("CFRubrics", "CFRubric", False)):
    bp.add_url_rule(f"/{_path}/<sourcedId>", view_func=_held_by_frameworks(_path, _kind, _listed), methods=["GET"])
