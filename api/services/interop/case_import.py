"""Importing a CASE CFPackage (1.0 or 1.1) as an awarding body's units, saved as drafts.

The framework's tree is read from its isChildOf associations, ordered by sequenceNumber: the items directly under
the document are units, their children learning outcomes, and theirs assessment criteria. Each becomes a unit
document (the data/units shape) that keeps the CASE identifiers (``case_identifier``), codes and full text, so the
framework exports back with the same identifiers, texts, order and associations, and is saved like any other draft
(api.services.lifecycle): validated, idempotent, audited. A unit's identity is its code (the item's
humanCodingScheme, else its listEnumeration, else its CASE identifier): two items never become one unit, and a unit
that another framework's item already holds is never overwritten.

The report accounts for every item and every association of the package: what each became (a unit, learning outcome
or assessment criterion; a hierarchy link; a NOS mapping) or why it was not kept (deeper than three levels, not under
the document, under two parents, an association type units cannot hold), with its JSON path.

Lenient in what real exporters emit: numbers as strings, timestamps without a time zone, node references given as
bare URIs, upper-case or non-v4 UUIDs, members carrying their own URIs, fields we do not use. Strict in what we store:
every unit is validated by schema/unit.schema.json (the limits data files obey: lengths, no control characters)
before anything is written, and each problem is reported at its JSON path in the package (e.g.
``$.CFItems[3].fullStatement``), all of them at once; nothing is saved unless every unit is valid. A package whose
references do not hold (an identifier listed twice, an isChildOf naming an item the package does not hold) is refused
whole, at the path of the problem.
"""

import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from api.errors import ValidationFailed
from api.models import AwardingBody, Standard, UnitVersion
from api.models.base import content_id
from api.services.common.access import Principal
from api.services.content.data_files import ContentFile, check_document
from api.services.interop import case_frameworks, case_package
from api.services.interop.case import suite_id
from api.services.sync import lifecycle

UUID_IN = re.compile(r"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})")
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


@dataclass
class _Package:
    """A package's document, items and associations, with its isChildOf tree."""

    document: dict
    root: str  # the CFDocument's identifier
    items: dict[str, _Item]  # by identifier, in package order
    children: dict[str, list[tuple[str, str]]]  # parent -> [(child, path of the isChildOf)] in sequence order
    parents: dict[str, list[tuple[str, str]]]  # child -> [(parent, path of the isChildOf)]
    associations: list[tuple[str, dict]]  # (JSON path, association), every one in package order


def _read(package: dict) -> _Package:
    """The package's parts, refused at the path of the problem if an identifier is listed twice, an isChildOf names
    an item the package does not hold, or isChildOf associations lead round in a cycle."""
    document = package.get("CFDocument")
    if not isinstance(document, dict):
        raise _problem("$.CFDocument", "a CFPackage has a CFDocument")
    root = _identifier(document.get("identifier"), "$.CFDocument.identifier")
    items: dict[str, _Item] = {}
    for index, item in enumerate(_list(package, "CFItems")):
        path = f"$.CFItems[{index}]"
        if not isinstance(item, dict):
            raise _problem(path, "not an object")
        identifier = _identifier(item.get("identifier"), f"{path}.identifier")
        if identifier in items or identifier == root:
            first = items[identifier].path if identifier in items else "$.CFDocument"
            raise _problem(f"{path}.identifier", f"{identifier} is also the identifier of {first}: each CFItem "
                                                 "has its own")
        items[identifier] = _Item(item, path)
    kids: dict[str, list[tuple[int, int, str]]] = {}
    parents: dict[str, list[tuple[str, str]]] = {}
    associations, seen = [], {}
    for index, association in enumerate(_list(package, "CFAssociations")):
        path = f"$.CFAssociations[{index}]"
        if not isinstance(association, dict):
            raise _problem(path, "not an object")
        if association.get("identifier") is not None:
            identifier = _identifier(association["identifier"], f"{path}.identifier")
            if identifier in seen:
                raise _problem(f"{path}.identifier", f"{identifier} is also the identifier of {seen[identifier]}: "
                                                     "each CFAssociation has its own")
            seen[identifier] = path
        associations.append((path, association))
        if association.get("associationType") != "isChildOf":
            continue
        child = _identifier(association.get("originNodeURI"), f"{path}.originNodeURI")
        parent = _identifier(association.get("destinationNodeURI"), f"{path}.destinationNodeURI")
        if child not in items:
            raise _problem(f"{path}.originNodeURI", f"item {child} is not in CFItems")
        if parent != root and parent not in items:
            raise _problem(f"{path}.destinationNodeURI", f"{parent} is neither in CFItems nor the CFDocument")
        kids.setdefault(parent, []).append((_sequence(association.get("sequenceNumber")), index, child))
        parents.setdefault(child, []).append((parent, path))
    children = {parent: [(child, f"$.CFAssociations[{index}]") for _, index, child in sorted(found)]
                for parent, found in kids.items()}
    _refuse_cycles(parents)
    return _Package(document, root, items, children, parents, associations)


