"""GraphQL queries over apprenticeship standards: thin over api.services.apprenticeships.catalog, with REST's rules
(versions published for delivery are public; others are admins', and null to anyone else)."""

import datetime as dt
import json
import uuid

import strawberry
from strawberry.scalars import JSON

from api.gql.args import or_none, page_size, validated
from api.gql.content_types import Info
from api.gql.records import Connection, connection_from_page
from api.inputs.params import PAGE_ARGS
from api.services.apprenticeships import catalog


@strawberry.type(description="A knowledge, skill or behaviour of a standard version: its code by position (K1, "
                             "S3, B2), its published GUID (`ksbId`, which mostly carries over between versions) and "
                             "its text (`detailSource` as published, `detail` with HTML entities decoded).")
class Ksb:
    id: uuid.UUID
    ksb_id: str | None
    code: str
    detail: str
    detail_source: str


@strawberry.type(description="A duty of a standard version (D1...) and the codes of the KSBs it maps to, in "
                             "published order; GUIDs that name no KSB of the version are kept unresolved.")
class Duty:
    id: uuid.UUID
    duty_id: str | None
    code: str
    detail: str
    detail_source: str
    is_core: bool | None
    ksb_codes: list[str]
    unresolved_ksb_ids: list[str]
    option_ids: list[str]
    unresolved_option_ids: list[str]
    criteria: str | None


@strawberry.type(description="An option of a core-and-options standard.")
class StandardOption:
    option_id: str | None
    title: str | None
    occupation_code: str | None


@strawberry.type(description="A fault the version's import reported, at its JSON path within the version's "
                             "published object.")
class ImportFault:
    path: str
    code: str
    severity: str
    message: str


@strawberry.type(description="A version of an apprenticeship standard, as REST's GET "
                             "/v1/apprenticeship-standards/{reference}/versions/{version} serves it.")
class ApprenticeshipStandardVersion:
    id: uuid.UUID
    standard_id: uuid.UUID
    reference_number: str
    version: str
    href: str
    status: str | None = strawberry.field(description="approved, retired, in_development or withdrawn; null for a "
                                                      "status Skills England does not publish (see statusSource).")
    status_source: str | None
    title: str
    title_source: str
    level: int | None
    route: str | None
    lars_code: int | None
    typical_duration_months: int | None
    earliest_start_date: dt.date | None
    latest_start_date: dt.date | None
    latest_end_date: dt.date | None
    approved_for_delivery: dt.date | None
    minimum_otj_hours: int | None
    minimum_otj_hours_read_on: dt.date | None
    core_and_options: bool
    options: list[StandardOption]
    unstructured_options: list[str]
    overview_of_role: str | None
    overview_of_role_source: str | None
    change_note: str | None
    changed_date: dt.date | None
    source_url: str | None
    last_updated: dt.date | None
    knowledge: list[Ksb]
    skills: list[Ksb]
    behaviours: list[Ksb]
    duties: list[Duty]
    import_faults: list[ImportFault]
    licence: str

    @strawberry.field(description="What changed from an earlier version of the same standard (REST's "
                                  ".../changes?from_version=); null if that version is not one you may read.")
    def changes_from(self, info: Info, version: str, parent: strawberry.Parent[dict]) -> JSON | None:
        return or_none(lambda: catalog.version_changes(info.context.principal, parent["reference_number"],
                                                       parent["version"], version))


@strawberry.type(description="A summary of one version, as the standard lists it.")
class ApprenticeshipVersionSummary:
    version: str
    status: str | None
    title: str
    earliest_start_date: dt.date | None
    latest_start_date: dt.date | None
    minimum_otj_hours: int | None
    updated_at: dt.datetime
    href: str


@strawberry.type(description="An apprenticeship standard (ST0384) and the versions of it you may read, oldest "
                             "first.")
class ApprenticeshipStandard:
    id: uuid.UUID
    reference_number: str
    title: str
    level: int | None
    route: str | None
    href: str
    versions: list[ApprenticeshipVersionSummary]


def read_version(principal, reference_number: str, version: str) -> dict | None:
    """A version's document; None where REST answers 404."""
    return or_none(lambda: json.loads(catalog.get_version(principal, reference_number, version).body))


@strawberry.type
class ApprenticeshipQuery:
    @strawberry.field(description="Apprenticeship standards with a version you may read, by reference number.")
    def apprenticeship_standards(self, info: Info, first: int | None = None,
                                 after: str | None = None) -> Connection[ApprenticeshipStandard]:
        args = validated(PAGE_ARGS, after=after)
        return connection_from_page(catalog.list_standards(info.context.principal, args["cursor"],
                                                           page_size(info, first)))

    @strawberry.field(description="One apprenticeship standard by reference number (null where REST answers 404).")
    def apprenticeship_standard(self, info: Info, reference_number: str) -> ApprenticeshipStandard | None:
        return or_none(lambda: catalog.get_standard(info.context.principal, reference_number))

    @strawberry.field(description="One version of an apprenticeship standard, with its KSBs and duties.")
    def apprenticeship_standard_version(self, info: Info, reference_number: str,
                                        version: str) -> ApprenticeshipStandardVersion | None:
        return read_version(info.context.principal, reference_number, version)
