"""Unit criteria (or whole units) mapped to the KSBs of an apprenticeship standard version.

A mapping belongs to one unit version and one standard version, so both sides are versioned: a new unit version or
standard version starts with none, and `carry` copies a unit's mappings from one standard version to another by the
KSBs' published GUIDs (a KSB reworded under the same GUID carries; one removed, or without a GUID, does not, and the
answer says which). Mappings are written by those who write the unit (its awarding body's authors and content:write
clients, and admins), read by anyone who may read both the unit version and the standard version, and listed from
either side."""

import uuid

import peewee

from api import db
from api.errors import NotFound, ValidationFailed
from api.models import (
    ApprenticeshipKsb,
    ApprenticeshipStandard,
    ApprenticeshipStandardVersion,
    AssessmentCriterion,
    KsbMapping,
    Unit,
    UnitVersion,
)
from api.models.base import content_id, iso_utc
from api.services.apprenticeships import documents
from api.services.common import audit
from api.services.common.access import (
    Principal,
    apprenticeship_version_condition,
    can_read_content,
    can_write_content,
    content_condition,
    require,
    require_authenticated,
)
from api.services.common.pagination import Page, keyset_page


def mapping_id(unit_version_id, criterion_id, standard_version_id, ksb_code: str) -> uuid.UUID:
    """The id of a mapping: the same mapping made twice is the same row."""
    return content_id("ksb_mapping", unit_version_id, criterion_id or "unit", standard_version_id, ksb_code)


def _standard_version(principal: Principal, reference_number: str, version: str,
                      field: str) -> ApprenticeshipStandardVersion:
    """A standard version the principal may read, named in a request body: a 422 on ``field`` otherwise."""
    query = ApprenticeshipStandardVersion.select().where(
        ApprenticeshipStandardVersion.id == documents.version_id(reference_number, version))
    condition = apprenticeship_version_condition(principal, ApprenticeshipStandardVersion.status)
    row = (query if condition is None else query.where(condition)).first()
    if row is None:
        raise ValidationFailed(f"no version {version} of apprenticeship standard {reference_number} visible to you",
                               errors={field: ["unknown standard version"]})
    return row


def _unit_version(principal: Principal, unit_version_id: uuid.UUID) -> tuple[UnitVersion, Unit]:
    """A unit version the principal may read, named in a request body (422 on unit_version_id otherwise)."""
    row = UnitVersion.select(UnitVersion, Unit).join(Unit).where(UnitVersion.id == unit_version_id).first()
    if row is None or not can_read_content(principal, row.status, row.unit.owner_id):
        raise ValidationFailed(f"no unit version {unit_version_id} visible to you",
                               errors={"unit_version_id": ["unknown unit version"]})
    return row, row.unit


def _ksb(standard_version_id, code: str, field: str) -> ApprenticeshipKsb:
    ksb = ApprenticeshipKsb.get_or_none(ApprenticeshipKsb.version == standard_version_id,
                                        ApprenticeshipKsb.code == code)
    if ksb is None:
        raise ValidationFailed(f"the standard version has no KSB {code}", errors={field: ["unknown KSB code"]})
    return ksb


def create_mapping(principal: Principal, data: dict) -> tuple[dict, bool]:
    """Map a criterion of a unit version (or the whole unit version, without ``criterion_id``) to a KSB of a standard
    version: (the mapping, whether it was created). Mapping what is already mapped changes nothing."""
    require_authenticated(principal)
    version, unit = _unit_version(principal, data["unit_version_id"])
    standard = _standard_version(principal, data["reference_number"], data["version"], "version")
    require(can_write_content(principal, unit.owner_id), "KSB mappings are made by those who write the unit")
    criterion_id = data.get("criterion_id")
    if criterion_id is not None and not AssessmentCriterion.select().where(
            AssessmentCriterion.id == criterion_id, AssessmentCriterion.version == version.id).exists():
        raise ValidationFailed(f"criterion {criterion_id} is not one of this unit version's",
                               errors={"criterion_id": ["not a criterion of the unit version"]})
    ksb = _ksb(standard.id, data["ksb_code"], "ksb_code")
    new_id = mapping_id(version.id, criterion_id, standard.id, ksb.code)
    created = _insert_once(principal, new_id, version.id, criterion_id, standard.id, ksb)
    return mapping_body(visible_mapping(principal, new_id)), created


def _insert_once(principal: Principal, new_id, *args) -> bool:
    """Insert the mapping ``new_id`` unless it is there: whether this call inserted it. A concurrent writer of the
    same mapping makes the database refuse the second insert (its primary key); that counts as already there."""
    if KsbMapping.get_or_none(KsbMapping.id == new_id) is not None:
        return False
    try:
        with db.savepoint():
            _insert(principal, new_id, *args)
        return True
    except peewee.IntegrityError:
        if KsbMapping.get_or_none(KsbMapping.id == new_id) is None:
            raise
        return False


