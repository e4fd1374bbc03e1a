"""Importing apprenticeship standards as Skills England publishes them (one version object, or the API's whole
array): every version that can be read is stored, every fault is reported with its JSON path, and nothing is
dropped without a fault saying so (api.services.apprenticeships.reading).

Idempotent: a version is keyed by (reference number, version) and its published object's SHA-256, so importing the
same object again changes nothing, and a changed object replaces the version's content (its KSBs and duties keep
their ids: they are content ids of their codes) and the index of its CASE items and associations (case_standards).
Each version created or changed is audited, and the report gives what changed: against the version it replaced, or a
new version against the one before it; the change feed gets an apprenticeship_standard.created or .updated event for
each."""

import hashlib
import json
from datetime import date

from api import db
from api.errors import ValidationFailed
from api.models import ApprenticeshipDuty, ApprenticeshipKsb, ApprenticeshipStandard, ApprenticeshipStandardVersion
from api.models.apprenticeships import PUBLIC_STATUSES
from api.models.base import utcnow
from api.services.apprenticeships import documents, mappings
from api.services.apprenticeships.reading import parse_document, read_standards
from api.services.apprenticeships.records import Fault, StandardVersion
from api.services.apprenticeships.versions_diff import diff_versions
from api.services.common import audit
from api.services.common.access import Principal, require, require_authenticated
from api.services.interop import case_standards
from api.services.sync import feed

IMPORT_LOCK = 0x71617073  # one import of standards at a time ("qaps"): a version's first import happens once


def can_import(principal: Principal) -> bool:
    """Standards are published by Skills England for the nation, and no awarding body owns them: admins import."""
    return principal.is_admin


def import_standards(principal: Principal, raw: bytes, *, read_on: date | None = None) -> dict:
    """Store every readable version of the document ``raw`` holds, inside the caller's write transaction, and
    report: each version's outcome (created, updated or unchanged, with what changed) and every fault. A document
    of which no version could be read is a 422 listing its faults (an empty array imports nothing, and is no
    fault)."""
    require_authenticated(principal)
    require(can_import(principal), "apprenticeship standards are imported by admins")
    document, unreadable = parse_document(raw)
    if unreadable:
        _refuse([Fault("$", "invalid_json", "error", unreadable)])
    reading = read_standards(document, read_on=read_on or utcnow().date())
    if not reading.versions and reading.errors:
        _refuse(list(reading.faults))
    db.hold_until_commit(IMPORT_LOCK)
    outcomes = [_store(principal, record, _source_of(document, record), documents.own_faults(record, reading.faults))
                for record in reading.versions]
    for reference in dict.fromkeys(record.reference_number for record in reading.versions):
        _refresh_standard(reference)
    return {"versions": outcomes, "faults": [fault.to_dict() for fault in reading.faults],
            "counts": {outcome: sum(1 for o in outcomes if o["outcome"] == outcome)
                       for outcome in ("created", "updated", "unchanged")}}


def _refuse(faults: list[Fault]) -> None:
    raise ValidationFailed("no apprenticeship standard version could be read from the document: its faults say why",
                           extensions={"faults": [fault.to_dict() for fault in faults]})


def _source_of(document, record: StandardVersion) -> dict:
    """The published object ``record`` was read from."""
    return document if record.source_path == "$" else document[int(record.source_path[2:-1])]


def source_hash(source: dict) -> str:
    """The SHA-256 of a published object as stored (compact JSON, keys sorted)."""
    return hashlib.sha256(ApprenticeshipStandardVersion.source.db_value(source).encode()).hexdigest()


def stored_record(row: ApprenticeshipStandardVersion) -> StandardVersion | None:
    """A stored version read again from its published object, as it was read when imported (None if this reader
    can no longer read it)."""
    versions = read_standards(row.source, read_on=row.minimum_otj_hours_read_on).versions
    return versions[0] if versions else None


