"""Importing a CASE CFPackage (1.0 or 1.1) as an awarding body's units, saved as drafts.

The framework's tree is read from its isChildOf associations, ordered by sequenceNumber: the items directly under
the document are units, their children learning outcomes, and theirs assessment criteria. Each becomes a unit
document (the data/units shape) that keeps the CASE identifiers (``case_identifier``), codes and full text, so the
framework exports back with the same identifiers, texts, order and associations, and is saved like any other draft
(api.services.lifecycle): validated, idempotent, audited.

Lenient in what real exporters emit: numbers as strings, timestamps without a time zone, node references given as
bare URIs, upper-case or non-v4 UUIDs, members carrying their own URIs. Strict in what we store: every document is
validated by schema/unit.schema.json before anything is written.
"""

import re
import uuid

from api.errors import ValidationFailed
from api.models import AwardingBody, Standard
from api.models.base import content_id
from api.services import lifecycle
from api.services.access import Principal
from api.services.case import suite_id

UUID_IN = re.compile(r"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})")
MAX_DEPTH = 3
MATCHES = {"exactMatchOf": "full", "isRelatedTo": "partial"}


def _problem(path: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"the CASE package is not usable: {path}: {message}", errors={path: [message]})


def _identifier(value, path: str) -> str:
    """A lower-case UUID from an identifier, a link object or a bare URI ending in one."""
    if isinstance(value, dict):
        value = value.get("identifier") or value.get("uri")
    found = UUID_IN.findall(value) if isinstance(value, str) else []
    if not found:
        raise _problem(path, f"no UUID identifier in {value!r}")
    return str(uuid.UUID(found[-1]))


def _sequence(value) -> int:
    """sequenceNumber as exporters write it: an int, a numeric string, or nothing (last)."""
    if isinstance(value, bool):
        return 2**31
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return 2**31


def _text(item: dict, path: str) -> str:
    text = item.get("fullStatement") or item.get("abbreviatedStatement")
    if not isinstance(text, str) or not text.strip():
        raise _problem(path, "an item needs a fullStatement")
    return text


def _tree(package: dict) -> tuple[dict, dict[str, dict], dict[str, list[str]], list[dict]]:
    """(document, items by identifier, children by parent identifier in sequence order, other associations)."""
    document = package.get("CFDocument")
    if not isinstance(document, dict):
        raise _problem("$.CFDocument", "a CFPackage has a CFDocument")
    items = {}
    for index, item in enumerate(package.get("CFItems") or []):
        if not isinstance(item, dict):
            raise _problem(f"$.CFItems[{index}]", "not an object")
        items[_identifier(item.get("identifier"), f"$.CFItems[{index}].identifier")] = item
    children: dict[str, list[tuple[int, int, str]]] = {}
    others = []
    for index, association in enumerate(package.get("CFAssociations") or []):
        path = f"$.CFAssociations[{index}]"
        if not isinstance(association, dict):
            raise _problem(path, "not an object")
        if association.get("associationType") != "isChildOf":
            others.append(association)
            continue
        child = _identifier(association.get("originNodeURI"), f"{path}.originNodeURI")
        parent = _identifier(association.get("destinationNodeURI"), f"{path}.destinationNodeURI")
        children.setdefault(parent, []).append((_sequence(association.get("sequenceNumber")), index, child))
    ordered = {parent: [child for _, _, child in sorted(kids)] for parent, kids in children.items()}
    return document, items, ordered, others


