"""Reading apprenticeship standards: the list of standards, a standard with its versions, a version's document
(its KSBs and duties), and what changed between two versions. Versions published for delivery at some time are
public; others are for admins (access.apprenticeship_version_condition), and to anyone else they do not exist."""

from dataclasses import dataclass

from api.errors import NotFound
from api.models import ApprenticeshipStandard, ApprenticeshipStandardVersion
from api.models.base import iso_utc
from api.services.apprenticeships import documents, mappings
from api.services.apprenticeships.importing import stored_record
from api.services.apprenticeships.versions_diff import diff_versions
from api.services.common.access import Principal, apprenticeship_version_condition
from api.services.common.pagination import Page, keyset_page


@dataclass
class VersionDocument:
    """A version's stored document, its ETag and status."""

    body: str
    etag: str
    status: str | None


def _visible_versions(principal: Principal):
    query = ApprenticeshipStandardVersion.select()
    condition = apprenticeship_version_condition(principal, ApprenticeshipStandardVersion.status)
    return query if condition is None else query.where(condition)


def list_standards(principal: Principal, cursor: str | None, limit: int) -> Page:
    """Standards with a version the principal may read, by reference number, each with those versions."""
    visible = _visible_versions(principal).select(ApprenticeshipStandardVersion.standard)
    query = ApprenticeshipStandard.select().where(ApprenticeshipStandard.id.in_(visible))
    page = keyset_page(query, [ApprenticeshipStandard.reference_number, ApprenticeshipStandard.id], cursor, limit,
                       key_of=lambda s: [s.reference_number, str(s.id)])
    versions = _versions_of(principal, [s.id for s in page.items])
    page.items = [_standard_body(s, versions.get(s.id, [])) for s in page.items]
    return page


def get_standard(principal: Principal, reference_number: str) -> dict:
    """A standard and the versions of it the principal may read, oldest first."""
    standard = ApprenticeshipStandard.get_or_none(ApprenticeshipStandard.reference_number == reference_number)
    versions = _versions_of(principal, [standard.id]).get(standard.id) if standard else None
    if not versions:
        raise NotFound(f"no apprenticeship standard {reference_number} visible to you")
    return _standard_body(standard, versions)


def get_version(principal: Principal, reference_number: str, version: str) -> VersionDocument:
    """A version's document: its KSBs (knowledge, skills, behaviours) and duties in published order."""
    row = _visible_version(principal, reference_number, version)
    return VersionDocument(row.document, row.etag, row.status)


def version_changes(principal: Principal, reference_number: str, version: str, earlier: str) -> dict:
    """What changed from version ``earlier`` to ``version`` of one standard: KSBs and duties added, removed, reworded
    or recoded (matched by their published GUIDs), duty mappings, and fields; and the unit criteria mapped to a KSB
    of ``earlier`` that was removed, reworded or recoded (those visible to the principal)."""
    old_row = _visible_version(principal, reference_number, earlier)
    changes = diff_versions(stored_record(old_row), stored_record(_visible_version(principal, reference_number,
                                                                                   version))).to_dict()
    return {**changes, "ksb_mappings_affected": mappings.impact_of_changes(principal, old_row.id, changes)}


def _visible_version(principal: Principal, reference_number: str, version: str) -> ApprenticeshipStandardVersion:
    row = _visible_versions(principal).where(
        ApprenticeshipStandardVersion.id == documents.version_id(reference_number, version)).first()
    if row is None:
        raise NotFound(f"no version {version} of apprenticeship standard {reference_number} visible to you")
    return row


SUMMARY_COLUMNS = (ApprenticeshipStandardVersion.standard, ApprenticeshipStandardVersion.version,
                   ApprenticeshipStandardVersion.status, ApprenticeshipStandardVersion.title,
                   ApprenticeshipStandardVersion.earliest_start_date, ApprenticeshipStandardVersion.latest_start_date,
                   ApprenticeshipStandardVersion.minimum_otj_hours, ApprenticeshipStandardVersion.updated_at)


def _versions_of(principal: Principal, standard_ids: list) -> dict:
    """{standard id: its versions the principal may read, oldest first}, with the columns a summary shows (not the
    stored documents, which hold every KSB)."""
    found: dict = {}
    for row in _visible_versions(principal).select(*SUMMARY_COLUMNS).where(
            ApprenticeshipStandardVersion.standard.in_(standard_ids)):
        found.setdefault(row.standard_id, []).append(row)
    for rows in found.values():
        rows.sort(key=lambda row: documents.version_order(row.version))
    return found


def _standard_body(standard: ApprenticeshipStandard, versions: list) -> dict:
    return {"id": str(standard.id), "reference_number": standard.reference_number, "title": standard.title,
            "level": standard.level, "route": standard.route,
            "href": f"/v1/apprenticeship-standards/{standard.reference_number}",
            "versions": [_version_summary(standard, row) for row in versions]}


def _version_summary(standard: ApprenticeshipStandard, row: ApprenticeshipStandardVersion) -> dict:
    return {"version": row.version, "status": row.status, "title": row.title,
            "earliest_start_date": documents.iso_day(row.earliest_start_date),
            "latest_start_date": documents.iso_day(row.latest_start_date),
            "minimum_otj_hours": row.minimum_otj_hours, "updated_at": iso_utc(row.updated_at),
            "href": documents.version_href(standard.reference_number, row.version)}