def _store(principal: Principal, record: StandardVersion, source: dict, faults: list[Fault]) -> dict:
    ref, number = record.reference_number, record.version
    digest = source_hash(source)
    existing = ApprenticeshipStandardVersion.get_or_none(
        ApprenticeshipStandardVersion.id == documents.version_id(ref, number))
    outcome = {"reference_number": ref, "version": number, "href": documents.version_href(ref, number)}
    if existing is not None and existing.source_hash == digest:
        return {**outcome, "outcome": "unchanged", "changes": None}
    if existing is None:
        previous = _previous_version(ref, number)
        changes = _changes(stored_record(previous) if previous else None, record)
        _ensure_standard(record)
    else:
        changes = _changes(stored_record(existing), record)
    body = documents.version_document(record, faults)
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    fields = {"status": record.status, "status_source": record.status_source, "title": record.title,
              "level": record.level, "earliest_start_date": record.earliest_start_date,
              "latest_start_date": record.latest_start_date, "minimum_otj_hours": record.minimum_otj_hours,
              "minimum_otj_hours_read_on": record.minimum_otj_hours_read_on, "source": source,
              "source_hash": digest, "document": text, "etag": f'"{hashlib.sha256(text.encode()).hexdigest()[:32]}"',
              "updated_at": utcnow()}
    version_id = documents.version_id(ref, number)
    if existing is None:
        ApprenticeshipStandardVersion.create(id=version_id, standard=documents.standard_id(ref), version=number,
                                             **fields)
    else:
        ApprenticeshipStandardVersion.update(**fields).where(ApprenticeshipStandardVersion.id == version_id).execute()
        ApprenticeshipKsb.delete().where(ApprenticeshipKsb.version == version_id).execute()
        ApprenticeshipDuty.delete().where(ApprenticeshipDuty.version == version_id).execute()
    _store_parts(record, version_id)
    orphaned = [] if existing is None else mappings.recode_after_reimport(principal, version_id)
    case_standards.index(version_id, body)
    action = "apprenticeship_standard_version.imported" if existing is None else \
        "apprenticeship_standard_version.updated"
    audit.record(principal, action, "apprenticeship_standard_version", version_id,
                 before={"source_hash": existing.source_hash} if existing else None,
                 after={"reference_number": ref, "version": number, "source_hash": digest, "status": record.status})
    feed.record_standard("created" if existing is None else "updated", version_id,
                         record.status in PUBLIC_STATUSES, fields["etag"], audit.actor_of(principal))
    result = {**outcome, "outcome": "created" if existing is None else "updated", "changes": changes}
    return {**result, "ksb_mappings_removed": orphaned} if orphaned else result


def _changes(before: StandardVersion | None, after: StandardVersion) -> dict | None:
    return diff_versions(before, after).to_dict() if before is not None else None


def _store_parts(record: StandardVersion, version_id) -> None:
    ref, number = record.reference_number, record.version
    db.insert_rows(ApprenticeshipKsb, [
        {"id": documents.part_id(ref, number, k.code), "version": version_id, "ksb_id": k.ksb_id, "kind": k.kind,
         "code": k.code, "position": k.position, "detail": k.detail, "detail_source": k.detail_source}
        for k in record.ksbs])
    db.insert_rows(ApprenticeshipDuty, [
        {"id": documents.part_id(ref, number, d.code), "version": version_id, "duty_id": d.duty_id, "code": d.code,
         "position": d.position, "detail": d.detail, "detail_source": d.detail_source, "is_core": d.is_core,
         "ksb_codes": list(d.ksb_codes), "unresolved_ksb_ids": list(d.unresolved_ksb_ids)}
        for d in record.duties])


def _previous_version(reference: str, version: str) -> ApprenticeshipStandardVersion | None:
    """The stored version of the standard that comes last before ``version``."""
    earlier = [number for number in _version_numbers(reference)
               if documents.version_order(number) < documents.version_order(version)]
    if not earlier:
        return None
    latest = max(earlier, key=documents.version_order)
    return ApprenticeshipStandardVersion.get_by_id(documents.version_id(reference, latest))


def _version_numbers(reference: str) -> list[str]:
    """The versions stored of a standard (their numbers only: a row holds its whole published object)."""
    return [number for (number,) in ApprenticeshipStandardVersion.select(ApprenticeshipStandardVersion.version)
            .where(ApprenticeshipStandardVersion.standard == documents.standard_id(reference)).tuples()]


def _ensure_standard(record: StandardVersion) -> None:
    if ApprenticeshipStandard.get_or_none(ApprenticeshipStandard.id == documents.standard_id(record.reference_number)):
        return
    ApprenticeshipStandard.create(id=documents.standard_id(record.reference_number),
                                  reference_number=record.reference_number, title=record.title,
                                  level=record.level, route=record.route)


def _refresh_standard(reference: str) -> None:
    """A standard's title, level and route are its latest version's."""
    newest = max(_version_numbers(reference), key=documents.version_order)
    latest = json.loads(ApprenticeshipStandardVersion.get_by_id(documents.version_id(reference, newest)).document)
    ApprenticeshipStandard.update(title=latest["title"], level=latest["level"], route=latest["route"],
                                  updated_at=utcnow()).where(
        ApprenticeshipStandard.id == documents.standard_id(reference)).execute()