def _insert(principal: Principal, new_id, unit_version_id, criterion_id, standard_version_id, ksb: ApprenticeshipKsb,
            carried_from=None) -> None:
    KsbMapping.create(id=new_id, unit_version=unit_version_id, criterion=criterion_id,
                      standard_version=standard_version_id, ksb_code=ksb.code, ksb_guid=ksb.ksb_id,
                      carried_from=carried_from, created_by=audit.actor_of(principal))
    audit.record(principal, "ksb_mapping.created", "ksb_mapping", new_id,
                 after={"unit_version_id": str(unit_version_id),
                        "criterion_id": str(criterion_id) if criterion_id else None,
                        "standard_version_id": str(standard_version_id), "ksb_code": ksb.code,
                        "carried_from": str(carried_from) if carried_from else None})


def delete_mapping(principal: Principal, mapping_id_: uuid.UUID) -> dict:
    """Remove a mapping (audited, with what it was); the mapping as it was."""
    row = visible_mapping(principal, mapping_id_)
    require(can_write_content(principal, row.unit_version.unit.owner_id),
            "KSB mappings are removed by those who write the unit")
    KsbMapping.delete().where(KsbMapping.id == row.id).execute()
    body = mapping_body(row)
    audit.record(principal, "ksb_mapping.deleted", "ksb_mapping", row.id, before=body)
    return body


def _visible(principal: Principal):
    """Mappings whose unit version and standard version the principal may both read."""
    query = (KsbMapping.select(KsbMapping, UnitVersion, Unit, ApprenticeshipStandardVersion, ApprenticeshipStandard)
             .join(UnitVersion).join(Unit).switch(KsbMapping).join(ApprenticeshipStandardVersion)
             .join(ApprenticeshipStandard))
    for condition in (content_condition(principal, UnitVersion.status, Unit.owner),
                      apprenticeship_version_condition(principal, ApprenticeshipStandardVersion.status)):
        if condition is not None:
            query = query.where(condition)
    return query


def visible_mapping(principal: Principal, mapping_id_: uuid.UUID) -> KsbMapping:
    row = _visible(principal).where(KsbMapping.id == mapping_id_).first()
    if row is None:
        raise NotFound(f"no KSB mapping {mapping_id_} visible to you")
    return row


def list_mappings(principal: Principal, *, unit_version_id=None, reference_number=None, version=None,
                  ksb_code=None, cursor=None, limit: int = 50) -> Page:
    """Mappings visible to the principal, by id, filtered by unit version, standard, version and KSB code (each
    optional: a standard without a version means every version of it)."""
    query = _visible(principal)
    if unit_version_id is not None:
        query = query.where(KsbMapping.unit_version == unit_version_id)
    if reference_number is not None:
        query = query.where(ApprenticeshipStandard.reference_number == reference_number)
    if version is not None:
        query = query.where(ApprenticeshipStandardVersion.version == version)
    if ksb_code is not None:
        query = query.where(KsbMapping.ksb_code == ksb_code)
    page = keyset_page(query, [KsbMapping.id], cursor, limit, key_of=lambda m: [str(m.id)])
    page.items = [mapping_body(m) for m in page.items]
    return page


def mapping_body(row: KsbMapping) -> dict:
    """A mapping as served; ``row`` as _visible reads it (with its unit version and standard)."""
    standard = row.standard_version
    reference = standard.standard.reference_number
    return {"id": str(row.id), "unit_version_id": str(row.unit_version_id),
            "unit_id": str(row.unit_version.unit_id),
            "criterion_id": str(row.criterion_id) if row.criterion_id else None,
            "reference_number": reference, "version": standard.version, "standard_version_id": str(standard.id),
            "ksb_code": row.ksb_code, "ksb_id": row.ksb_guid,
            "carried_from": str(row.carried_from) if row.carried_from else None,
            "created_by": row.created_by, "created_at": iso_utc(row.created_at),
            "href": f"/v1/ksb-mappings/{row.id}"}


