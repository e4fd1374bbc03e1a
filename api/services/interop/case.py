"""Our published content as 1EdTech CASE 1.1 frameworks (the provider side of /ims/case/v1p1).

Mapping:
- CFDocuments: each published qualification, and per awarding body a suite of its published units ("<body> units").
- CFItems: units (identifier = the unit id, stable across versions), learning outcomes (the outcome of the current
  version) and assessment criteria (identifier = the criterion's identity, so it is stable while its text is).
- CFAssociations: ``isChildOf`` (criterion -> outcome -> unit -> document) with ``sequenceNumber``; NOS mappings as
  ``exactMatchOf`` (maps fully) or ``isRelatedTo`` to our /v1/standards URI; ``replacedBy`` from a criterion to the
  one a later version declares replaces it.
- CFItemTypes: Unit, Learning Outcome, Assessment Criterion. Our units have no subjects, concepts, licences,
  association groupings or rubrics: only frameworks imported whole hold those (case_frameworks, which the provider's
  views ask first).
Only published content is served. Identifiers are lower-case UUIDs; every ``uri`` points at this provider.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from peewee import fn

from api.models import (
    AssessmentCriterion,
    AwardingBody,
    FeedEvent,
    LearningOutcome,
    Mapping,
    Qualification,
    QualificationGroup,
    QualificationGroupUnit,
    Standard,
    Unit,
    UnitVersion,
)
from api.models.base import content_id

BASE_PATH = "/ims/case/v1p1"
ITEM_TYPES = {"unit": "Unit", "outcome": "Learning Outcome", "criterion": "Assessment Criterion"}
TYPE_IDS = {key: str(content_id("case-item-type", key)) for key in ITEM_TYPES}
TYPE_CODES = {"unit": "1", "outcome": "1.1", "criterion": "1.1.1"}
LANGUAGE = "en"
DOCUMENT_FIELDS = ("identifier", "uri", "frameworkType", "caseVersion", "creator", "title", "lastChangeDateTime",
                   "officialSourceURL", "publisher", "description", "subject", "subjectURI", "language", "version",
                   "adoptionStatus", "statusStartDate", "statusEndDate", "licenseURI", "notes", "extensions",
                   "CFPackageURI")


class UnknownObject(Exception):
    """No published object with this identifier (CASE codeMinor unknownobject)."""


@dataclass
class Links:
    """Builds absolute URIs on this provider."""

    root: str  # e.g. "https://api.example/" (the request's host URL)

    def uri(self, kind: str, identifier) -> str:
        return f"{self.root.rstrip('/')}{BASE_PATH}/{kind}/{identifier}"

    def link(self, kind: str, identifier, title: str) -> dict:
        return {"title": title, "identifier": str(identifier), "uri": self.uri(kind, identifier)}


def _when(value: datetime | None) -> str:
    return (value or datetime(2000, 1, 1)).replace(tzinfo=None, microsecond=0).isoformat() + "+00:00"


def suite_id(body: AwardingBody) -> str:
    return str(content_id("case-document", "unit-suite", body.slug))


def home_of(version: UnitVersion) -> tuple[str, str]:
    """(identifier, title) of the framework a unit version is served in: the CASE document it was imported from,
    else its awarding body's unit suite."""
    imported = (version.source or {}).get("case_document")
    if imported:
        return imported["identifier"], imported["title"]
    return suite_id(version.unit.owner), f"{version.unit.owner.name} units"


# -- what is published -------------------------------------------------------------------------------------------

def _published_heads(owner_id=None, unit_ids=None) -> list[UnitVersion]:
    query = (UnitVersion.select(UnitVersion, Unit, AwardingBody).join(Unit).join(AwardingBody)
             .where(UnitVersion.status == "published", UnitVersion.is_head))
    if owner_id is not None:
        query = query.where(Unit.owner == owner_id)
    if unit_ids is not None:
        query = query.where(Unit.id.in_(unit_ids))
    return list(query.order_by(Unit.code))


