"""Unit versions as stored: a new version (based on the latest), a draft edited in place, each criterion's identity
across versions (CriterionIdentities), and a version's rendered document (render_version). Released versions are
never edited: their document is rendered once, when released, and again only when their status changes."""

import uuid

from api.models import AssessmentCriterion, LearningOutcome, Mapping, OutcomeEvidenceType, Unit, UnitVersion
from api.models.base import content_id
from api.services.content import rendering

UNRENDERED = '""'  # the ETag of a version whose document is still to be rendered


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