def carry_mappings(principal: Principal, data: dict) -> dict:
    """Copy the mappings to one standard version onto another, by the KSBs' published GUIDs: those of the units the
    principal writes (or of one unit version, ``unit_version_id``). Idempotent: a mapping already carried is
    ``already_present``. What cannot be carried (its KSB has no GUID, or none with its GUID is in the new version)
    is listed with the reason, and stays mapped to the old version."""
    require_authenticated(principal)
    ref = data["reference_number"]
    old = _standard_version(principal, ref, data["from_version"], "from_version")
    new = _standard_version(principal, ref, data["to_version"], "to_version")
    if old.id == new.id:
        raise ValidationFailed("from_version and to_version are the same version",
                               errors={"to_version": ["the same as from_version"]})
    query = _visible(principal).where(KsbMapping.standard_version == old.id)
    if data.get("unit_version_id") is not None:
        query = query.where(KsbMapping.unit_version == data["unit_version_id"])
    writable = [m for m in query.order_by(KsbMapping.id) if can_write_content(principal, m.unit_version.unit.owner_id)]
    targets = _ksbs_by_guid(new.id)
    carried, present, not_carried = [], [], []
    for mapping in writable:
        target = targets.get(mapping.ksb_guid) if mapping.ksb_guid else None
        if target is None:
            reason = "the KSB has no published GUID" if not mapping.ksb_guid else \
                f"no KSB with GUID {mapping.ksb_guid} in version {new.version}"
            not_carried.append({"mapping_id": str(mapping.id), "ksb_code": mapping.ksb_code, "reason": reason})
            continue
        new_id = mapping_id(mapping.unit_version_id, mapping.criterion_id, new.id, target.code)
        if not _insert_once(principal, new_id, mapping.unit_version_id, mapping.criterion_id, new.id, target,
                            mapping.id):
            present.append(str(new_id))
            continue
        carried.append({"mapping_id": str(new_id), "from_mapping_id": str(mapping.id),
                        "old_ksb_code": mapping.ksb_code, "new_ksb_code": target.code})
    return {"reference_number": ref, "from_version": old.version, "to_version": new.version, "carried": carried,
            "already_present": present, "not_carried": not_carried}


def _ksbs_by_guid(standard_version_id) -> dict:
    """{published GUID: the version's first KSB (in published order) with it}, for the KSBs that have one."""
    found: dict = {}
    for ksb in ApprenticeshipKsb.select().where(ApprenticeshipKsb.version == standard_version_id).order_by(
            ApprenticeshipKsb.position):
        if ksb.ksb_id:
            found.setdefault(ksb.ksb_id, ksb)
    return found


def impact_of_changes(principal: Principal, old_version_id, changes: dict) -> list[dict]:
    """The mappings (visible to the principal) to the earlier version of a diff whose KSB the diff removes, rewords
    or recodes: what an author must look at before carrying them."""
    touched = {}
    for key, change in (("ksbs_removed", "removed"), ("ksbs_reworded", "reworded"), ("ksbs_recoded", "recoded")):
        for entry in changes.get(key, []):
            code = entry.get("code") or entry.get("old_code")
            touched.setdefault(code, []).append(change)
    if not touched:
        return []
    rows = _visible(principal).where(KsbMapping.standard_version == old_version_id,
                                     KsbMapping.ksb_code.in_(list(touched))).order_by(KsbMapping.ksb_code,
                                                                                       KsbMapping.id)
    return [{"mapping_id": str(m.id), "unit_version_id": str(m.unit_version_id),
             "criterion_id": str(m.criterion_id) if m.criterion_id else None, "ksb_code": m.ksb_code,
             "changes": touched[m.ksb_code]} for m in rows]


def recode_after_reimport(principal: Principal, standard_version_id) -> list[dict]:
    """After a version's content is replaced by a re-import: point each mapping at the code its KSB's GUID now has;
    remove (audited) and return those whose GUID the version no longer holds."""
    codes = {guid: ksb.code for guid, ksb in _ksbs_by_guid(standard_version_id).items()}
    removed = []
    for mapping in KsbMapping.select().where(KsbMapping.standard_version == standard_version_id,
                                             KsbMapping.ksb_guid.is_null(False)):
        code = codes.get(mapping.ksb_guid)
        if code == mapping.ksb_code:
            continue
        if code is None:
            KsbMapping.delete().where(KsbMapping.id == mapping.id).execute()
            audit.record(principal, "ksb_mapping.deleted", "ksb_mapping", mapping.id,
                         before={"ksb_code": mapping.ksb_code, "ksb_id": mapping.ksb_guid,
                                 "reason": "the re-imported version no longer has this KSB"})
            removed.append({"mapping_id": str(mapping.id), "ksb_code": mapping.ksb_code, "ksb_id": mapping.ksb_guid})
            continue
        KsbMapping.update(ksb_code=code).where(KsbMapping.id == mapping.id).execute()
    return removed


def mapped_criteria(standard_version_id, unit_version_ids: list) -> dict:
    """{KSB code: [(unit version id, criterion id or None for the whole unit)]} for the given unit versions."""
    found: dict = {}
    if not unit_version_ids:
        return found
    for code, unit_version, criterion in KsbMapping.select(
            KsbMapping.ksb_code, KsbMapping.unit_version, KsbMapping.criterion).where(
            KsbMapping.standard_version == standard_version_id,
            KsbMapping.unit_version.in_(unit_version_ids)).tuples():
        found.setdefault(code, []).append((uuid.UUID(str(unit_version)), uuid.UUID(str(criterion)) if criterion
                                           else None))
    return found
