"""Render stored content into the JSON documents the API serves, once at load/publish time.

Each render runs a fixed number of queries, whatever the size of the unit.
"""

import hashlib
import json

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
from api.models.base import iso_utc

UNIT_FIELDS = (
    "code_label", "level_as_written", "credit_value", "glh", "unit_reference_number", "purpose", "availability",
    "available_from", "expiry_date", "assessment", "assessment_guidance",
)


def dump(document: dict) -> tuple[str, str]:
    """Serialise a document compactly and return it with its strong ETag."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return text, '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


def owner_summary(body: AwardingBody) -> dict:
    return {"id": str(body.id), "slug": body.slug, "name": body.name}


def standard_summary(standard: Standard) -> dict:
    return {"id": str(standard.id), "slug": standard.slug, "urn": standard.urn, "title": standard.title,
            "href": f"/v1/standards/{standard.id}"}


def render_unit_version(version: UnitVersion) -> tuple[str, str]:
    """The full tree of one unit version (outcomes, criteria, range, evidence types, mappings, guidance)."""
    unit = Unit.select(Unit, AwardingBody).join(AwardingBody).where(Unit.id == version.unit_id).get()
    source = version.source
    outcomes = list(LearningOutcome.select().where(LearningOutcome.version == version.id)
                    .order_by(LearningOutcome.position))
    criteria = list(AssessmentCriterion.select().where(AssessmentCriterion.version == version.id)
                    .order_by(AssessmentCriterion.position))
    allowed = (OutcomeEvidenceType.select(OutcomeEvidenceType.outcome, EvidenceType)
               .join(EvidenceType).join_from(OutcomeEvidenceType, LearningOutcome)
               .where(LearningOutcome.version == version.id))
    mappings = list(Mapping.select(Mapping, Standard).join(Standard).where(Mapping.version == version.id))
    guidance = list(Guidance.select(Guidance, UnitGuidance.note.alias("link_note")).join(UnitGuidance)
                    .where(UnitGuidance.unit == unit.id).order_by(Guidance.slug).objects())

    types_by_outcome: dict = {}
    for row in allowed:
        types_by_outcome.setdefault(row.outcome_id, []).append({"code": row.evidence_type.code,
                                                                 "name": row.evidence_type.name})
    criteria_by_outcome: dict = {}
    for criterion in criteria:
        criteria_by_outcome.setdefault(criterion.outcome_id, []).append(criterion)
    source_outcomes = {o["number"]: o for o in source["learning_outcomes"]}

    document = {
        "id": str(unit.id), "version_id": str(version.id), "version": version.number, "status": version.status,
        "code": unit.code, "title": version.title, "owner": owner_summary(unit.owner), "level": version.level,
        **{name: source.get(name) for name in UNIT_FIELDS},
        "evidence_requirements": source.get("evidence_requirements", []),
        "additional_information": source.get("additional_information", []),
        "learning_outcomes": [
            _render_outcome(o, source_outcomes[o.number], criteria_by_outcome.get(o.id, []),
                            sorted(types_by_outcome.get(o.id, []), key=lambda t: t["code"]))
            for o in outcomes
        ],
        "mappings": [
            {"id": str(m.id), "standard": standard_summary(m.standard),
             "criterion_id": str(m.criterion_id) if m.criterion_id else None, "items": m.items,
             "strength": m.strength, "as_written": m.as_written, "note": m.note}
            for m in mappings
        ],
        "guidance": [{"id": str(g.id), "slug": g.slug, "title": g.title, "link_note": g.link_note, **g.body}
                     for g in guidance],
        "reviewer_comments": source.get("reviewer_comments", []),
        "notes": source.get("notes", []),
        "source": source["source"],
        "created_at": iso_utc(version.created_at), "published_at": iso_utc(version.published_at),
        "withdrawn_at": iso_utc(version.withdrawn_at),
        "case": _case_link(source.get("case_identifier") or str(unit.id), source.get("case_document")),
        "links": {"self": f"/v1/units/{unit.id}/versions/{version.number}", "unit": f"/v1/units/{unit.id}",
                  "versions": f"/v1/units/{unit.id}/versions"},
    }
    return dump(document)


def _render_outcome(outcome: LearningOutcome, source: dict, criteria: list, evidence_types: list) -> dict:
    source_criteria = {c["number"]: c for c in source["criteria"]}
    evidence = source.get("evidence")
    return {
        "id": str(outcome.id), "number": outcome.number, "number_as_written": source.get("number_as_written"),
        "title": outcome.title, "kind": outcome.kind, "evidence_types": evidence_types,
        "evidence": ({"as_written": evidence.get("as_written"), "notes": evidence.get("notes", [])}
                     if evidence else None),
        "knowledge_understanding": source.get("knowledge_understanding", []), "note": source.get("note"),
        "criteria": [render_criterion(c, source_criteria[c.number]) for c in criteria],
    }


def render_criterion(criterion: AssessmentCriterion, source: dict) -> dict:
    """One criterion as it appears inside a unit document."""
    return {
        "id": str(criterion.id), "identity": str(criterion.identity or criterion.id),
        "replaces": str(criterion.replaces) if criterion.replaces else None, "number": criterion.number,
        "number_as_written": source.get("number_as_written"), "text": criterion.text,
        "range": source.get("range", []), "minimum": source.get("minimum"), "note": source.get("note"),
    }


def render_standard(standard: Standard, source: dict) -> tuple[str, str]:
    """A standard with its performance criteria and knowledge items, each with its id."""
    items = list(StandardItem.select().where(StandardItem.standard == standard.id).order_by(StandardItem.position))

    def item(i: StandardItem) -> dict:
        return {"id": str(i.id), "number": i.number, "text": i.text}

    document = {
        **standard_summary(standard), "suite": source.get("suite"), "overview": source["overview"],
        "performance_intro": source.get("performance_intro"), "knowledge_intro": source.get("knowledge_intro"),
        "performance_criteria": [item(i) for i in items if i.kind == "performance"],
        "knowledge": [item(i) for i in items if i.kind == "knowledge"],
        "notes": source.get("notes", []), "source": source["source"],
    }
    return dump(document)


def render_qualification(qualification: Qualification, source: dict) -> tuple[str, str]:
    """A qualification with its rules of combination, each unit summarised with its id and code."""
    owner = AwardingBody.get_by_id(qualification.owner_id)
    groups = list(QualificationGroup.select().where(QualificationGroup.qualification == qualification.id)
                  .order_by(QualificationGroup.position))
    members = (QualificationGroupUnit.select(QualificationGroupUnit, Unit)
               .join(Unit).join_from(QualificationGroupUnit, QualificationGroup)
               .where(QualificationGroup.qualification == qualification.id).order_by(QualificationGroupUnit.position))
    units_by_group: dict = {}
    for member in members:
        units_by_group.setdefault(member.group_id, []).append(
            {"id": str(member.unit.id), "code": member.unit.code, "href": f"/v1/units/{member.unit.id}"})
    document = {
        "id": str(qualification.id), "code": qualification.code, "title": qualification.title,
        "owner": owner_summary(owner), "level": qualification.level, "status": qualification.status,
        "min_credits": source.get("min_credits"),
        "groups": [{"id": str(g.id), "name": g.name, "mandatory": g.mandatory, "min_units": g.min_units,
                    "min_credits": g.min_credits, "units": units_by_group.get(g.id, [])} for g in groups],
        "notes": source.get("notes", []), "source": source["source"],
    }
    return dump(document)


def _case_link(identifier: str, framework: dict | None) -> dict:
    """The unit as a CASE item: its own id, or the identifier of the CASE item it was imported from; and the framework
    it was imported from (its CFDocument ``framework``), if any, which is kept whole beside the unit."""
    return {"identifier": identifier, "uri": f"/ims/case/v1p1/CFItems/{identifier}",
            "framework": {"identifier": framework["identifier"], "title": framework["title"],
                          "uri": f"/ims/case/v1p1/CFPackages/{framework['identifier']}",
                          "href": f"/v1/frameworks/{framework['identifier']}"} if framework else None}
