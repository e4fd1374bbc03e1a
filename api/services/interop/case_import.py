"""Importing a CASE CFPackage (1.0 or 1.1) as an awarding body's units, saved as drafts.

The framework's tree is read from its isChildOf associations, ordered by sequenceNumber: the items directly under
the document are units, their children learning outcomes, and theirs assessment criteria. Each becomes a unit
document (the data/units shape) that keeps the CASE identifiers (``case_identifier``), codes and full text, so the
framework exports back with the same identifiers, texts, order and associations, and is saved like any other draft
(api.services.lifecycle): validated, idempotent, audited.

Lenient in what real exporters emit: numbers as strings, timestamps without a time zone, node references given as
bare URIs, upper-case or non-v4 UUIDs, members carrying their own URIs, fields we do not use. Strict in what we store:
every unit is validated by schema/unit.schema.json (the limits data files obey: lengths, no control characters)
before anything is written, and each problem is reported at its JSON path in the package (e.g.
``$.CFItems[3].fullStatement``), all of them at once; nothing is saved unless every unit is valid.
"""

import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from api.errors import ValidationFailed
from api.models import AwardingBody, Standard
from api.models.base import content_id
from api.services.common.access import Principal
from api.services.content.data_files import ContentFile, check_document
from api.services.interop.case import suite_id
from api.services.sync import lifecycle

UUID_IN = re.compile(r"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})")
MAX_DEPTH = 3
MATCHES = {"exactMatchOf": "full", "isRelatedTo": "partial"}
SEQUENCE = re.compile(r"-?[0-9]{1,18}")
LAST = 2**31  # where an item without a usable sequenceNumber goes


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
        return LAST
    if isinstance(value, int):
        return value
    if isinstance(value, str) and SEQUENCE.fullmatch(value.strip()):
        return int(value.strip())
    return LAST


@dataclass
class _Item:
    """A CFItem and its JSON path in the package, so that a problem with it is reported where it is."""

    fields: dict
    path: str


def _text(item: _Item, origins: dict, target: str) -> str:
    """The item's statement (full, else abbreviated); ``origins[target]`` notes where it came from."""
    name = "fullStatement" if item.fields.get("fullStatement") else "abbreviatedStatement"
    text = item.fields.get(name)
    if not isinstance(text, str) or not text.strip():
        raise _problem(f"{item.path}.{name}", "an item needs a fullStatement (a string)")
    origins[target] = f"{item.path}.{name}"
    return text


def _label(item: _Item, origins: dict, target: str, names: tuple[str, ...]) -> str | None:
    """The first of the item's ``names`` that is set, as text (exporters write a string or a whole number)."""
    for name in names:
        value = item.fields.get(name)
        if value is None or value == "":
            continue
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise _problem(f"{item.path}.{name}", "must be a string")
        origins[target] = f"{item.path}.{name}"
        return str(value)
    return None


def _list(package: dict, name: str) -> list:
    value = package.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _problem(f"$.{name}", "must be an array")
    return value


def _tree(package: dict) -> tuple[dict, dict[str, _Item], dict[str, list[tuple[str, str]]], list[dict]]:
    """(document, items by identifier, children by parent identifier in sequence order, as (child, path of the
    association), other associations)."""
    document = package.get("CFDocument")
    if not isinstance(document, dict):
        raise _problem("$.CFDocument", "a CFPackage has a CFDocument")
    items = {}
    for index, item in enumerate(_list(package, "CFItems")):
        path = f"$.CFItems[{index}]"
        if not isinstance(item, dict):
            raise _problem(path, "not an object")
        items[_identifier(item.get("identifier"), f"{path}.identifier")] = _Item(item, path)
    children: dict[str, list[tuple[int, int, str]]] = {}
    others = []
    for index, association in enumerate(_list(package, "CFAssociations")):
        path = f"$.CFAssociations[{index}]"
        if not isinstance(association, dict):
            raise _problem(path, "not an object")
        if association.get("associationType") != "isChildOf":
            others.append(association)
            continue
        child = _identifier(association.get("originNodeURI"), f"{path}.originNodeURI")
        parent = _identifier(association.get("destinationNodeURI"), f"{path}.destinationNodeURI")
        if child not in items:
            raise _problem(f"{path}.originNodeURI", f"item {child} is not in CFItems")
        children.setdefault(parent, []).append((_sequence(association.get("sequenceNumber")), index, child))
    ordered = {parent: [(child, f"$.CFAssociations[{index}]") for _, index, child in sorted(kids)]
               for parent, kids in children.items()}
    return document, items, ordered, others


def _document_text(document: dict, name: str, origins: dict, target: str) -> str | None:
    value = document.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _problem(f"$.CFDocument.{name}", "must be a string")
    origins[target] = f"$.CFDocument.{name}"
    return value


