"""The one GraphQL schema: content and tracking queries, tracking mutations, resolved from service dicts."""

import strawberry
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.name_converter import NameConverter

from api.gql.apprenticeship_tracking import ApprenticeshipTrackingQuery
from api.gql.apprenticeships import ApprenticeshipQuery
from api.gql.content import ContentQuery
from api.gql.ksb_assessment import KsbAssessmentQuery
from api.gql.limits import is_expected
from api.gql.mutations import Mutation
from api.gql.projection import ProjectingExecutionContext
from api.gql.records import resolve_attribute
from api.gql.scalars import SCALAR_OVERRIDES
from api.gql.tracking import TrackingQuery
from api.gql.webhooks import FeedQuery
from api.problems import log_unexpected


class QualtrackSchema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        """Log and count unexpected errors as REST does (api.problems.log_unexpected: a busy database as a warning,
        anything else with its traceback); expected ones (bad queries, ApiErrors) are the caller's."""
        for error in errors:
            if not is_expected(error):
                log_unexpected(error.original_error, f"GraphQL field {'.'.join(map(str, error.path or ()))}",
                               "graphql")


class RememberingNameConverter(NameConverter):
    """strawberry's camelCase naming, each name converted once: strawberry converts every argument's name on every
    resolver call (to_camel_case was a visible share of a unit-tree query), and the names are the schema's: a
    fixed set."""

    def __init__(self):
        super().__init__()
        self._converted: dict[str, str] = {}

    def apply_naming_config(self, name: str) -> str:
        converted = self._converted.get(name)
        if converted is None:
            converted = self._converted[name] = super().apply_naming_config(name)
        return converted


@strawberry.type
class Query(ContentQuery, ApprenticeshipQuery, TrackingQuery, ApprenticeshipTrackingQuery, KsbAssessmentQuery,
            FeedQuery):
    """Everything readable: content (public when published), apprenticeship standards, tracking (for those allowed),
    the feed and webhooks."""


def build_schema() -> strawberry.Schema:
    """The schema, completing stored documents with compiled projections. Its protections (depth, aliases, tokens,
    cost, introspection) are applied where operations run: api.gql.operations.OperationRunner."""
    return QualtrackSchema(query=Query, mutation=Mutation,
                           config=StrawberryConfig(default_resolver=resolve_attribute,
                                                  name_converter=RememberingNameConverter()),
                           execution_context_class=ProjectingExecutionContext, scalar_overrides=SCALAR_OVERRIDES)


def schema_sdl() -> str:
    """The schema in SDL, as checked in at schema/qualtrack.graphql (`qualtrack export-schema` writes it)."""
    return build_schema().as_str() + "\n"
