"""The rules a JSON Schema cannot express about a content file: what it refers to exists (awarding bodies, evidence
types, standards and their items, units), it is defined once, and each criterion it says ``replaces`` another names a
criterion of the version it will be based on. Data files (api.services.content.loader) and unit drafts sent to the
API (api.services.sync.lifecycle) are both held to them."""

from api.models import AssessmentCriterion, AwardingBody, EvidenceType, Standard, StandardItem, Unit, UnitVersion
from api.services.content.data_files import ContentFile
from api.services.content.versions import base_version


def check_references(content: ContentFile, seen_keys: dict) -> None:
    doc, kind = content.document, content.kind
    key = _natural_key(doc)
    if key in seen_keys:
        content.problem("$", f"{kind} {key[1:]} is also defined in {seen_keys[key]}")
    else:
        seen_keys[key] = str(content.path)
    owner_known = "owner" not in doc or AwardingBody.select().where(AwardingBody.slug == doc["owner"]).exists()
    if not owner_known:
        content.problem("$.owner", f"unknown awarding body {doc['owner']!r} (add it to the catalogue)")
    if kind == "unit":
        _check_unit_references(content)
    elif kind == "qualification":
        for g, group in enumerate(doc["groups"]):
            for u, ref in enumerate(group["units"]):
                if find_unit(ref["owner"], ref["code"]) is None:
                    content.problem(f"$.groups[{g}].units[{u}]", f"unknown unit {ref['owner']}/{ref['code']}")
    elif kind == "guidance":
        for i, ref in enumerate(doc["applies_to"]):
            if find_unit(ref["owner"], ref["code"]) is None:
                content.problem(f"$.applies_to[{i}]", f"unknown unit {ref['owner']}/{ref['code']}")


def _natural_key(doc: dict) -> tuple:
    if doc["kind"] in ("unit", "qualification"):
        return (doc["kind"], doc["owner"], doc["code"])
    if doc["kind"] in ("standard", "guidance"):
        return (doc["kind"], doc["slug"])
    return ("catalogue",)


def _check_unit_references(content: ContentFile) -> None:
    doc = content.document
    known_types = {code for (code,) in EvidenceType.select(EvidenceType.code).tuples()}
    for i, outcome in enumerate(doc["learning_outcomes"]):
        for j, code in enumerate(outcome.get("evidence", {}).get("types", [])):
            if code not in known_types:
                content.problem(f"$.learning_outcomes[{i}].evidence.types[{j}]", f"unknown evidence type {code!r}")
    _check_replaces(content)
    criteria = {c["number"] for o in doc["learning_outcomes"] for c in o["criteria"]}
    for i, mapping in enumerate(doc.get("nos_mappings", [])):
        standard = Standard.get_or_none(Standard.slug == mapping["standard"])
        if standard is None:
            content.problem(f"$.nos_mappings[{i}].standard", f"unknown standard {mapping['standard']!r}")
            continue
        numbers = {n for (n,) in StandardItem.select(StandardItem.number)
                   .where(StandardItem.standard == standard.id).tuples()}
        for j, item in enumerate(mapping.get("items", [])):
            if item not in numbers:
                content.problem(f"$.nos_mappings[{i}].items[{j}]", f"standard {standard.slug!r} has no item {item!r}")
        if "criterion" in mapping and mapping["criterion"] not in criteria:
            content.problem(f"$.nos_mappings[{i}].criterion", f"the unit has no criterion {mapping['criterion']!r}")


def _check_replaces(content: ContentFile) -> None:
    """Each ``replaces`` names a criterion of the version this content will be based on, at most once."""
    doc = content.document
    claimed = [(i, j, c["replaces"]) for i, o in enumerate(doc["learning_outcomes"])
               for j, c in enumerate(o["criteria"]) if c.get("replaces")]
    if not claimed:
        return
    unit = find_unit(doc["owner"], doc["code"])
    base = None if unit is None else base_for(unit, doc["status"])
    numbers = set() if base is None else {n for (n,) in AssessmentCriterion.select(AssessmentCriterion.number)
                                          .where(AssessmentCriterion.version == base.id).tuples()}
    seen: set = set()
    for i, j, number in claimed:
        path = f"$.learning_outcomes[{i}].criteria[{j}].replaces"
        if base is None:
            content.problem(path, "there is no earlier version of this unit to replace a criterion of")
        elif number not in numbers:
            content.problem(path, f"version {base.number} (the one this is based on) has no criterion {number!r}")
        elif number in seen:
            content.problem(path, f"criterion {number!r} is replaced twice")
        seen.add(number)


def base_for(unit: Unit, status: str) -> UnitVersion | None:
    """The version that content for ``unit`` at ``status`` will be based on: the draft head's base when a draft is
    edited, else the latest version."""
    draft = UnitVersion.get_or_none(UnitVersion.unit == unit.id, UnitVersion.is_head, UnitVersion.status == "draft")
    if draft is not None and status == "draft":
        return base_version(unit.id, draft.number)
    return UnitVersion.select().where(UnitVersion.unit == unit.id).order_by(UnitVersion.number.desc()).first()


def find_unit(owner_slug: str, code: str) -> Unit | None:
    return Unit.select().join(AwardingBody).where(AwardingBody.slug == owner_slug, Unit.code == code).first()