def unit_documents(package: dict, owner: AwardingBody) -> list[dict]:
    """The package's units as unit documents (data/units shape, status draft) for ``owner``."""
    document, items, children, others = _tree(package)
    root = _identifier(document.get("identifier"), "$.CFDocument.identifier")
    title = document.get("title") or "CASE framework"
    mappings = _mappings(others)
    units = []
    for unit_id in children.get(root, []):
        unit = items.get(unit_id)
        if unit is None:
            raise _problem("$.CFAssociations", f"item {unit_id} is a child of the document but not in CFItems")
        outcomes = []
        for o_number, outcome_id in enumerate(children.get(unit_id, []), start=1):
            outcome = items[outcome_id]
            criteria = []
            for c_number, criterion_id in enumerate(children.get(outcome_id, []), start=1):
                if children.get(criterion_id):
                    raise _problem("$.CFAssociations", f"item {criterion_id} is nested deeper than {MAX_DEPTH} levels "
                                                       "(unit, learning outcome, assessment criterion)")
                criteria.append({"number": f"{o_number}.{c_number}", **_written(items[criterion_id], f"{o_number}."
                                                                                                     f"{c_number}"),
                                 "text": _text(items[criterion_id], f"$.CFItems[{criterion_id}]"),
                                 "case_identifier": criterion_id})
            outcomes.append({"number": str(o_number), **_written(outcome, str(o_number)), "case_identifier": outcome_id,
                             "title": _text(outcome, f"$.CFItems[{outcome_id}]"), "kind": "competence",
                             "criteria": criteria})
        code = (unit.get("humanCodingScheme") or unit.get("listEnumeration") or unit_id[:8]).strip()
        units.append({
            "kind": "unit", "owner": owner.slug, "code": code, "case_identifier": unit_id,
            "title": _text(unit, f"$.CFItems[{unit_id}]"), "status": "draft", "level": None,
            "learning_outcomes": outcomes, "nos_mappings": mappings.get(unit_id, []),
            "source": {"seed": f"CASE package {root}", "description": f"Imported from the CASE framework {title!r}"},
        })
        if root != suite_id(owner):  # a framework of its own (our own suites come back as themselves)
            units[-1]["case_document"] = {"identifier": root, "title": title,
                                          **({"creator": document["creator"]} if document.get("creator") else {})}
    if not units:
        raise _problem("$.CFAssociations", "no items are children of the CFDocument: nothing to import")
    return units


def _written(item: dict, number: str) -> dict:
    """Keep the exporter's own numbering where it differs from ours."""
    written = item.get("listEnumeration") or item.get("humanCodingScheme")
    return {"number_as_written": str(written)} if written and str(written) != number else {}


def _mappings(associations: list[dict]) -> dict[str, list[dict]]:
    """NOS links of whole units (exactMatchOf: maps fully; isRelatedTo: partly) to standards we hold."""
    standards = {str(s.id): s.slug for s in Standard.select(Standard.id, Standard.slug)}
    found: dict[str, list[dict]] = {}
    for association in associations:
        strength = MATCHES.get(association.get("associationType"))
        if strength is None:
            continue
        try:
            origin = _identifier(association.get("originNodeURI"), "origin")
            target = _identifier(association.get("destinationNodeURI"), "destination")
        except ValidationFailed:
            continue
        if target in standards:
            found.setdefault(origin, []).append({"standard": standards[target], "strength": strength})
    return found


def import_package(principal: Principal, package, owner_slug: str) -> list[dict]:
    """Save every unit of ``package`` as a draft of ``owner_slug``; [{code, unit_id, version, outcome}]."""
    if not isinstance(package, dict):
        raise _problem("$", "a CFPackage is a JSON object")
    owner = AwardingBody.get_or_none(AwardingBody.slug == owner_slug)
    if owner is None:
        raise ValidationFailed(f"unknown awarding body {owner_slug!r}", errors={"awarding_body": ["unknown"]})
    results = []
    for document in unit_documents(package, owner):
        unit_id = content_id("unit", owner.slug, document["code"])
        saved = lifecycle.save_draft(principal, unit_id, document, None)
        results.append({"code": document["code"], "unit_id": str(unit_id), "version": saved.version.number,
                        "outcome": "created" if saved.created else "updated" if saved.changed else "unchanged"})
    return results
