"""Compiled queries: an operation that reads stored documents by id runs without graphql-core's executor.

The commonest front-end query asks for one unit (or unit version) and a tree below it. Below the root, compiled
projections (api.gql.projection) already complete the tree with a few dict operations; what was left was
graphql-core's per-operation machinery (building an executor, collecting and executing the root fields) and
strawberry's resolver wrapper, which by then were the larger part of such a query's cost.
A query qualifies when:

- it is a query with no directives and no fragment variables, and every root selection is a field, once, of
  DOCUMENT_ROOTS (each reads one stored document through the same function as its strawberry resolver);
- the selection below each root field compiles to a projection plan (api.gql.projection: the same conditions).

Such an operation is compiled once per (document, operation name); each request then coerces its variables and
arguments with graphql-core's own functions, calls the readers and applies the plans. Anything unusual — variable
or argument errors, a reader that raises, a value the plan cannot vouch for — runs the operation the ordinary way
instead, which gives graphql-core's own result and errors. tests/test_graphql_projection.py checks that both ways
give the same results for generated queries.
"""

from collections.abc import Callable

from graphql import ExecutionResult, FieldNode, FragmentDefinitionNode, GraphQLNonNull, GraphQLObjectType
from graphql.execution.collect_fields import collect_fields
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.language import OperationType as NodeOperationType
from strawberry.schema.schema_converter import GraphQLCoreConverter

from api.gql.caches import remembered
from api.gql.projection import ProjectingExecutionContext


class _RootField:
    """One root selection of a compiled operation."""

    __slots__ = ("response_name", "definition", "node", "read", "python_names", "plan", "nullable")

    def __init__(self, response_name, definition, node, read, plan):
        self.response_name, self.definition, self.node, self.read, self.plan = (response_name, definition, node,
                                                                                 read, plan)
        self.python_names = {name: argument.extensions[GraphQLCoreConverter.DEFINITION_BACKREF].python_name
                             for name, argument in definition.args.items()}
        self.nullable = not isinstance(definition.type, GraphQLNonNull)


class CompiledQueries:
    """Compiled forms of the operations that qualify, for one schema whose execution context projects.

    ``readers`` maps a root field's GraphQL name to ``read(principal, **arguments)``: the stored document (a dict)
    or None, given the arguments under their Python names as graphql-core coerced them."""

    def __init__(self, schema, readers: dict[str, Callable]):
        self.schema, self.readers = schema, readers
        self._compiled: dict = {}  # (id(document), operation name) -> (document, (operation, roots))

    def run(self, document, operation_name: str | None, variables: dict | None, context) -> ExecutionResult | None:
        """The operation's result, or None where it must run the ordinary way."""
        operation, roots = self._compiled_form(document, operation_name, variables)
        if not roots:
            return None
        coerced = get_variable_values(self.schema, operation.variable_definitions or (), variables or {},
                                      max_errors=50)
        if isinstance(coerced, list):
            return None  # graphql-core reports the errors
        data = {}
        for root in roots:
            try:
                arguments = get_argument_values(root.definition, root.node, coerced)
                value = root.read(context.principal, **{root.python_names[k]: v for k, v in arguments.items()})
                if value is None and not root.nullable:
                    return None
                data[root.response_name] = None if value is None else ProjectingExecutionContext.project(root.plan,
                                                                                                         value)
            except Exception:  # noqa: BLE001 - a value the plan refused, or an error: the ordinary way reports it
                return None
        return ExecutionResult(data, None)

    def _compiled_form(self, document, operation_name, variables) -> tuple:
        """(operation node, root fields) of a qualifying operation; (None, ()) for one that does not."""
        try:
            return remembered(self._compiled, (id(document), operation_name), document,
                              lambda: self._compile(document, operation_name, variables))
        except _NotNow:
            return None, ()

    def _compile(self, document, operation_name, variables) -> tuple:
        try:
            return self._qualifying_form(document, operation_name, variables)
        except _Unqualified:
            return None, ()

    def _qualifying_form(self, document, operation_name, variables) -> tuple:
        if any(isinstance(d, FragmentDefinitionNode) and d.variable_definitions for d in document.definitions):
            raise _Unqualified
        executor = ProjectingExecutionContext.build(self.schema, document, raw_variable_values=variables,
                                                    operation_name=operation_name)
        if isinstance(executor, list):
            raise _NotNow  # these variables do not coerce: compile on a later request
        if executor.operation.operation != NodeOperationType.QUERY or not executor.operation_allows_plans():
            raise _Unqualified
        if any(not isinstance(s, FieldNode) for s in executor.operation.selection_set.selections):
            raise _Unqualified
        root_type = self.schema.query_type
        collected = collect_fields(self.schema, executor.fragments, executor.variable_values, root_type,
                                   executor.operation)
        if collected.new_defer_usages:
            raise _Unqualified
        roots = []
        for response_name, field_details_list in collected.grouped_field_set.items():
            node = field_details_list[0].node
            read = self.readers.get(node.name.value)
            if read is None or len(field_details_list) != 1:
                raise _Unqualified
            definition = root_type.fields[node.name.value]
            object_type = definition.type.of_type if isinstance(definition.type, GraphQLNonNull) else definition.type
            if not isinstance(object_type, GraphQLObjectType):
                raise _Unqualified
            plan = executor.plan_for(object_type, field_details_list)
            if plan is None:
                raise _Unqualified
            roots.append(_RootField(response_name, definition, node, read, plan))
        return executor.operation, tuple(roots)


class _Unqualified(Exception):
    """This operation runs the ordinary way."""


class _NotNow(Exception):
    """This request's variables do not coerce: it runs the ordinary way, and the operation is compiled later."""
