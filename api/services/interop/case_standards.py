"""Apprenticeship standard versions as CASE 1.1 frameworks, served by /ims/case/v1p1 beside our units.

Mapping (one framework per version, built from the version's stored document on each request, and served through
case_package.Serving like a framework kept whole):
- CFDocument: the version (identifier = its id). Its start-date window is the status window (statusStartDate,
  statusEndDate), its status the adoptionStatus (in development: Draft; approved: Adopted; retired or withdrawn:
  Deprecated), and its licence the Open Government Licence with Skills England's attribution (a CFLicense).
- CFItems: each knowledge, skill and behaviour (CFItemType Knowledge, Skill, Behaviour) in published order, then
  each duty (Duty). Identifier = the part's id, humanCodingScheme = its code (K1, S3, B2, D1), fullStatement = its
  text decoded for display. Skills England's GUID is kept in ``notes`` and in ``extensions`` ("skillsEngland:id").
- CFAssociations: ``isChildOf`` from every item to the document, sequenceNumber in the order above; and each duty's
  mapping to a KSB as ``isRelatedTo``, from the duty to the KSB, sequenceNumber in published mapping order. Not
  ``isPartOf``: a KSB is not contained in a duty (one KSB serves many duties, and its place is under the document);
  not ``exactMatchOf`` or ``isPeerOf``: a duty and a KSB are different kinds of thing. CASE's definition of
  ``isRelatedTo`` (related in a way no other type describes better) is what a mapping says. A mapped GUID no KSB of
  the version has is named in the duty's ``notes``. Association identifiers are content ids of type and ends.
Which version holds an item or association is kept in ``apprenticeship_case_member`` (written by the import), so a
lookup by identifier reads one version. Who may read a version is access.apprenticeship_version_condition: to anyone
else its document and members do not exist.
"""

import json
import uuid

from api import db
from api.models import ApprenticeshipCaseMember, ApprenticeshipStandard, ApprenticeshipStandardVersion
from api.models.apprenticeships import PUBLIC_STATUSES
from api.models.base import content_id
from api.services.apprenticeships import documents
from api.services.common.access import Principal, apprenticeship_version_condition
from api.services.interop.case_package import Serving

PUBLISHER = "Skills England"
PARTS = {"knowledge": "knowledge", "skills": "skill", "behaviours": "behaviour", "duties": "duty"}  # document key
ITEM_TYPES = {"knowledge": "Knowledge", "skill": "Skill", "behaviour": "Behaviour", "duty": "Duty"}
TYPE_IDS = {kind: str(content_id("case-item-type", "apprenticeship", kind)) for kind in ITEM_TYPES}
TYPE_DESCRIPTIONS = {
    "knowledge": "What an apprentice must know to be competent in the occupation (K1, K2...).",
    "skill": "What an apprentice must be able to do (S1, S2...).",
    "behaviour": "How an apprentice must act at work (B1, B2...).",
    "duty": "A task of the occupation (D1, D2...), related to the knowledge, skills and behaviours it needs."}
LICENCE_ID = str(content_id("case-license", "open-government-licence-v3"))
DEFINED_AT = "2000-01-01T00:00:00+00:00"  # the fixed definitions (item types, licence), as our units' item types
ADOPTION = {"in_development": "Draft", "approved": "Adopted", "retired": "Deprecated", "withdrawn": "Deprecated"}
V = ApprenticeshipStandardVersion
DOCUMENT_COLUMNS = (V.id, V.version, V.status, V.status_source, V.title, V.level, V.earliest_start_date,
                    V.latest_start_date, V.updated_at, ApprenticeshipStandard.reference_number)


# -- the package -------------------------------------------------------------------------------------------------

