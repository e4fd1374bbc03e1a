"""Load validated data/units files into the database: idempotent, one transaction per file.

Loading the same files twice changes nothing. A changed published unit becomes a new version (the old one stays,
immutable); a changed draft is edited in place. A file with any problem is not loaded at all.
"""

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from api.db import write_transaction
from api.models import (
    AssessmentCriterion,
    AwardingBody,
    EvidenceType,
    Guidance,
    LearningOutcome,
    Mapping,
    OutcomeEvidenceType,
    Qualification,
    QualificationGroup,
    QualificationGroupUnit,
    Standard,
    StandardItem,
    Unit,
    UnitGuidance,
    UnitVersion,
)
from api.models.base import content_id, utcnow
from api.services.content import rendering
from api.services.content.data_files import ContentFile, Problem, read_all
from api.services.sync import changes


@dataclass
class LoadReport:
    """What a load did: per file an outcome (created, updated, unchanged, invalid) and every problem found."""

    outcomes: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def source_hash(document: dict) -> str:
    """Hash of a document's content, ignoring its lifecycle status."""
    content = {k: v for k, v in document.items() if k != "status"}
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def load_path(root: Path) -> LoadReport:
    """Validate and load every file under ``root``; re-render documents that changed."""
    report = LoadReport()
    seen_keys: dict[tuple, str] = {}
    events: list[tuple[str, UnitVersion]] = []
    for content in read_all(root):
        if not content.problems:
            check_references(content, seen_keys)
        if content.problems:
            report.outcomes[str(content.path)] = "invalid"
            report.problems.extend(content.problems)
            continue
        with write_transaction():
            load = LOADERS[content.kind]
            report.outcomes[str(content.path)] = load(content.document, events) if load is load_unit else \
                load(content.document)
    with write_transaction():
        rerender_all()
        for action, version in events:  # after rendering, so each entry carries its version's final ETag
            changes.record(action, UnitVersion.get_by_id(version.id), LOADER_ACTOR)
    return report


# -- reference checks (the rules JSON Schema cannot express) -------------------------------------------------------

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
                if _find_unit(ref["owner"], ref["code"]) is None:
                    content.problem(f"$.groups[{g}].units[{u}]", f"unknown unit {ref['owner']}/{ref['code']}")
    elif kind == "guidance":
        for i, ref in enumerate(doc["applies_to"]):
            if _find_unit(ref["owner"], ref["code"]) is None:
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
    unit = _find_unit(doc["owner"], doc["code"])
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


def _find_unit(owner_slug: str, code: str) -> Unit | None:
    return Unit.select().join(AwardingBody).where(AwardingBody.slug == owner_slug, Unit.code == code).first()


# -- loaders, one per kind ----------------------------------------------------------------------------------------

def load_catalogue(doc: dict) -> str:
    created = not AwardingBody.select().exists()
    changed = False
    for body in doc["awarding_bodies"]:
        existing = AwardingBody.get_or_none(AwardingBody.slug == body["slug"])
        if existing is None:
            AwardingBody.create(id=content_id("awarding-body", body["slug"]), slug=body["slug"], name=body["name"])
            changed = True
        elif existing.name != body["name"]:
            existing.name = body["name"]
            existing.save()
            changed = True
    for entry in doc["evidence_types"]:
        values = {"name": entry["name"], "description": entry.get("description")}
        existing = EvidenceType.get_or_none(EvidenceType.code == entry["code"])
        if existing is None:
            EvidenceType.create(code=entry["code"], **values)
            changed = True
        elif (existing.name, existing.description) != (values["name"], values["description"]):
            EvidenceType.update(**values).where(EvidenceType.code == entry["code"]).execute()
            changed = True
    return ("created" if created else "updated") if changed else "unchanged"