@dataclass
class Framework:
    """One CFDocument and the published unit versions in it."""

    identifier: str
    title: str
    owner: AwardingBody
    versions: list
    kind: str  # "suite" or "qualification"
    qualification: Qualification | None = None

    @property
    def last_change(self) -> datetime | None:
        """The latest release or withdrawal of any unit that is or was in it (so it never moves back when a unit
        leaves), or the qualification's own last change."""
        unit_ids = [v.unit_id for v in self.versions]
        query = FeedEvent.select(fn.MAX(FeedEvent.occurred_at)).where(
            FeedEvent.centre_id.is_null(), FeedEvent.status != "draft", FeedEvent.unit.is_null(False))
        if self.kind == "suite":
            query = query.where(FeedEvent.owner == self.owner.id)
        else:
            query = query.where(FeedEvent.unit.in_(unit_ids))
        times = [query.scalar(), *(v.published_at for v in self.versions)]
        if self.qualification is not None:
            times.append(self.qualification.updated_at)
        return max((t for t in times if t), default=None)


def frameworks() -> list[Framework]:
    """Every CFDocument we serve: unit suites (bodies with published units), then published qualifications."""
    groups: dict = {}
    for version in _published_heads():
        home = home_of(version)
        groups.setdefault(home, (home, version.unit.owner, []))[2].append(version)
    found = [Framework(identifier, title, owner, versions, "suite") for (identifier, title), owner, versions
             in groups.values()]
    for qualification in Qualification.select(Qualification, AwardingBody).join(AwardingBody).where(
            Qualification.status == "published").order_by(Qualification.code):
        unit_ids = [m.unit_id for m in QualificationGroupUnit.select().join(QualificationGroup)
                    .where(QualificationGroup.qualification == qualification.id)]
        found.append(Framework(str(qualification.id), qualification.title, qualification.owner,
                               _published_heads(unit_ids=unit_ids), "qualification", qualification))
    return found


def framework(identifier: str) -> Framework:
    for candidate in frameworks():
        if candidate.identifier == identifier:
            return candidate
    raise UnknownObject(identifier)


# -- records ---------------------------------------------------------------------------------------------------------

def document_record(fw: Framework, links: Links) -> dict:
    record = {
        "identifier": fw.identifier, "uri": links.uri("CFDocuments", fw.identifier), "creator": fw.owner.name,
        "title": fw.title, "lastChangeDateTime": _when(fw.last_change), "publisher": fw.owner.name,
        "language": LANGUAGE, "caseVersion": "1.1", "adoptionStatus": "Adopted",
        "CFPackageURI": links.link("CFPackages", fw.identifier, fw.title),
    }
    if fw.kind == "suite":
        record["description"] = (f"Units published by {fw.owner.name} on qualtrack, each with its learning outcomes "
                                 "and assessment criteria.")
        creator = next(((v.source or {}).get("case_document", {}).get("creator") for v in fw.versions), None)
        if creator:
            record["creator"] = creator
    else:
        record["description"] = f"Qualification {fw.qualification.code}: its units, as published on qualtrack."
        record["notes"] = f"Qualification code {fw.qualification.code}."
    return record


def _item(identifier, statement: str, kind: str, code: str, version: UnitVersion, home: str, home_title: str,
          links: Links, enumeration: str | None = None) -> dict:
    record = {
        "identifier": str(identifier), "fullStatement": statement, "uri": links.uri("CFItems", identifier),
        "CFItemType": ITEM_TYPES[kind], "CFItemTypeURI": links.link("CFItemTypes", TYPE_IDS[kind], ITEM_TYPES[kind]),
        "humanCodingScheme": code, "language": LANGUAGE, "lastChangeDateTime": _when(version.published_at),
        "CFDocumentURI": links.link("CFDocuments", home, home_title),
    }
    if enumeration is not None:
        record["listEnumeration"] = enumeration
    return record


def _association(kind: str, origin: dict, destination: dict, when, links: Links, sequence: int | None = None) -> dict:
    identifier = content_id("case-association", kind, origin["identifier"], destination["identifier"])
    record = {"identifier": str(identifier), "associationType": kind, "uri": links.uri("CFAssociations", identifier),
              "originNodeURI": origin, "destinationNodeURI": destination, "lastChangeDateTime": _when(when)}
    if sequence is not None:
        record["sequenceNumber"] = sequence
    return record