def _document(row: ApprenticeshipStandardVersion) -> dict:
    """The CFDocument of a version, from its columns (so listing reads no KSB)."""
    ref = row.standard.reference_number
    level = f", level {row.level}" if row.level is not None else ""
    record = {"identifier": str(row.id), "creator": PUBLISHER, "publisher": PUBLISHER,
              "title": f"{row.title} ({ref} version {row.version})", "version": row.version, "language": "en",
              "caseVersion": "1.1", "licenseURI": {"identifier": LICENCE_ID},
              "description": f"Apprenticeship standard {ref}{level}, version {row.version}: its knowledge, skills "
                             "and behaviours, and its duties, as Skills England publishes them.",
              "notes": f"Status as published: {row.status_source or 'none given'}. {documents.LICENCE}",
              "extensions": {"skillsEngland:referenceNumber": ref}}
    if row.status in ADOPTION:
        record["adoptionStatus"] = ADOPTION[row.status]
    if row.earliest_start_date:
        record["statusStartDate"] = row.earliest_start_date.isoformat()
    if row.latest_start_date:
        record["statusEndDate"] = row.latest_start_date.isoformat()
    return record


def _item_type(kind: str) -> dict:
    return {"identifier": TYPE_IDS[kind], "title": ITEM_TYPES[kind], "description": TYPE_DESCRIPTIONS[kind],
            "hierarchyCode": "1", "typeCode": kind, "lastChangeDateTime": DEFINED_AT}


def _licence() -> dict:
    return {"identifier": LICENCE_ID, "title": "Open Government Licence v3.0", "licenseText": documents.LICENCE,
            "lastChangeDateTime": DEFINED_AT}


def _item(part: dict, kind: str, position: int) -> dict:
    record = {"identifier": part["id"], "fullStatement": part["detail"], "humanCodingScheme": part["code"],
              "listEnumeration": str(position), "CFItemType": ITEM_TYPES[kind],
              "CFItemTypeURI": {"identifier": TYPE_IDS[kind]}, "language": "en"}
    guid = part.get("duty_id" if kind == "duty" else "ksb_id")
    notes = [f"Skills England's identifier of this {kind}: {guid}."] if guid else []
    if part.get("unresolved_ksb_ids"):
        notes.append("Its published mappings also name " + ", ".join(part["unresolved_ksb_ids"])
                     + ", which no knowledge, skill or behaviour of this version has.")
    if notes:
        record["notes"] = " ".join(notes)
    if guid:
        record["extensions"] = {"skillsEngland:id": guid}
    return record


def _association(kind: str, origin: str, destination: str, sequence: int) -> dict:
    return {"identifier": str(content_id("case-association", kind, origin, destination)), "associationType": kind,
            "originNodeURI": {"identifier": origin}, "destinationNodeURI": {"identifier": destination},
            "sequenceNumber": sequence}


def _parts(body: dict) -> tuple[list[dict], list[dict]]:
    """The items and associations of a version, from its served document ``body`` (documents.version_document)."""
    items = [_item(part, kind, position) for key, kind in PARTS.items()
             for position, part in enumerate(body[key], start=1)]
    associations = [_association("isChildOf", item["identifier"], body["id"], sequence)
                     for sequence, item in enumerate(items, start=1)]
    ksbs = {part["code"]: part["id"] for key in ("knowledge", "skills", "behaviours") for part in body[key]}
    for duty in body["duties"]:
        mapped = [code for code in dict.fromkeys(duty["ksb_codes"]) if code in ksbs]
        associations += [_association("isRelatedTo", duty["id"], ksbs[code], sequence)
                         for sequence, code in enumerate(mapped, start=1)]
    return items, associations


def members(body: dict) -> list[tuple[str, str]]:
    """(identifier, provider path) of every item and association of the version whose served document is ``body``."""
    items, associations = _parts(body)
    return [(i["identifier"], "CFItems") for i in items] + [(a["identifier"], "CFAssociations") for a in associations]


def index(version_id: uuid.UUID, body: dict) -> None:
    """Inside the caller's transaction: record the members the version (served as ``body``) holds, in place of
    those it held."""
    ApprenticeshipCaseMember.delete().where(ApprenticeshipCaseMember.version == version_id).execute()
    db.insert_rows(ApprenticeshipCaseMember, [{"identifier": uuid.UUID(identifier), "version": version_id,
                                               "kind": kind} for identifier, kind in members(body)])


