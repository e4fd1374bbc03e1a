"""Running one GraphQL operation: parse, check its type, validate, check its cost, execute.

strawberry's ``Schema.execute_sync`` does these steps through its extension runner, which builds an execution
context, a context manager per hook and per extension, and a middleware manager on every request. On a large unit
tree (bench/graphql_read.py), that machinery was a large share of what ``execute_sync`` spent per query, so
/graphql runs operations here instead, on graphql-core directly, with the schema strawberry built. Resolvers are
strawberry's as before. What strawberry's path did and this one keeps:

- documents parsed once per query text (token-limited: a longer document is a syntax error), and validated once per
  document, with graphql-core's rules, strawberry's two (``@oneOf`` inputs, ``Maybe``), ours (depth, aliases, maybe
  no introspection) and then the cost limit (api.gql.limits);
- CannotGetOperationTypeError and InvalidOperationTypeError raised for the view to answer as 400s;
- unexpected errors passed to ``schema.process_errors`` (logged) and returned for the view to mask.
"""

from collections.abc import Iterable

from graphql import DocumentNode, ExecutionResult, GraphQLError, parse, specified_rules
from graphql.execution import execute
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.extensions.max_aliases import create_validator as alias_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.schema.schema import validate_document
from strawberry.types.graphql import OperationType
from strawberry.utils.operation import get_operation_type

from api.gql.caches import CACHE_SIZE, remembered
from api.gql.compiled import CompiledQueries
from api.gql.content import DOCUMENT_ROOTS
from api.gql.context import Context, GraphQLLimits
from api.gql.limits import operation_cost, too_costly
from api.gql.projection import ProjectingExecutionContext


def _never(_value) -> bool:
    return False


class OperationRunner:
    """Runs operations on one strawberry schema under one set of limits. Its caches are shared by all requests and
    threads of the process (single dict operations are atomic) and emptied when full."""

    def __init__(self, schema, limits: GraphQLLimits | None = None, *, introspection: bool = True):
        self.schema, self.limits = schema, limits or GraphQLLimits()
        limits = self.limits
        self.rules = (*specified_rules, depth_validator(limits.max_depth, None, None),
                      alias_validator(limits.max_aliases),
                      *(() if introspection else (NoSchemaIntrospectionCustomRule,)))
        self.compiled = (CompiledQueries(schema._schema, DOCUMENT_ROOTS)
                         if schema.execution_context_class is ProjectingExecutionContext else None)
        self._documents: dict[str, DocumentNode] = {}
        self._verdicts: dict = {}  # id(document) -> (document, validation errors)
        self._costs: dict = {}  # (id(document), operation, integer variables) -> (document, cost)

    def run(self, query: str, variables: dict | None, operation_name: str | None, context: Context,
            allowed: Iterable[OperationType]) -> ExecutionResult:
        """The operation's result (``data`` and ``errors``), as graphql-core gives it; raises
        CannotGetOperationTypeError (no such operation) or InvalidOperationTypeError (a type not in ``allowed``)."""
        try:
            document = self._parsed(query)
        except GraphQLError as error:
            return ExecutionResult(None, [error])
        try:
            operation_type = get_operation_type(document, operation_name)
        except RuntimeError:
            raise CannotGetOperationTypeError(operation_name) from None
        if operation_type not in allowed:
            raise InvalidOperationTypeError(operation_type)
        errors = self._validated(document)
        cost = None
        if not errors:
            cost = self._cost(document, operation_name, variables or {})
            if cost > self.limits.max_cost:
                errors = [too_costly(cost, self.limits)]
        if errors:
            return ExecutionResult(None, errors, self._cost_extension(cost))
        result = self._executed(document, operation_name, variables, context, operation_type)
        result.extensions = self._cost_extension(cost, result.data)
        return result

    def _cost_extension(self, requested: int | None, data: dict | None = None) -> dict | None:
        """``extensions`` of an answer: the operation's estimated cost (``requested``, what the limit is checked
        against), the limit, and ``actual``: the fields the answer holds (every member of every object in ``data``)."""
        if requested is None:
            return None
        cost = {"requested": requested, "maximum": self.limits.max_cost}
        if data is not None:
            cost["actual"] = _fields_in(data)
        return {"cost": cost}

    def _executed(self, document, operation_name, variables, context, operation_type) -> ExecutionResult:
        """The result of a valid operation: compiled where it can be, else graphql-core's executor."""
        if self.compiled is not None and operation_type is OperationType.QUERY:
            result = self.compiled.run(document, operation_name, variables, context)
            if result is not None:
                return result
        try:
            result = execute(self.schema._schema, document, context_value=context, variable_values=variables,
                             operation_name=operation_name, executor_class=self.schema.execution_context_class,
                             is_awaitable=optimized_is_awaitable, is_async_iterable=_never)
        except Exception as error:  # noqa: BLE001 - as strawberry: an error in the response, logged, masked
            result = ExecutionResult(None, [error if isinstance(error, GraphQLError)
                                            else GraphQLError(str(error), original_error=error)])
        if result.errors:
            self.schema.process_errors(result.errors)
        return result

    def _parsed(self, query: str) -> DocumentNode:
        """The document for ``query``, parsed once (GraphQLError for a syntax error or too many tokens)."""
        document = self._documents.get(query)
        if document is None:
            document = parse(query, max_tokens=self.limits.max_tokens)
            if len(self._documents) >= CACHE_SIZE:
                self._documents.clear()
            self._documents[query] = document
        return document

    def _validated(self, document: DocumentNode) -> list[GraphQLError]:
        """The validation errors of ``document``, found once (parsing the same text gives the same document)."""
        return remembered(self._verdicts, id(document), document,
                          lambda: validate_document(self.schema._schema, document, self.rules))

    def _cost(self, document: DocumentNode, operation_name: str | None, variables: dict) -> int:
        """operation_cost, once per (document, operation, integer variables)."""
        key = (id(document), operation_name, tuple(sorted((k, v) for k, v in variables.items() if isinstance(v, int))))
        return remembered(self._costs, key, document, lambda: operation_cost(self.schema._schema, document,
                                                                              operation_name, variables, self.limits))


def _fields_in(value) -> int:
    """How many object members ``value`` holds, at every depth."""
    if isinstance(value, dict):
        return len(value) + sum(_fields_in(item) for item in value.values())
    if isinstance(value, list):
        return sum(_fields_in(item) for item in value)
    return 0