def unit_documents(package: dict, owner: AwardingBody) -> list[tuple[dict, dict]]:
    """The package's units as unit documents (data/units shape, status draft) for ``owner``, each with its origins:
    unit document JSON path -> the package's JSON path of the value it holds."""
    document, items, children, others = _tree(package)
    root = _identifier(document.get("identifier"), "$.CFDocument.identifier")
    mappings = _mappings(others)
    units = []
    for unit_id, _ in children.get(root, []):
        unit, origins = items[unit_id], {}
        title = _document_text(document, "title", origins, "$.case_document.title") or "CASE framework"
        creator = _document_text(document, "creator", origins, "$.case_document.creator")
        outcomes = []
        for o_number, (outcome_id, _) in enumerate(children.get(unit_id, []), start=1):
            outcome, at = items[outcome_id], f"$.learning_outcomes[{o_number - 1}]"
            criteria = []
            for c_number, (criterion_id, association) in enumerate(children.get(outcome_id, []), start=1):
                if children.get(criterion_id):
                    raise _problem(association, f"item {criterion_id} is nested deeper than {MAX_DEPTH} levels "
                                                "(unit, learning outcome, assessment criterion)")
                criterion, c_at = items[criterion_id], f"{at}.criteria[{c_number - 1}]"
                number = f"{o_number}.{c_number}"
                criteria.append({"number": number, **_written(criterion, number, origins, c_at),
                                 "text": _text(criterion, origins, f"{c_at}.text"), "case_identifier": criterion_id})
            outcomes.append({"number": str(o_number), **_written(outcome, str(o_number), origins, at),
                             "case_identifier": outcome_id, "title": _text(outcome, origins, f"{at}.title"),
                             "kind": "competence", "criteria": criteria})
        code = _label(unit, origins, "$.code", ("humanCodingScheme", "listEnumeration")) or unit_id[:8]
        unit_document = {
            "kind": "unit", "owner": owner.slug, "code": code.strip(), "case_identifier": unit_id,
            "title": _text(unit, origins, "$.title"), "status": "draft", "level": None,
            "learning_outcomes": outcomes, "nos_mappings": mappings.get(unit_id, []),
            "source": {"document": title, "description": f"Imported from CASE package {root}"},
        }
        if root != suite_id(owner):  # a framework of its own (our own suites come back as themselves)
            unit_document["case_document"] = {"identifier": root, "title": title,
                                              **({"creator": creator} if creator else {})}
        origins["$.source.document"] = origins.get("$.case_document.title", "$.CFDocument")
        units.append((unit_document, origins | {"$": unit.path}))
    if not units:
        raise _problem("$.CFAssociations", "no items are children of the CFDocument: nothing to import")
    return units


def _written(item: _Item, number: str, origins: dict, at: str) -> dict:
    """Keep the exporter's own numbering where it differs from ours."""
    written = _label(item, origins, f"{at}.number_as_written", ("listEnumeration", "humanCodingScheme"))
    return {"number_as_written": written} if written and written != number else {}


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


def _check_units(units: list[tuple[dict, dict]]) -> None:
    """Every unit document checked as a data file would be (schema limits, numbering); one ValidationFailed naming
    each problem at its path in the package (or the unit's item, with the unit document's path) otherwise."""
    errors: dict[str, list[str]] = {}
    for document, origins in units:
        for problem in check_document(ContentFile(Path("CASE package"), document)).problems:
            if problem.path in origins:
                errors.setdefault(origins[problem.path], []).append(problem.message)
            else:
                errors.setdefault(origins["$"], []).append(f"as unit {problem.path}: {problem.message}")
    if errors:
        raise ValidationFailed(f"the CASE package is not usable: {', '.join(sorted(errors))}", errors=errors)


def import_package(principal: Principal, package, owner_slug: str) -> list[dict]:
    """Save every unit of ``package`` as a draft of ``owner_slug`` (all or none); [{code, unit_id, version,
    outcome}]."""
    if not isinstance(package, dict):
        raise _problem("$", "a CFPackage is a JSON object")
    owner = AwardingBody.get_or_none(AwardingBody.slug == owner_slug)
    if owner is None:
        raise ValidationFailed(f"unknown awarding body {owner_slug!r}", errors={"awarding_body": ["unknown"]})
    units = unit_documents(package, owner)
    _check_units(units)
    results = []
    for document, _ in units:
        unit_id = content_id("unit", owner.slug, document["code"])
        saved = lifecycle.save_draft(principal, unit_id, document, None)
        results.append({"code": document["code"], "unit_id": str(unit_id), "version": saved.version.number,
                        "outcome": "created" if saved.created else "updated" if saved.changed else "unchanged"})
    return results