def _node(record: dict) -> dict:
    return {"title": record["fullStatement"][:200], "identifier": record["identifier"], "uri": record["uri"]}


def package(fw: Framework, links: Links) -> dict:
    """The CFPackage of one framework: its document, every item and every association, in sequence order."""
    document = document_record(fw, links)
    document_node = {"title": fw.title, "identifier": fw.identifier, "uri": document["uri"]}
    items, associations = [], []
    for position, version in enumerate(fw.versions, start=1):
        unit_items, unit_associations = unit_tree(version, links)
        items += unit_items
        associations.append(_association("isChildOf", _node(unit_items[0]), document_node, version.published_at,
                                         links, position))
        associations += unit_associations
    # In a package the document is implied: its members do not carry CFDocumentURI, nor the document CFPackageURI.
    document.pop("CFPackageURI")
    for record in items:
        record.pop("CFDocumentURI")
    return {"CFDocument": document, "CFItems": items, "CFAssociations": associations,
            "CFDefinitions": {"CFItemTypes": [item_type(key, links) for key in ITEM_TYPES]}}


def unit_tree(version: UnitVersion, links: Links) -> tuple[list, list]:
    """The items (unit first, then each outcome followed by its criteria) and associations of one unit version."""
    unit = version.unit
    home, home_title = home_of(version)
    source = version.source or {}
    imported = {o["number"]: o.get("case_identifier") for o in source.get("learning_outcomes", [])}
    unit_item = _item(source.get("case_identifier") or unit.id, version.title, "unit", unit.code, version, home,
                      home_title, links)
    items, associations = [unit_item], []
    outcomes = list(LearningOutcome.select().where(LearningOutcome.version == version.id)
                    .order_by(LearningOutcome.position))
    criteria: dict = {}
    for criterion in AssessmentCriterion.select().where(AssessmentCriterion.version == version.id).order_by(
            AssessmentCriterion.position):
        criteria.setdefault(criterion.outcome_id, []).append(criterion)
    item_of_criterion = {}
    for position, outcome in enumerate(outcomes, start=1):
        outcome_item = _item(imported.get(outcome.number) or outcome.id, outcome.title, "outcome",
                             f"{unit.code} LO{outcome.number}", version, home, home_title, links, outcome.number)
        items.append(outcome_item)
        associations.append(_association("isChildOf", _node(outcome_item), _node(unit_item), version.published_at,
                                         links, position))
        for sequence, criterion in enumerate(criteria.get(outcome.id, []), start=1):
            identity = criterion.identity or criterion.id
            criterion_item = _item(identity, criterion.text, "criterion", f"{unit.code} AC{criterion.number}",
                                   version, home, home_title, links, criterion.number)
            item_of_criterion[criterion.id] = criterion_item
            items.append(criterion_item)
            associations.append(_association("isChildOf", _node(criterion_item), _node(outcome_item),
                                             version.published_at, links, sequence))
            if criterion.replaces:
                replaced = _replaced_node(criterion.replaces, links)
                if replaced is not None:
                    associations.append(_association("replacedBy", replaced, _node(criterion_item),
                                                     version.published_at, links))
    for mapping in Mapping.select(Mapping, Standard).join(Standard).where(Mapping.version == version.id):
        origin = item_of_criterion.get(mapping.criterion_id, unit_item) if mapping.criterion_id else unit_item
        standard = {"title": mapping.standard.title[:200], "identifier": str(mapping.standard.id),
                    "uri": f"{links.root.rstrip('/')}/v1/standards/{mapping.standard.id}",
                    "targetType": "ext:NOS"}  # a National Occupational Standard: not a CASE framework
        kind = "exactMatchOf" if mapping.strength == "full" else "isRelatedTo"
        associations.append(_association(kind, _node(origin), standard, version.published_at, links))
    return items, associations


def _replaced_node(identity, links: Links) -> dict | None:
    old = (AssessmentCriterion.select(AssessmentCriterion).join(UnitVersion)
           .where(AssessmentCriterion.identity == identity, UnitVersion.status != "draft").first())
    if old is None:
        return None
    return {"title": old.text[:200], "identifier": str(identity), "uri": links.uri("CFItems", identity)}


