"""The JSON a standard version is served as: everything read from the published object (text decoded for display
beside the text as published), its KSBs and duties by code, and the faults its import reported."""

import uuid
from datetime import date

from api.models.base import content_id
from api.services.apprenticeships.records import Fault, StandardVersion

LICENCE = ("Contains public sector information published by Skills England, licensed under the Open Government "
           "Licence v3.0 (https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/).")


def standard_id(reference_number: str) -> uuid.UUID:
    return content_id("apprenticeship_standard", reference_number)


def version_id(reference_number: str, version: str) -> uuid.UUID:
    return content_id("apprenticeship_standard_version", reference_number, version)


def part_id(reference_number: str, version: str, code: str) -> uuid.UUID:
    """The id of a KSB or duty (K1, D3) of a version."""
    return content_id("apprenticeship_standard_part", reference_number, version, code)


def version_href(reference_number: str, version: str) -> str:
    return f"/v1/apprenticeship-standards/{reference_number}/versions/{version}"


def version_document(record: StandardVersion, faults: list[Fault]) -> dict:
    """The served document of ``record``; ``faults``: those its import reported, with paths from its own object."""
    ref, number = record.reference_number, record.version
    ksbs = {kind: [{"id": str(part_id(ref, number, k.code)), "ksb_id": k.ksb_id, "code": k.code,
                    "detail": k.detail, "detail_source": k.detail_source}
                   for k in record.ksbs if k.kind == kind] for kind in ("knowledge", "skill", "behaviour")}
    return {
        "id": str(version_id(ref, number)), "standard_id": str(standard_id(ref)), "reference_number": ref,
        "version": number, "href": version_href(ref, number),
        "status": record.status, "status_source": record.status_source,
        "title": record.title, "title_source": record.title_source, "level": record.level, "route": record.route,
        "lars_code": record.lars_code, "typical_duration_months": record.typical_duration_months,
        "earliest_start_date": iso_day(record.earliest_start_date),
        "latest_start_date": iso_day(record.latest_start_date),
        "latest_end_date": iso_day(record.latest_end_date),
        "approved_for_delivery": iso_day(record.approved_for_delivery),
        "minimum_otj_hours": record.minimum_otj_hours,
        "minimum_otj_hours_read_on": iso_day(record.minimum_otj_hours_read_on),
        "core_and_options": record.core_and_options,
        "options": [{"option_id": o.option_id, "title": o.title, "occupation_code": o.occupation_code}
                    for o in record.options],
        "unstructured_options": list(record.unstructured_options),
        "overview_of_role": record.overview_of_role, "overview_of_role_source": record.overview_of_role_source,
        "change_note": record.change_note, "changed_date": iso_day(record.changed_date), "source_url": record.url,
        "last_updated": iso_day(record.last_updated),
        "knowledge": ksbs["knowledge"], "skills": ksbs["skill"], "behaviours": ksbs["behaviour"],
        "duties": [{"id": str(part_id(ref, number, d.code)), "duty_id": d.duty_id, "code": d.code,
                    "detail": d.detail, "detail_source": d.detail_source, "is_core": d.is_core,
                    "ksb_codes": list(d.ksb_codes), "unresolved_ksb_ids": list(d.unresolved_ksb_ids),
                    "option_ids": list(d.option_ids), "unresolved_option_ids": list(d.unresolved_option_ids),
                    "criteria": d.criteria} for d in record.duties],
        "import_faults": [fault.to_dict() for fault in faults],
        "licence": LICENCE,
    }


def own_faults(record: StandardVersion, faults: tuple[Fault, ...]) -> list[Fault]:
    """The faults found in ``record``'s own object, their paths rebased to it (``$[2].knowledges[0]`` ->
    ``$.knowledges[0]``)."""
    prefix = record.source_path
    return [Fault("$" + fault.path[len(prefix):], fault.code, fault.severity, fault.message) for fault in faults
            if fault.path == prefix or fault.path.startswith((prefix + ".", prefix + "["))]


def version_order(version: str) -> tuple:
    """A sort key that puts 1.10 after 1.9 (and anything not numeric after the numbers, by text)."""
    parts = version.split(".")
    return (0, tuple(int(p) for p in parts)) if all(p.isdigit() for p in parts) else (1, version)


def iso_day(value: date | None) -> str | None:
    """A date as ISO text, None for none."""
    return value.isoformat() if value else None
