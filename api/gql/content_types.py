"""GraphQL types for canonical content. Each reads the dicts of the REST documents, so a field here has the value of
the same-named (snake_case) member there."""

import datetime as dt
import enum
import uuid

import strawberry
from strawberry.scalars import JSON

from api.gql.context import Context

Info = strawberry.Info[Context, None]


@strawberry.enum(description="Lifecycle status of a unit version or qualification.")
class ContentStatus(enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


@strawberry.type
class AwardingBody:
    id: uuid.UUID
    slug: str
    name: str


@strawberry.type
class EvidenceType:
    code: str
    name: str
    description: str | None = None


@strawberry.type(description="Range, guidance or knowledge text: optional heading, paragraph and bullets, verbatim.")
class Block:
    heading: str | None
    text: str | None
    items: list[str] | None


@strawberry.type
class Minimum:
    count: int
    of: str
    as_written: str


@strawberry.type(description="An explicit resolution of something inconsistent or unusual in the source document.")
class Note:
    about: str
    text: str


@strawberry.type(description="The document the content is taken from.")
class Source:
    document: str = strawberry.field(description="The document's title.")
    description: str | None


@strawberry.type
class StandardSummary:
    id: uuid.UUID
    slug: str
    urn: str | None
    title: str
    href: str


@strawberry.type(description="A mapping from a unit (criterion_id null) or one criterion to a National "
                             "Occupational Standard.")
class Mapping:
    id: uuid.UUID
    standard: StandardSummary
    criterion_id: uuid.UUID | None
    items: list[str]
    strength: str
    as_written: str | None
    note: str | None


@strawberry.type(description="The unit version a learning outcome or criterion belongs to.")
class UnitVersionRef:
    id: uuid.UUID
    code: str
    title: str
    owner: AwardingBody
    status: str
    version: int
    version_id: uuid.UUID
    href: str


@strawberry.type
class OutcomeRef:
    id: uuid.UUID
    number: str
    title: str
    kind: str
    href: str


@strawberry.type
class AssessmentCriterion:
    id: uuid.UUID
    identity: uuid.UUID = strawberry.field(description="The criterion across versions: kept while its text stays.")
    replaces: uuid.UUID | None = strawberry.field(description="The identity of the criterion this one replaces.")
    number: str
    number_as_written: str | None
    text: str
    range: list[Block]
    minimum: Minimum | None
    note: str | None
    outcome: OutcomeRef | None = strawberry.field(description="Set when the criterion is fetched on its own.")
    unit: UnitVersionRef | None = strawberry.field(description="Set when the criterion is fetched on its own.")
    mappings: list[Mapping] | None = strawberry.field(description="Set when the criterion is fetched on its own.")


@strawberry.type
class OutcomeEvidence:
    as_written: str | None
    notes: list[str]


@strawberry.type
class EvidenceTypeRef:
    code: str
    name: str


@strawberry.type
class LearningOutcome:
    id: uuid.UUID
    number: str
    number_as_written: str | None
    title: str
    kind: str
    evidence_types: list[EvidenceTypeRef]
    evidence: OutcomeEvidence | None
    knowledge_understanding: list[Block]
    note: str | None
    criteria: list[AssessmentCriterion]
    unit: UnitVersionRef | None = strawberry.field(description="Set when the outcome is fetched on its own.")


@strawberry.type
class EvidenceRequirement:
    number: int
    text: str
    items: list[str] | None


@strawberry.type
class LabelledText:
    label: str
    text: str


@strawberry.type(description="Guidance linked to the unit; `document` holds its sections as loaded.")
class Guidance:
    id: uuid.UUID
    slug: str
    title: str
    link_note: str | None

    @strawberry.field(description="The whole guidance record as JSON (its sections vary by source).")
    def document(self, parent: strawberry.Parent[dict]) -> JSON:
        return parent


@strawberry.type
class ReviewerComment:
    text: str
    anchor: str | None
    resolution: str | None


@strawberry.type(description="The CASE framework a unit was imported from, kept whole beside it.")
class CaseFrameworkReference:
    identifier: uuid.UUID
    title: str
    uri: str = strawberry.field(description="Its CFPackage under /ims/case/v1p1 (once published).")
    href: str = strawberry.field(description="The framework under /v1/frameworks.")


@strawberry.type(description="Where an object is served as CASE 1.1: its CFItem identifier and uri (a path here).")
class CaseReference:
    identifier: uuid.UUID
    uri: str
    framework: CaseFrameworkReference | None = strawberry.field(
        description="The CASE framework the unit was imported from; null for a unit authored here.")


@strawberry.type
class UnitVersionSummary:
    id: uuid.UUID
    number: int
    status: str
    is_head: bool
    title: str
    etag: str
    created_at: dt.datetime | None
    published_at: dt.datetime | None
    withdrawn_at: dt.datetime | None
    href: str


# Fields a unit list item has without loading its document (GraphQL names).
SUMMARY_FIELDS = frozenset({"id", "code", "title", "level", "creditValue", "glh", "owner", "status", "version",
                            "versionId", "publishedAt", "versions", "__typename"})


@strawberry.type(description="A unit at one version: GET /v1/units/{id} as a graph. In lists, fields beyond the "
                             "summary (code, title, level, credits, owner, status, version) are batch-loaded.")
class Unit:
    id: uuid.UUID
    version_id: uuid.UUID
    version: int
    status: str
    code: str
    title: str
    owner: AwardingBody
    level: int | None
    code_label: str | None
    level_as_written: str | None
    credit_value: int | None
    glh: int | None
    unit_reference_number: str | None
    purpose: str | None
    availability: str | None
    available_from: str | None
    expiry_date: str | None
    assessment: str | None
    assessment_guidance: str | None
    evidence_requirements: list[EvidenceRequirement]
    additional_information: list[LabelledText]
    learning_outcomes: list[LearningOutcome]
    mappings: list[Mapping]
    guidance: list[Guidance]
    reviewer_comments: list[ReviewerComment]
    notes: list[Note]
    source: Source
    created_at: dt.datetime | None
    published_at: dt.datetime | None
    withdrawn_at: dt.datetime | None
    case: CaseReference | None = strawberry.field(description="The unit as a CASE 1.1 CFItem (/ims/case/v1p1).")

    @strawberry.field(description="The unit's versions at `status`, newest first.")
    def versions(self, parent: strawberry.Parent[dict], info: Info,
                 status: ContentStatus = ContentStatus.PUBLISHED) -> list[UnitVersionSummary]:
        return info.context.load("unit", f"versions_{status.value}", parent)


@strawberry.type
class QualificationUnitRef:
    id: uuid.UUID
    code: str
    href: str


@strawberry.type
class QualificationGroup:
    id: uuid.UUID
    name: str
    mandatory: bool
    min_units: int | None
    min_credits: int | None
    units: list[QualificationUnitRef]


@strawberry.type
class Qualification:
    id: uuid.UUID
    code: str
    title: str
    owner: AwardingBody
    level: int | None
    status: str
    min_credits: int | None = None
    groups: list[QualificationGroup] | None = strawberry.field(
        default=None, description="Rules of combination; null in lists (fetch `qualification(id)`).")


@strawberry.type
class StandardItem:
    id: uuid.UUID
    number: str
    text: str


@strawberry.type(description="A National Occupational Standard. Fields after `href` are null in lists (fetch "
                             "`standard(id)`).")
class Standard:
    id: uuid.UUID
    slug: str
    urn: str | None
    title: str
    href: str
    suite: str | None = None
    overview: list[str] | None = None
    performance_intro: str | None = None
    knowledge_intro: str | None = None
    performance_criteria: list[StandardItem] | None = None
    knowledge: list[StandardItem] | None = None
    notes: list[Note] | None = None
    source: Source | None = None