def load_standard(doc: dict) -> str:
    digest = source_hash(doc)
    standard = Standard.get_or_none(Standard.slug == doc["slug"])
    if standard is not None and standard.source_hash == digest:
        return "unchanged"
    outcome = "created" if standard is None else "updated"
    if standard is None:
        standard = Standard(id=content_id("standard", doc["slug"]), slug=doc["slug"])
        force_insert = True
    else:
        force_insert = False
        StandardItem.delete().where(StandardItem.standard == standard.id).execute()
    standard.urn, standard.title, standard.source_hash = doc.get("urn"), doc["title"], digest
    standard.document, standard.etag, standard.updated_at = "{}", '""', utcnow()
    standard.save(force_insert=force_insert)
    rows = [
        {"id": content_id("standard-item", standard.id, item["number"]), "standard": standard.id, "kind": kind,
         "number": item["number"], "text": item["text"], "position": position}
        for position, (kind, item) in enumerate(
            [("performance", i) for i in doc["performance_criteria"]] + [("knowledge", i) for i in doc["knowledge"]])
    ]
    if rows:
        StandardItem.insert_many(rows).execute()
    standard.document, standard.etag = rendering.render_standard(standard, doc)
    standard.save()
    return outcome


def load_unit(doc: dict, events: list | None = None) -> str:
    """Load one unit file. ``events`` collects (action, version) pairs for the change feed."""
    events = events if events is not None else []
    owner = AwardingBody.get(AwardingBody.slug == doc["owner"])
    unit_id = content_id("unit", owner.slug, doc["code"])
    unit = Unit.get_or_none(Unit.id == unit_id)
    created = unit is None
    if created:
        unit = Unit.create(id=unit_id, owner=owner.id, code=doc["code"])
    digest = source_hash(doc)
    heads = {("draft" if v.status == "draft" else "released"): v
             for v in UnitVersion.select().where(UnitVersion.unit == unit.id, UnitVersion.is_head)}
    draft, released = heads.get("draft"), heads.get("released")

    if doc["status"] == "draft":
        if draft is not None and draft.source_hash == digest:
            return "unchanged"
        if draft is not None:
            edit_draft(draft, doc, digest)
            events.append(("draft_edited", draft))
            return "updated"
        events.append(("created", new_version(unit, doc, digest, "draft")))
        return "created" if created else "updated"

    # published or withdrawn: the released head is what the file describes
    if released is not None and released.source_hash == digest:
        if released.status == doc["status"]:
            return "unchanged"
        released.status = doc["status"]
        released.published_at = released.published_at or utcnow()
        released.withdrawn_at = utcnow() if doc["status"] == "withdrawn" else None
        released.etag = UNRENDERED  # its status shows in its document
        released.save()
        events.append(("withdrawn" if doc["status"] == "withdrawn" else "published", released))
        return "updated"
    if draft is not None and draft.source_hash == digest:
        version = draft  # the file publishes the current draft as it stands
        version.status = doc["status"]
    else:
        version = new_version(unit, doc, digest, doc["status"])
        events.append(("created", version))
    version.published_at = utcnow()
    version.withdrawn_at = utcnow() if doc["status"] == "withdrawn" else None
    version.etag = UNRENDERED
    version.save()
    events.append(("withdrawn" if doc["status"] == "withdrawn" else "published", version))
    if released is not None:
        UnitVersion.update(is_head=False).where(UnitVersion.id == released.id).execute()
    return "created" if created else "updated"


def new_version(unit: Unit, doc: dict, digest: str, status: str) -> UnitVersion:
    """A new version (the next number) of ``unit`` with the content of ``doc``, based on the latest version."""
    latest = UnitVersion.select(UnitVersion.number).where(UnitVersion.unit == unit.id) \
        .order_by(UnitVersion.number.desc()).first()
    number = 1 if latest is None else latest.number + 1
    version = UnitVersion(id=content_id("unit-version", unit.id, number), unit=unit.id, number=number, status=status,
                          is_head=True)
    _write_version_content(version, doc, digest, force_insert=True)
    return version


def edit_draft(draft: UnitVersion, doc: dict, digest: str) -> None:
    """Replace a draft's content with ``doc`` (drafts are edited in place; released versions never are)."""
    _clear_version_content(draft)
    _write_version_content(draft, doc, digest)


def base_version(unit_id, number: int) -> UnitVersion | None:
    """The version a version ``number`` is based on: the latest one before it."""
    return (UnitVersion.select().where(UnitVersion.unit == unit_id, UnitVersion.number < number)
            .order_by(UnitVersion.number.desc()).first())