def _refuse_cycles(parents: dict[str, list[tuple[str, str]]]) -> None:
    """Refuse isChildOf associations that lead round in a cycle (an item its own ancestor), at the path of one of
    them: a hierarchy has none. Iterative, so a long chain cannot exhaust the stack."""
    state: dict[str, int] = {}  # 1: on the walk now, 2: done
    for start in parents:
        if start in state:
            continue
        stack = [(start, iter(parents.get(start, [])))]
        state[start] = 1
        while stack:
            node, edges = stack[-1]
            step = next(edges, None)
            if step is None:
                state[node] = 2
                stack.pop()
                continue
            parent, path = step
            if state.get(parent) == 1:
                raise _problem(path, f"this isChildOf closes a cycle: item {parent} would be its own ancestor")
            if parent not in state:
                state[parent] = 1
                stack.append((parent, iter(parents.get(parent, []))))


def _document_text(document: dict, name: str, origins: dict, target: str) -> str | None:
    value = document.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _problem(f"$.CFDocument.{name}", "must be a string")
    origins[target] = f"$.CFDocument.{name}"
    return value


KINDS = ("unit", "learning_outcome", "assessment_criterion")  # what an item at depth 1, 2 and 3 becomes


def _placements(framework: _Package) -> tuple[dict[str, str], dict[str, str]]:
    """({item: the isChildOf path that places it in a unit}, {item: why it is not kept}) for every item: units,
    outcomes and criteria are the items at depth 1 to 3 under the document that have one parent."""
    placed: dict[str, str] = {}
    unkept: dict[str, str] = {}

    def place(node: str, depth: int) -> None:
        for child, association in framework.children.get(node, []):
            if len(framework.parents[child]) > 1:
                unkept[child] = (f"it has {len(framework.parents[child])} parents (isChildOf at "
                                 f"{', '.join(at for _, at in framework.parents[child])}): a unit, outcome or "
                                 "criterion has one")
            elif depth > len(KINDS):
                unkept[child] = (f"it is nested deeper than {len(KINDS)} levels under the CFDocument (unit, "
                                 "learning outcome, assessment criterion)")
            else:
                placed[child] = association
                place(child, depth + 1)

    place(framework.root, 1)
    for identifier in framework.items:
        if identifier not in placed and identifier not in unkept:
            unkept[identifier] = _why_unplaced(framework, identifier, placed, unkept)
    return placed, unkept


def _why_unplaced(framework: _Package, identifier: str, placed: dict, unkept: dict) -> str:
    """Why an item that no walk from the document reached is in no unit: its first parents lead to an item that is
    in none, or to an item with no parent."""
    chain, node = [], identifier
    while framework.parents.get(node) and node not in chain:
        chain.append(node)
        node = framework.parents[node][0][0]
    if any(framework.parents[n][0][0] in placed or framework.parents[n][0][0] in unkept for n in chain):
        return "it is under an item that is not kept"
    return "it is not under the CFDocument by isChildOf associations"


