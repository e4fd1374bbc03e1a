"""Read-side queries over canonical content. Each function runs a constant number of queries.

Status filter: content is read at one lifecycle status at a time (default ``published``); drafts are only returned
when ``status="draft"`` is asked for, withdrawn versions when ``status="withdrawn"`` is.
"""

import json
import uuid
from dataclasses import dataclass

import orjson
from peewee import fn

from api import db
from api.errors import NotFound
from api.models import (
    AssessmentCriterion,
    AwardingBody,
    EvidenceType,
    LearningOutcome,
    Qualification,
    Standard,
    Unit,
    UnitVersion,
)
from api.models.base import iso_utc
from api.services.common.access import Principal, can_read_content, visible_content
from api.services.common.pagination import Page, keyset_page
from api.services.content.queries import HEAD_DOCUMENT_SQL
from api.services.content.rendering import owner_summary

MAX_VERSION_NUMBER = 2**31 - 1
ANY_STATUS = "any"  # list filter only: each unit at its released head if it has one, else at its draft


@dataclass
class Document:
    """A stored, pre-rendered JSON document with its ETag and lifecycle status."""

    body: str
    etag: str
    status: str


@dataclass
class UnitFilters:
    code: str | None = None
    owner: str | None = None
    level: int | None = None
    status: str = "published"
    q: str | None = None


# What a list item shows (unit_summary): not the stored document or source, which a page of 50 large units would read
# and parse for nothing (about 40 ms a page at 500 units)
SUMMARY_COLUMNS = (UnitVersion.id, UnitVersion.unit, UnitVersion.number, UnitVersion.status, UnitVersion.title,
                   UnitVersion.level, UnitVersion.credit_value, UnitVersion.glh, UnitVersion.published_at)


def _unit_version_query(status: str):
    """Head versions at ``status`` (or ANY_STATUS) with their unit and owner, ready to filter."""
    query = (UnitVersion.select(*SUMMARY_COLUMNS, Unit.id, Unit.code, Unit.owner, AwardingBody.id, AwardingBody.slug,
                                AwardingBody.name).join(Unit).join(AwardingBody).where(UnitVersion.is_head))
    if status != ANY_STATUS:
        return query.where(UnitVersion.status == status)
    Released = UnitVersion.alias("released")
    has_released = Released.select(Released.id).where(Released.unit == UnitVersion.unit, Released.is_head,
                                                      Released.status != "draft")
    return query.where((UnitVersion.status != "draft") | ~fn.EXISTS(has_released))


def unit_summary(version: UnitVersion) -> dict:
    """The list-item view of a unit at one version."""
    unit = version.unit
    return {
        "id": str(unit.id), "code": unit.code, "title": version.title, "level": version.level,
        "credit_value": version.credit_value, "glh": version.glh, "owner": owner_summary(unit.owner),
        "status": version.status, "version": version.number, "version_id": str(version.id),
        "published_at": iso_utc(version.published_at),
        "links": {"self": f"/v1/units/{unit.id}", "version": f"/v1/units/{unit.id}/versions/{version.number}"},
    }


def list_units(filters: UnitFilters, cursor: str | None, limit: int, principal: Principal) -> Page:
    """Units the principal may see whose head version at ``filters.status`` matches every filter, by code then id."""
    query = visible_content(_unit_version_query(filters.status), principal, UnitVersion.status, Unit.owner)
    if filters.code:
        query = query.where(Unit.code == filters.code)
    if filters.owner:
        query = query.where(AwardingBody.slug == filters.owner)
    if filters.level is not None:
        query = query.where(UnitVersion.level == filters.level)
    for word in (filters.q or "").lower().split():
        query = query.where(UnitVersion.search_text.contains(word))
    page = keyset_page(query, [Unit.code, Unit.id], cursor, limit, key_of=lambda v: [v.unit.code, str(v.unit.id)])
    page.items = [unit_summary(v) for v in page.items]
    return page


def _document_query():
    return UnitVersion.select(UnitVersion.document, UnitVersion.etag, UnitVersion.status, Unit.owner).join(Unit)


def _visible_document(row, principal: Principal) -> Document | None:
    if row is None or not can_read_content(principal, row.status, row.unit.owner_id):
        return None
    return Document(row.document, row.etag, row.status)


def get_unit_document(unit_id: uuid.UUID, status: str, principal: Principal) -> Document:
    """The full tree of a unit at its head version for ``status``: one indexed lookup of stored bytes."""
    rows = db.fetch_rows(HEAD_DOCUMENT_SQL, (UnitVersion.unit.db_value(unit_id), status))
    row = rows[0] if rows else None
    if row is None or not can_read_content(principal, row[2], uuid.UUID(str(row[3]))):
        raise NotFound(_missing_unit_detail(unit_id, status))
    return Document(row[0], row[1], row[2])