def _clear_version_content(version: UnitVersion) -> None:
    Mapping.delete().where(Mapping.version == version.id).execute()
    AssessmentCriterion.delete().where(AssessmentCriterion.version == version.id).execute()
    outcome_ids = LearningOutcome.select(LearningOutcome.id).where(LearningOutcome.version == version.id)
    OutcomeEvidenceType.delete().where(OutcomeEvidenceType.outcome.in_(outcome_ids)).execute()
    LearningOutcome.delete().where(LearningOutcome.version == version.id).execute()


def _write_version_content(version: UnitVersion, doc: dict, digest: str, force_insert: bool = False) -> None:
    """Write a version row and its outcomes, criteria, allowed evidence types and mappings (batched inserts)."""
    outcomes = doc["learning_outcomes"]
    version.title, version.level = doc["title"], doc.get("level")
    version.credit_value, version.glh = doc.get("credit_value"), doc.get("glh")
    version.source, version.source_hash = doc, digest
    version.search_text = " ".join(
        [doc["code"], doc["title"]] + [o["title"] for o in outcomes]
        + [c["text"] for o in outcomes for c in o["criteria"]]
    ).lower()
    version.document, version.etag = "{}", UNRENDERED
    version.save(force_insert=force_insert)
    outcome_rows, type_rows, criterion_rows = [], [], []
    criterion_ids = {}
    identities = CriterionIdentities(base_version(version.unit_id, version.number))
    for position, outcome in enumerate(outcomes):
        outcome_id = content_id("outcome", version.id, outcome["number"])
        outcome_rows.append({"id": outcome_id, "version": version.id, "number": outcome["number"],
                             "title": outcome["title"], "kind": outcome["kind"], "position": position})
        type_rows += [{"outcome": outcome_id, "evidence_type": code}
                      for code in outcome.get("evidence", {}).get("types", [])]
        for criterion in outcome["criteria"]:
            criterion_id = content_id("criterion", version.id, criterion["number"])
            criterion_ids[criterion["number"]] = criterion_id
            identity, replaces = identities.assign(criterion_id, criterion)
            criterion_rows.append({"id": criterion_id, "version": version.id, "outcome": outcome_id,
                                   "number": criterion["number"], "text": criterion["text"],
                                   "position": len(criterion_rows), "details": {}, "identity": identity,
                                   "replaces": replaces})
    mapping_rows = [
        {"id": content_id("mapping", version.id, i), "version": version.id,
         "criterion": criterion_ids.get(m.get("criterion")), "standard": content_id("standard", m["standard"]),
         "items": m.get("items", []), "strength": m["strength"], "as_written": m.get("as_written"),
         "note": m.get("note")}
        for i, m in enumerate(doc.get("nos_mappings", []))
    ]
    for model, rows in ((LearningOutcome, outcome_rows), (OutcomeEvidenceType, type_rows),
                        (AssessmentCriterion, criterion_rows), (Mapping, mapping_rows)):
        if rows:
            model.insert_many(rows).execute()


def load_qualification(doc: dict) -> str:
    digest = source_hash(doc)
    owner = AwardingBody.get(AwardingBody.slug == doc["owner"])
    qualification_id = content_id("qualification", owner.slug, doc["code"])
    qualification = Qualification.get_or_none(Qualification.id == qualification_id)
    if qualification is not None and qualification.source_hash == digest and qualification.status == doc["status"]:
        return "unchanged"
    outcome = "created" if qualification is None else "updated"
    if qualification is not None:
        QualificationGroup.delete().where(QualificationGroup.qualification == qualification.id).execute()
    qualification = qualification or Qualification(id=qualification_id, owner=owner.id)
    qualification.code, qualification.title, qualification.level = doc["code"], doc["title"], doc.get("level")
    qualification.status, qualification.source_hash = doc["status"], digest
    qualification.source, qualification.updated_at = doc, utcnow()
    qualification.document, qualification.etag = "{}", '""'
    qualification.save(force_insert=outcome == "created")
    for position, group in enumerate(doc["groups"]):
        group_row = QualificationGroup.create(
            id=content_id("qualification-group", qualification.id, position), qualification=qualification.id,
            name=group["name"], position=position, mandatory=group.get("mandatory", False),
            min_units=group.get("min_units"), min_credits=group.get("min_credits"))
        rows = [{"group": group_row.id, "unit": _find_unit(ref["owner"], ref["code"]).id, "position": i}
                for i, ref in enumerate(group["units"])]
        if rows:
            QualificationGroupUnit.insert_many(rows).execute()
    return outcome