def item_type(key: str, links: Links) -> dict:
    return {"identifier": TYPE_IDS[key], "uri": links.uri("CFItemTypes", TYPE_IDS[key]), "title": ITEM_TYPES[key],
            "description": {"unit": "A unit of a vocational qualification.",
                            "outcome": "A learning outcome of a unit: what the learner will know or be able to do.",
                            "criterion": "An assessment criterion of a learning outcome: what the learner can do."}[
                                key],
            "hierarchyCode": TYPE_CODES[key], "typeCode": key, "lastChangeDateTime": _when(None)}


# -- lookups by identifier -------------------------------------------------------------------------------------------

def _version_of_item(identifier: uuid.UUID) -> UnitVersion:
    """The published version an item belongs to (its unit's current one where it is still in it)."""
    unit = Unit.get_or_none(Unit.id == identifier)
    if unit is not None:
        heads = _published_heads(unit_ids=[unit.id])
        if heads:
            return heads[0]
        raise UnknownObject(identifier)
    outcome = LearningOutcome.get_or_none(LearningOutcome.id == identifier)
    criterion = (AssessmentCriterion.select().join(UnitVersion).where(AssessmentCriterion.identity == identifier,
                                                                      UnitVersion.status == "published")
                 .order_by(UnitVersion.is_head.desc(), UnitVersion.number.desc()).first())
    version_id = outcome.version_id if outcome else criterion.version_id if criterion else _imported(identifier)
    version = UnitVersion.get_or_none(UnitVersion.id == version_id, UnitVersion.status == "published")
    if version is None:
        raise UnknownObject(identifier)
    return UnitVersion.select(UnitVersion, Unit, AwardingBody).join(Unit).join(AwardingBody).where(
        UnitVersion.id == version.id).get()


def _imported(identifier: uuid.UUID):
    """The published head whose imported unit or outcome carries this CASE identifier (a scan of the sources of
    published heads: imported identifiers are kept in the unit document, not indexed)."""
    wanted = str(identifier)
    for version in _published_heads():
        source = version.source or {}
        if source.get("case_identifier") == wanted or any(
                o.get("case_identifier") == wanted for o in source.get("learning_outcomes", [])):
            return version.id
    return None


def item_and_associations(identifier: uuid.UUID, links: Links) -> tuple[dict, list]:
    """A CFItem and every association it is an end of (its parent, children, mappings, replacements)."""
    version = _version_of_item(identifier)
    items, associations = unit_tree(version, links)
    wanted = str(identifier)
    item = next((i for i in items if i["identifier"] == wanted), None)
    if item is None:
        raise UnknownObject(identifier)
    if item["CFItemType"] == "Unit":
        for fw in frameworks():
            if any(v.id == version.id for v in fw.versions):
                document_node = {"title": fw.title, "identifier": fw.identifier, "uri": links.uri("CFDocuments",
                                                                                                fw.identifier)}
                position = [v.id for v in fw.versions].index(version.id) + 1
                associations.append(_association("isChildOf", _node(item), document_node, version.published_at,
                                                 links, position))
    mine = [a for a in associations if wanted in (a["originNodeURI"]["identifier"],
                                                  a["destinationNodeURI"]["identifier"])]
    return item, mine


def association(identifier: uuid.UUID, links: Links) -> dict:
    wanted = str(identifier)
    for fw in frameworks():
        for candidate in package(fw, links)["CFAssociations"]:
            if candidate["identifier"] == wanted:
                return candidate
    raise UnknownObject(identifier)


def item_types(identifier: uuid.UUID, links: Links) -> list[dict]:
    """The item type asked for, then the types below it in the hierarchy."""
    key = next((k for k, v in TYPE_IDS.items() if v == str(identifier)), None)
    if key is None:
        raise UnknownObject(identifier)
    code = TYPE_CODES[key]
    return [item_type(key, links)] + [item_type(k, links) for k, c in TYPE_CODES.items()
                                      if c != code and c.startswith(code + ".")]