def get_unit_source(unit_id: uuid.UUID, status: str, principal: Principal) -> tuple[dict, str]:
    """The unit's head version of ``status`` as the unit document PUT /v1/units/{id}/draft accepts (the data/units
    shape, as it was saved, with ``status: draft``: what a PUT makes of it), and that version's ETag, the If-Match of
    the PUT. PUT back unchanged, it changes nothing."""
    version = (UnitVersion.select(UnitVersion.source, UnitVersion.etag, Unit.owner).join(Unit)
               .where(UnitVersion.unit == unit_id, UnitVersion.status == status, UnitVersion.is_head).first())
    if version is None or not can_read_content(principal, status, version.unit.owner_id):
        raise NotFound(_missing_unit_detail(unit_id, status))
    return {**version.source, "status": "draft"}, version.etag


class SharedDocument(dict):
    """A parsed stored document, shared between requests: never modify it (nor anything inside it). Its content
    is fixed by its strong ETag, so values derived from it alone may be cached with it (api.gql.projection)."""


# Parsed documents by strong ETag (a hash of the exact bytes, so an entry can never be stale). Bounded: emptied
# when full.
_PARSED: dict[str, SharedDocument] = {}
PARSED_CACHE_SIZE = 128


def parsed(document: Document) -> SharedDocument:
    """A stored document as a dict, parsed once per ETag in this process. The result must not be modified."""
    found = _PARSED.get(document.etag)
    if found is None:
        found = SharedDocument(orjson.loads(document.body))
        if len(_PARSED) >= PARSED_CACHE_SIZE:
            _PARSED.clear()
        _PARSED[document.etag] = found
    return found


def _missing_unit_detail(unit_id: uuid.UUID, status: str) -> str:
    hint = "" if status == "draft" else " (drafts are read with ?status=draft by their awarding body's authors)"
    return f"no unit {unit_id} with a {status} version visible to you{hint}"


def list_versions(unit_id: uuid.UUID, status: str, principal: Principal) -> list[dict]:
    """Every version of a unit at ``status`` that the principal may see, newest first (without their documents)."""
    query = (UnitVersion.select(UnitVersion.id, UnitVersion.number, UnitVersion.status, UnitVersion.is_head,
                                UnitVersion.title, UnitVersion.etag, UnitVersion.created_at,
                                UnitVersion.published_at, UnitVersion.withdrawn_at).join(Unit)
             .where(UnitVersion.unit == unit_id, UnitVersion.status == status).order_by(UnitVersion.number.desc()))
    versions = list(visible_content(query, principal, UnitVersion.status, Unit.owner))
    if not versions:
        raise NotFound(_missing_unit_detail(unit_id, status))
    return [_version_summary(unit_id, v) for v in versions]


def _version_summary(unit_id, v: UnitVersion) -> dict:
    return {"id": str(v.id), "number": v.number, "status": v.status, "is_head": v.is_head, "title": v.title,
            "etag": v.etag, "created_at": iso_utc(v.created_at), "published_at": iso_utc(v.published_at),
            "withdrawn_at": iso_utc(v.withdrawn_at), "href": f"/v1/units/{unit_id}/versions/{v.number}"}


def get_unit_version(unit_id: uuid.UUID, number: int, status: str, principal: Principal) -> Document:
    """One numbered version's stored document, if that version is at ``status`` and visible to the principal."""
    if not 1 <= number <= MAX_VERSION_NUMBER:
        raise NotFound(f"unit {unit_id} has no version {number}: version numbers start at 1")
    row = _document_query().where(UnitVersion.unit == unit_id, UnitVersion.number == number,
                                  UnitVersion.status == status).first()
    document = _visible_document(row, principal)
    if document is None:
        raise NotFound(f"unit {unit_id} has no {status} version {number} visible to you")
    return document


def _version_context(document: dict) -> dict:
    return {"id": document["id"], "code": document["code"], "title": document["title"], "owner": document["owner"],
            "status": document["status"], "version": document["version"], "version_id": document["version_id"],
            "href": document["links"]["self"]}


def _containing_document(model, item_id: uuid.UUID, status: str, principal: Principal, what: str) -> dict:
    """The parsed document of the unit version that holds ``item_id`` (an outcome or criterion), if visible."""
    row = (model.select(UnitVersion.document, UnitVersion.status, Unit.owner).join(UnitVersion).join(Unit)
           .where(model.id == item_id, UnitVersion.status == status).tuples().first())
    if row is None or not can_read_content(principal, row[1], row[2]):
        raise NotFound(f"no {status} {what} {item_id} visible to you")
    return json.loads(row[0])


def get_outcome(outcome_id: uuid.UUID, status: str, principal: Principal) -> dict:
    """A learning outcome with its criteria and the unit version it belongs to."""
    document = _containing_document(LearningOutcome, outcome_id, status, principal, "learning outcome")
    outcome = next(o for o in document["learning_outcomes"] if o["id"] == str(outcome_id))
    return {**outcome, "unit": _version_context(document), "href": f"/v1/learning-outcomes/{outcome_id}"}