GUIDANCE_BODY_FIELDS = ("synopsis", "key_concepts", "tips", "misconceptions", "marking_points", "headings_as_written",
                        "notes", "source")


def load_guidance(doc: dict) -> str:
    digest = source_hash(doc)
    guidance = Guidance.get_or_none(Guidance.slug == doc["slug"])
    if guidance is not None and guidance.source_hash == digest:
        return "unchanged"
    outcome = "created" if guidance is None else "updated"
    guidance = guidance or Guidance(id=content_id("guidance", doc["slug"]), slug=doc["slug"])
    guidance.title, guidance.source_hash = doc["title"], digest
    guidance.body = {name: doc.get(name) for name in GUIDANCE_BODY_FIELDS}
    guidance.save(force_insert=outcome == "created")
    UnitGuidance.delete().where(UnitGuidance.guidance == guidance.id).execute()
    UnitGuidance.insert_many([
        {"unit": _find_unit(ref["owner"], ref["code"]).id, "guidance": guidance.id, "note": ref.get("note")}
        for ref in doc["applies_to"]
    ]).execute()
    return outcome


UNRENDERED = '""'  # the ETag of a version whose document is still to be rendered
LOADER_ACTOR = "loader:load-units"

LOADERS = {"catalogue": load_catalogue, "standard": load_standard, "unit": load_unit,
           "qualification": load_qualification, "guidance": load_guidance}


def rerender_all() -> int:
    """Render every document not yet rendered, and re-render drafts and qualifications; write only those whose
    bytes changed. Returns how many documents were written.

    Documents embed summaries of linked standards and guidance, so a change there shows in drafts at once. Published
    and withdrawn versions are frozen: rendered once, when released (or when their status changes), never again.
    """
    rewritten = 0
    for version in UnitVersion.select().where((UnitVersion.status == "draft") | (UnitVersion.etag == UNRENDERED)):
        rewritten += render_version(version)
    for qualification in Qualification.select():
        document, etag = rendering.render_qualification(qualification, qualification.source)
        if etag != qualification.etag:
            Qualification.update(document=document, etag=etag).where(Qualification.id == qualification.id).execute()
            rewritten += 1
    return rewritten


def render_version(version: UnitVersion) -> int:
    """Render one version's document and store it (and its ETag) if its bytes changed; 1 if written, else 0."""
    document, etag = rendering.render_unit_version(version)
    if etag == version.etag:
        return 0
    UnitVersion.update(document=document, etag=etag).where(UnitVersion.id == version.id).execute()
    version.document, version.etag = document, etag
    return 1


class CriterionIdentities:
    """Gives each criterion of a new or edited version its identity across versions (see AssessmentCriterion):
    declared ``replaces`` first, then the same text at the same number, then the same text anywhere, else new."""

    def __init__(self, base: UnitVersion | None):
        rows = [] if base is None else list(
            AssessmentCriterion.select(AssessmentCriterion.number, AssessmentCriterion.text,
                                       AssessmentCriterion.identity, AssessmentCriterion.id)
            .where(AssessmentCriterion.version == base.id).order_by(AssessmentCriterion.position))
        self.by_number = {r.number: r for r in rows}
        self.rows = rows
        self.taken: set = set()

    def assign(self, criterion_id, criterion: dict) -> tuple:
        """(identity, replaces) for the criterion ``criterion`` (a data-file entry) stored as ``criterion_id``."""
        if criterion.get("replaces"):
            replaced = self.by_number[criterion["replaces"]]
            return criterion_id, replaced.identity or replaced.id
        same_place = self.by_number.get(criterion["number"])
        candidates = ([same_place] if same_place else []) + self.rows
        for row in candidates:
            identity = row.identity or row.id
            if row.text == criterion["text"] and identity not in self.taken:
                self.taken.add(identity)
                return identity, None
        imported = criterion.get("case_identifier")  # a criterion imported from CASE keeps its identifier
        return (uuid.UUID(imported) if imported else criterion_id), None
