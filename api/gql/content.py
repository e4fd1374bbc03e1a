"""GraphQL queries over canonical content: thin over api.services.content.catalog, with the REST argument rules."""

import uuid

import strawberry

from api.gql.args import or_none, page_size, validated
from api.gql.content_types import (
    SUMMARY_FIELDS,
    AssessmentCriterion,
    AwardingBody,
    ContentStatus,
    EvidenceType,
    Info,
    LearningOutcome,
    Qualification,
    Standard,
    Unit,
)
from api.gql.records import Connection, connection_from_list, connection_from_page
from api.gql.selection import requests_only
from api.inputs.params import PAGE_ARGS, QUALIFICATION_LIST_ARGS, STANDARD_LIST_ARGS, UNIT_LIST_ARGS
from api.services.content import catalog
from api.services.content.catalog import UnitFilters


def read_unit(principal, id: uuid.UUID, status=ContentStatus.PUBLISHED) -> dict | None:
    """The unit's document at its newest version of ``status`` (a ContentStatus or its value); None for REST's 404."""
    return or_none(lambda: catalog.parsed(catalog.get_unit_document(id, ContentStatus(status).value, principal)))


def read_unit_version(principal, unit_id: uuid.UUID, number: int, status=ContentStatus.PUBLISHED) -> dict | None:
    """One numbered version of a unit; None for REST's 404."""
    return or_none(lambda: catalog.parsed(catalog.get_unit_version(unit_id, number, ContentStatus(status).value,
                                                                    principal)))


# Root fields that read one stored document, by GraphQL name: queries made of these alone run compiled
# (api.gql.compiled), calling the same functions as the resolvers below.
DOCUMENT_ROOTS = {"unit": read_unit, "unitVersion": read_unit_version}


@strawberry.type
class ContentQuery:
    @strawberry.field(description="One unit at its newest version of `status` (404 in REST is null here).")
    def unit(self, info: Info, id: uuid.UUID, status: ContentStatus = ContentStatus.PUBLISHED) -> Unit | None:
        return read_unit(info.context.principal, id, status)

    @strawberry.field(description="One numbered version of a unit.")
    def unit_version(self, info: Info, unit_id: uuid.UUID, number: int,
                     status: ContentStatus = ContentStatus.PUBLISHED) -> Unit | None:
        return read_unit_version(info.context.principal, unit_id, number, status)

    @strawberry.field(description="Units whose head version at `status` matches every filter, by code. Without "
                                  "`status`, a `code` lookup finds the unit at any status you may see.")
    def units(self, info: Info, code: str | None = None, owner: str | None = None, level: int | None = None,
              q: str | None = None, status: ContentStatus | None = None, first: int | None = None,
              after: str | None = None) -> Connection[Unit]:
        args = validated(UNIT_LIST_ARGS, code=code, owner=owner, level=level, q=q, after=after)
        cursor = args.pop("cursor")
        chosen = status.value if status else (catalog.ANY_STATUS if code else "published")
        page = catalog.list_units(UnitFilters(**args, status=chosen), cursor, page_size(info, first),
                                  info.context.principal)
        if not requests_only(info, SUMMARY_FIELDS, "nodes", "edges.node"):
            documents = catalog.documents_by_version([u["version_id"] for u in page.items], info.context.principal)
            page.items = [documents.get(u["version_id"], u) for u in page.items]
        info.context.seen("unit", page.items)
        return connection_from_page(page)

    @strawberry.field
    def learning_outcome(self, info: Info, id: uuid.UUID,
                         status: ContentStatus = ContentStatus.PUBLISHED) -> LearningOutcome | None:
        return or_none(lambda: catalog.get_outcome(id, status.value, info.context.principal))

    @strawberry.field
    def criterion(self, info: Info, id: uuid.UUID,
                  status: ContentStatus = ContentStatus.PUBLISHED) -> AssessmentCriterion | None:
        return or_none(lambda: catalog.get_criterion(id, status.value, info.context.principal))

    @strawberry.field
    def awarding_bodies(self, info: Info, first: int | None = None,
                        after: str | None = None) -> Connection[AwardingBody]:
        cursor = validated(PAGE_ARGS, after=after)["cursor"]
        return connection_from_page(catalog.list_awarding_bodies(cursor, page_size(info, first)))

    @strawberry.field(description="The evidence-type vocabulary, by code.")
    def evidence_types(self, info: Info, first: int | None = None,
                       after: str | None = None) -> Connection[EvidenceType]:
        return connection_from_list(catalog.list_evidence_types(), lambda t: t["code"], page_size(info, first), after)

    @strawberry.field
    def standards(self, info: Info, urn: str | None = None, first: int | None = None,
                  after: str | None = None) -> Connection[Standard]:
        args = validated(STANDARD_LIST_ARGS, urn=urn, after=after)
        page = catalog.list_standards(args["cursor"], page_size(info, first), args["urn"])
        return connection_from_page(page)

    @strawberry.field
    def standard(self, info: Info, id: uuid.UUID) -> Standard | None:
        return or_none(lambda: catalog.parsed(catalog.get_standard(id)))

    @strawberry.field
    def qualifications(self, info: Info, code: str | None = None, owner: str | None = None,
                       status: ContentStatus = ContentStatus.PUBLISHED, first: int | None = None,
                       after: str | None = None) -> Connection[Qualification]:
        args = validated(QUALIFICATION_LIST_ARGS, code=code, owner=owner, after=after)
        page = catalog.list_qualifications(args["cursor"], page_size(info, first), status.value, args["code"],
                                           args["owner"], info.context.principal)
        return connection_from_page(page)

    @strawberry.field
    def qualification(self, info: Info, id: uuid.UUID,
                      status: ContentStatus = ContentStatus.PUBLISHED) -> Qualification | None:
        return or_none(lambda: catalog.parsed(catalog.get_qualification(id, status.value, info.context.principal)))
