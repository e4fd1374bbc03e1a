"""Load validated data/units files into the database: idempotent, one transaction per file.

Loading the same files twice changes nothing. A changed published unit becomes a new version (the old one stays,
immutable); a changed draft is edited in place (api.services.content.versions). A file with any problem, against its
schema (api.services.content.data_files) or its references (api.services.content.references), is not loaded at all.
"""

from dataclasses import dataclass, field
from pathlib import Path

from api.db import write_transaction
from api.models import (
    AwardingBody,
    EvidenceType,
    Guidance,
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
from api.services.content.data_files import Problem, read_all, source_hash
from api.services.content.references import check_references, find_unit
from api.services.content.versions import UNRENDERED, edit_draft, new_version, render_version
from api.services.sync import feed


@dataclass
class LoadReport:
    """What a load did: per file an outcome (created, updated, unchanged, invalid) and every problem found."""

    outcomes: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


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
            feed.record(action, UnitVersion.get_by_id(version.id), LOADER_ACTOR)
    return report


# -- reference checks (the rules JSON Schema cannot express) -------------------------------------------------------


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
        rows = [{"group": group_row.id, "unit": find_unit(ref["owner"], ref["code"]).id, "position": i}
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
        {"unit": find_unit(ref["owner"], ref["code"]).id, "guidance": guidance.id, "note": ref.get("note")}
        for ref in doc["applies_to"]
    ]).execute()
    return outcome


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