def get_criterion(criterion_id: uuid.UUID, status: str, principal: Principal) -> dict:
    """An assessment criterion with its outcome, its unit version and the mappings that cover it."""
    document = _containing_document(AssessmentCriterion, criterion_id, status, principal, "assessment criterion")
    key = str(criterion_id)
    for outcome in document["learning_outcomes"]:
        for criterion in outcome["criteria"]:
            if criterion["id"] == key:
                mappings = [m for m in document["mappings"] if m["criterion_id"] in (None, key)]
                return {**criterion, "href": f"/v1/criteria/{key}",
                        "outcome": {"id": outcome["id"], "number": outcome["number"], "title": outcome["title"],
                                    "kind": outcome["kind"], "href": f"/v1/learning-outcomes/{outcome['id']}"},
                        "unit": _version_context(document), "mappings": mappings}
    raise NotFound(f"no {status} assessment criterion {criterion_id}")  # pragma: no cover - rows and documents agree


def list_evidence_types() -> list[dict]:
    """The whole evidence-type vocabulary, by code."""
    return [{"code": t.code, "name": t.name, "description": t.description}
            for t in EvidenceType.select().order_by(EvidenceType.code)]


def list_standards(cursor: str | None, limit: int, urn: str | None = None) -> Page:
    query = Standard.select(Standard.id, Standard.slug, Standard.urn, Standard.title)
    if urn:
        query = query.where(Standard.urn == urn)
    page = keyset_page(query, [Standard.slug, Standard.id], cursor, limit, key_of=lambda s: [s.slug, str(s.id)])
    page.items = [{"id": str(s.id), "slug": s.slug, "urn": s.urn, "title": s.title, "href": f"/v1/standards/{s.id}"}
                  for s in page.items]
    return page


def get_standard(standard_id: uuid.UUID) -> Document:
    row = Standard.select(Standard.document, Standard.etag).where(Standard.id == standard_id).first()
    if row is None:
        raise NotFound(f"no standard {standard_id}")
    return Document(row.document, row.etag, "published")


def list_qualifications(cursor: str | None, limit: int, status: str, code: str | None, owner: str | None,
                        principal: Principal) -> Page:
    query = (Qualification.select(Qualification, AwardingBody).join(AwardingBody)
             .where(Qualification.status == status))
    query = visible_content(query, principal, Qualification.status, Qualification.owner)
    if code:
        query = query.where(Qualification.code == code)
    if owner:
        query = query.where(AwardingBody.slug == owner)
    page = keyset_page(query, [Qualification.code, Qualification.id], cursor, limit,
                       key_of=lambda q: [q.code, str(q.id)])
    page.items = [{"id": str(q.id), "code": q.code, "title": q.title, "level": q.level, "status": q.status,
                   "owner": owner_summary(q.owner), "href": f"/v1/qualifications/{q.id}"} for q in page.items]
    return page


def get_qualification(qualification_id: uuid.UUID, status: str, principal: Principal) -> Document:
    row = (Qualification.select(Qualification.document, Qualification.etag, Qualification.status, Qualification.owner)
           .where(Qualification.id == qualification_id, Qualification.status == status).first())
    if row is None or not can_read_content(principal, row.status, row.owner_id):
        raise NotFound(f"no {status} qualification {qualification_id} visible to you")
    return Document(row.document, row.etag, row.status)


def list_awarding_bodies(cursor: str | None, limit: int) -> Page:
    """Awarding bodies, by slug (public: a body's name is on every unit it owns)."""
    query = AwardingBody.select(AwardingBody.id, AwardingBody.slug, AwardingBody.name)
    page = keyset_page(query, [AwardingBody.slug, AwardingBody.id], cursor, limit,
                       key_of=lambda b: [b.slug, str(b.id)])
    page.items = [owner_summary(b) for b in page.items]
    return page


def documents_by_version(version_ids: list, principal: Principal) -> dict[str, dict]:
    """Parsed unit documents for the given version ids, those the principal may see only: one query."""
    query = (UnitVersion.select(UnitVersion.id, UnitVersion.document, UnitVersion.status, Unit.owner).join(Unit)
             .where(UnitVersion.id.in_(version_ids)))
    return {str(v.id): json.loads(v.document)
            for v in visible_content(query, principal, UnitVersion.status, Unit.owner)}


def versions_by_unit(unit_ids: list, status: str, principal: Principal) -> dict[str, list[dict]]:
    """list_versions for many units in one query: {unit id: versions at ``status``, newest first}."""
    query = (UnitVersion.select(UnitVersion.id, UnitVersion.unit, UnitVersion.number, UnitVersion.status,
                                UnitVersion.is_head, UnitVersion.title, UnitVersion.etag, UnitVersion.created_at,
                                UnitVersion.published_at, UnitVersion.withdrawn_at).join(Unit)
             .where(UnitVersion.unit.in_(unit_ids), UnitVersion.status == status)
             .order_by(UnitVersion.unit, UnitVersion.number.desc()))
    found: dict[str, list[dict]] = {}
    for v in visible_content(query, principal, UnitVersion.status, Unit.owner):
        found.setdefault(str(v.unit_id), []).append(_version_summary(v.unit_id, v))
    return found
