"""Protection for /graphql: depth, alias, token and cost limits, checked before any resolver runs, and the page-size
cap on every connection. The limits come from Settings (QUALTRACK_GRAPHQL_*).

Cost model: every selected field costs 1, multiplied by the sizes of the lists it sits in. A connection (a field with
`first`) multiplies by `first` (its value, from the variables if need be; the default page size when absent); any
other list field by LIST_ESTIMATE, except a connection's own `edges` and `nodes`. The cost is computed after
validation, with the request's variables, and cached per document and page sizes (api.gql.operations, which also
applies the depth and alias limits as validation rules).
"""

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
)

from api.errors import ApiError, InvalidParameter
from api.gql.context import GraphQLLimits

LIST_ESTIMATE = 10
# The largest cost reported: the largest integer every JSON reader holds exactly (JavaScript's Number.MAX_SAFE_INTEGER).
# Nested pages of up to 2**31 - 1 items each estimate far more, which no JSON encoder need accept.
COST_CEILING = 2**53 - 1


def checked_page_size(first: int | None, limits: GraphQLLimits) -> int:
    """`first` as a page size: the default when absent; InvalidParameter outside 1..max_page_size."""
    if first is None:
        return limits.default_page_size
    if not 1 <= first <= limits.max_page_size:
        raise InvalidParameter(f"first must be between 1 and {limits.max_page_size}",
                               errors={"first": [f"between 1 and {limits.max_page_size}"]})
    return first


def operation_cost(schema, document, operation_name: str | None, variables: dict, limits: GraphQLLimits) -> int:
    """The estimated cost of the operation that will run (0 if it cannot be told: execution reports that), at most
    COST_CEILING."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [o for o in operations if operation_name is None or (o.name and o.name.value == operation_name)]
    if len(chosen) != 1:
        return 0
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operation = chosen[0]
    return min(COST_CEILING, _selection_cost(operation.selection_set, schema.get_root_type(operation.operation),
                                             schema, fragments, limits, variables, set()))


def too_costly(cost: int, limits: GraphQLLimits) -> GraphQLError:
    return GraphQLError(f"the query is too costly: estimated cost {cost} exceeds the limit of {limits.max_cost}; ask "
                        "for fewer items per page (first) or fewer nested lists", extensions={"code": "TOO_COSTLY"})


def _page_size_of(field: FieldNode, variables: dict) -> int | None:
    for argument in field.arguments or ():
        if argument.name.value == "first":
            if isinstance(argument.value, IntValueNode):
                return int(argument.value.value)
            if isinstance(argument.value, VariableNode):
                value = variables.get(argument.value.name.value)
                return value if isinstance(value, int) and not isinstance(value, bool) else None
    return None


def _selection_cost(selection_set, parent_type, schema, fragments, limits, variables, visiting: set) -> int:
    if selection_set is None or parent_type is None:
        return 0
    fields = getattr(parent_type, "fields", {})  # a union has none of its own: its fragments' types do
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            definition = fields.get(selection.name.value)
            if definition is None:
                continue  # unknown fields are reported by graphql-core's own rules
            named = get_named_type(definition.type)
            page = _page_size_of(selection, variables)
            has_page_arg = "first" in definition.args
            if has_page_arg:
                multiplier = page if page is not None else limits.default_page_size
            elif is_list_type(get_nullable_type(definition.type)) and selection.name.value not in ("edges", "nodes"):
                multiplier = LIST_ESTIMATE
            else:
                multiplier = 1
            total += 1 + multiplier * _selection_cost(selection.selection_set, named, schema, fragments, limits,
                                                      variables, visiting)
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            target = schema.get_type(condition.name.value) if condition else parent_type
            total += _selection_cost(selection.selection_set, target, schema, fragments, limits, variables, visiting)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None or name in visiting:
                continue  # unknown or cyclic fragments are reported by graphql-core's own rules
            target = schema.get_type(fragment.type_condition.name.value)
            total += _selection_cost(fragment.selection_set, target, schema, fragments, limits, variables,
                                     visiting | {name})
    return total


def is_expected(error: GraphQLError) -> bool:
    """Errors whose message is meant for the caller: GraphQL's own (syntax, validation, limits) and ApiErrors."""
    original = error.original_error
    return original is None or isinstance(original, ApiError | GraphQLError)