# -- what the provider serves ----------------------------------------------------------------------------------------

class Held:
    """A version the caller may read, as the provider at ``root`` serves it."""

    def __init__(self, row: ApprenticeshipStandardVersion, root: str):
        self.row, self.root = row, root

    @property
    def public(self) -> bool:
        """Anyone may read it (so a shared cache may keep the answer)."""
        return self.row.status in PUBLIC_STATUSES

    def document(self) -> dict:
        """The CFDocument, with its CFPackageURI."""
        part = {"CFDocument": _document(self.row), "CFDefinitions": {"CFLicenses": [_licence()]}}
        return Serving(part, self.root, self.row.updated_at).listed_document()

    def serving(self) -> Serving:
        """The whole package (the row must have been read with its document)."""
        items, associations = _parts(json.loads(self.row.document))
        package = {"CFDocument": _document(self.row), "CFItems": items, "CFAssociations": associations,
                   "CFDefinitions": {"CFItemTypes": [_item_type(kind) for kind in ITEM_TYPES],
                                     "CFLicenses": [_licence()]}}
        return Serving(package, self.root, self.row.updated_at)


def _visible(principal: Principal, *columns):
    query = V.select(*DOCUMENT_COLUMNS, *columns).join(ApprenticeshipStandard)
    condition = apprenticeship_version_condition(principal, V.status)
    return query if condition is None else query.where(condition)


def find(principal: Principal, kind: str, identifier: uuid.UUID, root: str, *, whole: bool = True) -> Held | None:
    """The version the principal may read that is (``kind`` CFDocuments) or holds the member ``identifier`` of
    ``kind`` (CFItems, CFAssociations), if any; read with its document unless not ``whole``."""
    query = _visible(principal, *([V.document] if whole else []))
    if kind == "CFDocuments":
        query = query.where(V.id == identifier)
    elif kind in ("CFItems", "CFAssociations"):
        query = query.join_from(V, ApprenticeshipCaseMember).where(ApprenticeshipCaseMember.identifier == identifier,
                                                                   ApprenticeshipCaseMember.kind == kind)
    else:
        return None
    row = query.first()
    return Held(row, root) if row is not None else None


def listed_documents(principal: Principal, root: str) -> list[dict]:
    """The CFDocument of every version the principal may read, by reference number and version."""
    rows = sorted(_visible(principal), key=lambda row: (row.standard.reference_number,
                                                        documents.version_order(row.version)))
    return [Held(row, root).document() for row in rows]


def definition(kind: str, identifier: str, root: str) -> dict | None:
    """One of the fixed definitions the frameworks of standards share (an item type or the licence), as served
    alone, if ``identifier`` is one."""
    if kind == "CFItemTypes":
        found = next((_item_type(k) for k, type_id in TYPE_IDS.items() if type_id == identifier), None)
    else:
        found = _licence() if kind == "CFLicenses" and identifier == LICENCE_ID else None
    return None if found is None else {**found, "uri": f"{root.rstrip('/')}/ims/case/v1p1/{kind}/{identifier}"}


def first_held(identifiers: list[str]) -> str | None:
    """The first of ``identifiers`` (UUIDs as text) that a standard version is, or holds as an item or association."""
    wanted = [uuid.UUID(i) for i in identifiers if isinstance(i, str) and _is_uuid(i)]
    for start in range(0, len(wanted), 500):
        batch = wanted[start:start + 500]
        version = V.select(V.id).where(V.id.in_(batch)).first()
        member = ApprenticeshipCaseMember.select(ApprenticeshipCaseMember.identifier).where(
            ApprenticeshipCaseMember.identifier.in_(batch)).first()
        if version is not None or member is not None:
            return str(version.id if version is not None else member.identifier)
    return None


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