def unit_documents(package: dict, owner: AwardingBody) -> tuple[list[tuple[dict, dict]], dict, ValidationFailed | None]:
    """The package's units as unit documents (data/units shape, status draft) for ``owner``, each with its origins
    (unit document JSON path -> the package's JSON path of the value it holds); the report of what became of every
    item and association in them (``not_kept``, with the reason, for those that are in no unit); and, if there are no
    units, why."""
    framework = _read(package)
    placed, unkept = _placements(framework)
    document, root, items = framework.document, framework.root, framework.items
    report_items = {identifier: {"identifier": identifier, "path": item.path, "kept_as": "not_kept",
                                 "reason": unkept.get(identifier)} for identifier, item in items.items()}
    criterion_numbers: dict[str, tuple[str, str]] = {}  # criterion item -> (unit item, number)
    units, codes = [], {}
    for unit_id, _ in framework.children.get(root, []):
        if unit_id not in placed:
            continue
        unit, origins = items[unit_id], {}
        title = _document_text(document, "title", origins, "$.case_document.title") or "CASE framework"
        creator = _document_text(document, "creator", origins, "$.case_document.creator")
        code = (_label(unit, origins, "$.code", ("humanCodingScheme", "listEnumeration")) or unit_id).strip()
        if code in codes:
            raise _problem(origins.get("$.code", unit.path), f"{code!r} is also the code of {codes[code]}: two "
                           "items under the CFDocument would become one unit; give each its own humanCodingScheme")
        codes[code] = unit.path
        outcomes = []
        kept_children = [(o, a) for o, a in framework.children.get(unit_id, []) if o in placed]
        for o_number, (outcome_id, _) in enumerate(kept_children, start=1):
            outcome, at = items[outcome_id], f"$.learning_outcomes[{o_number - 1}]"
            criteria = []
            kept = [(c, a) for c, a in framework.children.get(outcome_id, []) if c in placed]
            for c_number, (criterion_id, _) in enumerate(kept, start=1):
                criterion, c_at = items[criterion_id], f"{at}.criteria[{c_number - 1}]"
                number = f"{o_number}.{c_number}"
                criterion_numbers[criterion_id] = (unit_id, number)
                criteria.append({"number": number, **_written(criterion, number, origins, c_at),
                                 "text": _text(criterion, origins, f"{c_at}.text"), "case_identifier": criterion_id})
                report_items[criterion_id] |= {"kept_as": "assessment_criterion", "unit_code": code}
            outcomes.append({"number": str(o_number), **_written(outcome, str(o_number), origins, at),
                             "case_identifier": outcome_id, "title": _text(outcome, origins, f"{at}.title"),
                             "kind": "competence", "criteria": criteria})
            report_items[outcome_id] |= {"kept_as": "learning_outcome", "unit_code": code}
        report_items[unit_id] |= {"kept_as": "unit", "unit_code": code}
        unit_document = {
            "kind": "unit", "owner": owner.slug, "code": code, "case_identifier": unit_id,
            "title": _text(unit, origins, "$.title"), "status": "draft", "level": None,
            "learning_outcomes": outcomes, "nos_mappings": [],
            "source": {"document": title, "description": f"Imported from CASE package {root}"},
        }
        if root != suite_id(owner):  # a framework of its own (our own suites come back as themselves)
            unit_document["case_document"] = {"identifier": root, "title": title,
                                              **({"creator": creator} if creator else {})}
        origins["$.source.document"] = origins.get("$.case_document.title", "$.CFDocument")
        units.append((unit_document, origins | {"$": unit.path}))
    by_unit = {document["case_identifier"]: document for document, _ in units}
    report_associations = _associations(framework, placed, by_unit, criterion_numbers)
    report = {"items": [{k: v for k, v in row.items() if v is not None} for row in report_items.values()],
              "associations": report_associations}
    return units, report, None if units else _why_no_units(framework, unkept)


def _why_no_units(framework: _Package, unkept: dict) -> ValidationFailed:
    """Why a package none of whose items can be a unit has nothing to import as units, for each item under the
    document."""
    under = framework.children.get(framework.root, [])
    if not under:
        return _problem("$.CFAssociations", "no items are children of the CFDocument: nothing to import")
    errors = {framework.items[item].path: [f"not kept as a unit: {unkept[item]}"] for item, _ in under}
    return ValidationFailed(f"the CASE package is not usable: no item under the CFDocument can be kept as a unit: "
                            f"{', '.join(errors)}", errors=errors)


def _written(item: _Item, number: str, origins: dict, at: str) -> dict:
    """Keep the exporter's own numbering where it differs from ours."""
    written = _label(item, origins, f"{at}.number_as_written", ("listEnumeration", "humanCodingScheme"))
    return {"number_as_written": written} if written and written != number else {}


def _associations(framework: _Package, placed: dict, by_unit: dict, criterion_numbers: dict) -> list[dict]:
    """What became of each association: a link of the unit tree (hierarchy), a NOS mapping of a unit or criterion
    (exactMatchOf: maps fully; isRelatedTo: partly) to a standard we hold, added to its unit document, or not kept
    and why."""
    standards = {str(s.id): s.slug for s in Standard.select(Standard.id, Standard.slug)}
    placing = set(placed.values())
    report = []
    for path, association in framework.associations:
        kind = association.get("associationType")
        row = {"identifier": _identifier(association["identifier"], "") if association.get("identifier") else None,
               "path": path, "association_type": kind if isinstance(kind, str) else None}
        if kind == "isChildOf":
            row |= ({"kept_as": "hierarchy"} if path in placing
                    else {"kept_as": "not_kept", "reason": "the item it places is not kept"})
        elif kind in MATCHES:
            row |= _mapping(association, MATCHES[kind], standards, by_unit, criterion_numbers)
        else:
            row |= {"kept_as": "not_kept", "reason": f"a {kind!r} association: units keep isChildOf, and "
                                                     "exactMatchOf or isRelatedTo to a standard this API holds"}
        report.append({k: v for k, v in row.items() if v is not None})
    return report


