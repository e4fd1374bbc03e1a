"""The one GraphQL schema: content and tracking queries, tracking mutations, resolved from service dicts."""

import logging

import strawberry
from strawberry.schema.config import StrawberryConfig

from api.gql.content import ContentQuery
from api.gql.context import GraphQLLimits
from api.gql.limits import extensions, is_expected
from api.gql.mutations import Mutation
from api.gql.projection import ProjectingExecutionContext
from api.gql.records import resolve_attribute
from api.gql.tracking import TrackingQuery

log = logging.getLogger(__name__)


class QualtrackSchema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        """Log unexpected errors with their traceback; expected ones (bad queries, ApiErrors) are the caller's."""
        for error in errors:
            if not is_expected(error):
                log.error("unexpected GraphQL error at %s", error.path, exc_info=error.original_error)


@strawberry.type
class Query(ContentQuery, TrackingQuery):
    """Everything readable: content (public when published) and tracking (for those allowed)."""


def build_schema(limits: GraphQLLimits | None = None, *, introspection: bool = True) -> strawberry.Schema:
    """The schema with its protections; ``introspection=False`` refuses __schema and __type queries."""
    return QualtrackSchema(query=Query, mutation=Mutation,
                           config=StrawberryConfig(default_resolver=resolve_attribute),
                           execution_context_class=ProjectingExecutionContext,
                           extensions=extensions(limits or GraphQLLimits(), introspection=introspection))


def schema_sdl() -> str:
    """The schema in SDL, as checked in at schema/qualtrack.graphql (`qualtrack export-schema` writes it)."""
    return build_schema().as_str() + "\n"