def _mapping(association: dict, strength: str, standards: dict, by_unit: dict, criterion_numbers: dict) -> dict:
    """Add a NOS mapping to its unit document if the association is one; what became of it."""
    try:
        origin = _identifier(association.get("originNodeURI"), "origin")
        target = _identifier(association.get("destinationNodeURI"), "destination")
    except ValidationFailed:
        return {"kept_as": "not_kept", "reason": "its originNodeURI or destinationNodeURI holds no UUID"}
    if target not in standards:
        return {"kept_as": "not_kept", "reason": f"its destination {target} is not a standard this API holds"}
    if origin in by_unit:
        mapping, unit = {"standard": standards[target], "strength": strength}, by_unit[origin]
    elif origin in criterion_numbers:
        unit_id, number = criterion_numbers[origin]
        mapping, unit = {"standard": standards[target], "criterion": number, "strength": strength}, by_unit[unit_id]
    else:
        return {"kept_as": "not_kept", "reason": f"its origin {origin} is not a unit or criterion of this import"}
    unit["nos_mappings"].append(mapping)
    return {"kept_as": "nos_mapping"}


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


def import_package(principal: Principal, package, owner_slug: str) -> dict:
    """Keep ``package`` as a framework of ``owner_slug`` (a new draft version if it changed) and save every unit in it
    as a draft, all or none: {framework, units: [{code, unit_id, version, outcome}], items, associations,
    outside_units, not_kept, fields_not_kept}. A package of the owner's own unit suite (our export) comes back as
    its units only."""
    if not isinstance(package, dict):
        raise _problem("$", "a CFPackage is a JSON object")
    owner = AwardingBody.get_or_none(AwardingBody.slug == owner_slug)
    if owner is None:
        raise ValidationFailed(f"unknown awarding body {owner_slug!r}", errors={"awarding_body": ["unknown"]})
    units, report, why_no_units = unit_documents(package, owner)
    _check_units(units)
    _check_not_taken(units, owner)
    framework, dropped = None, []
    if _identifier(package["CFDocument"].get("identifier"), "$.CFDocument.identifier") != suite_id(owner):
        stored, dropped = case_package.stored(package)
        made = [{"unit_id": str(content_id("unit", owner.slug, d["code"])), "code": d["code"]} for d, _ in units]
        framework = case_frameworks.store(principal, owner, stored, made)
        for row, association in zip(report["associations"], stored["CFAssociations"], strict=True):
            row["identifier"] = association["identifier"]  # as given, or minted where the exporter gave none
    elif why_no_units is not None:
        raise why_no_units
    results = []
    for document, _ in units:
        unit_id = content_id("unit", owner.slug, document["code"])
        saved = lifecycle.save_draft(principal, unit_id, document, None)
        results.append({"code": document["code"], "unit_id": str(unit_id), "version": saved.version.number,
                        "outcome": "created" if saved.created else "updated" if saved.changed else "unchanged"})
    rows = {kind: report[kind] for kind in ("items", "associations")}
    for row in (*rows["items"], *rows["associations"]):
        if row["kept_as"] == "not_kept" and framework is not None:
            row["kept_as"] = "framework"
    return {"framework": framework, "units": results, **rows,
            "outside_units": {kind: sum("reason" in row for row in rows[kind]) for kind in rows},
            "not_kept": {kind: sum(row["kept_as"] == "not_kept" for row in rows[kind]) for kind in rows},
            "fields_not_kept": dropped}


def _check_not_taken(units: list[tuple[dict, dict]], owner: AwardingBody) -> None:
    """Refuse a unit whose code already names one of the owner's units that holds another item (of another
    framework, or one authored here): the import would overwrite it."""
    errors: dict[str, list[str]] = {}
    for document, origins in units:
        unit_id = content_id("unit", owner.slug, document["code"])
        latest = (UnitVersion.select(UnitVersion.source).where(UnitVersion.unit == unit_id)
                  .order_by(UnitVersion.number.desc()).first())
        if latest is None:
            continue
        holds = (latest.source or {}).get("case_identifier") or str(unit_id)
        if holds != document["case_identifier"]:
            errors.setdefault(origins.get("$.code", origins["$"]), []).append(
                f"{document['code']!r} is already the code of unit {unit_id}, which holds CASE item {holds}: "
                "importing would overwrite it; give this item its own humanCodingScheme")
    if errors:
        raise ValidationFailed(f"the CASE package is not usable: {', '.join(sorted(errors))}", errors=errors)
