"""Compiled projections: the fast path that makes a nested unit query cost about what GET /v1/units/{id} costs.

graphql-core completes a value field by field (resolver call, type checks, path bookkeeping for each), so the
executor's cost grows with every field of a large unit tree. Most of our objects are plain dicts from stored
documents whose fields have no resolvers. For such a subtree the result is a pure function of the dict and of the
selection, so it is compiled once per (type, selection) into a *plan* and applied with a few dict operations.

The fast path applies only where it is exactly equivalent: objects that are dicts, types without ``is_type_of``,
fields without resolvers or arguments, no interfaces or unions below, and operations without directives (so the
selection does not depend on variables). Anything else, and any value the plan cannot vouch for (a null in a
non-null field, an unexpected type), falls back to graphql-core's own completion, which produces its usual errors.
A stored document parsed once per ETag (catalog.SharedDocument) is immutable, so its projection for a plan is
computed once too. tests/test_graphql_projection.py checks the fast and slow paths give identical results.
"""

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLString,
    Visitor,
    visit,
)
from graphql.language.visitor import BREAK
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

from api.gql.caches import remembered
from api.services.content.catalog import SharedDocument

MAX_PLANS = 2048
MAX_PROJECTIONS = 256
MAX_INT, MIN_INT = 2**31 - 1, -(2**31)
_TYPENAME, _LEAF, _OBJECT, _LIST = 0, 1, 2, 3


class _Unplannable(Exception):
    """This selection cannot be compiled: use graphql-core's completion."""


class _Fallback(Exception):
    """This value does not fit the plan (e.g. a null where the schema says non-null): complete it the slow way."""


class _FindDirective(Visitor):
    found = False

    def enter_directive(self, *_args):
        self.found = True
        return BREAK


def _has_directives(nodes) -> bool:
    finder = _FindDirective()
    for node in nodes:
        visit(node, finder)
        if finder.found:
            return True
    return False


# Leaf types whose serialize() returns a value of this exact Python type unchanged.
_EXACT_TYPES = {GraphQLString.name: str, GraphQLID.name: str, "UUID": str, GraphQLBoolean.name: bool}


def _exact_type(leaf) -> type | None:
    """The Python type that ``leaf`` serializes as itself (None: always call serialize)."""
    return _EXACT_TYPES.get(leaf.name)


def _serializer(leaf):
    """serialize() for one leaf type, raising _Fallback where graphql-core would report an error."""
    serialize = leaf.serialize

    def checked(value):
        if leaf.name == GraphQLInt.name and type(value) is int and MIN_INT <= value <= MAX_INT:
            return value
        try:
            return serialize(value)
        except Exception:  # graphql-core reports it, with its own message, on the slow path
            raise _Fallback from None

    return checked


class ProjectingExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """strawberry's execution context, completing plannable dict subtrees with compiled plans."""

    # Shared by all requests and threads (single dict operations are atomic); emptied when full. Entries keep their
    # AST nodes alive, so an id in a key cannot be reused by another node while the entry exists.
    _plans: dict[tuple, tuple] = {}
    _operations: dict[int, tuple] = {}  # id(operation) -> (operation, may use plans)

    _projections: dict[tuple, tuple] = {}  # (plan, shared document) ids -> (plan, document, projection)

    def complete_object_value(self, return_type, field_details_list, info, path, result, position_context):
        if isinstance(result, dict):
            plan = self.plan_for(return_type, field_details_list)
            if plan is not None:
                try:
                    return self.project(plan, result)
                except _Fallback:
                    pass
        return super().complete_object_value(return_type, field_details_list, info, path, result, position_context)

    @classmethod
    def project(cls, plan: tuple, source: dict) -> dict:
        """``plan`` applied to ``source`` (once per shared document); _Fallback if the plan cannot vouch for it."""
        if type(source) is SharedDocument:
            return cls._shared_projection(plan, source)
        return _project(plan, source)

    @classmethod
    def _shared_projection(cls, plan: tuple, document: SharedDocument) -> dict:
        """The projection of a shared stored document, computed once: both are immutable, so it cannot go stale.
        The entry keeps plan and document alive, so their ids cannot be reused while it exists."""
        key = (id(plan), id(document))
        cached = cls._projections.get(key)
        if cached is not None and cached[0] is plan and cached[1] is document:
            return cached[2]
        projection = _project(plan, document)
        if len(cls._projections) >= MAX_PROJECTIONS:
            cls._projections.clear()
        cls._projections[key] = (plan, document, projection)
        return projection

    def operation_allows_plans(self) -> bool:
        """Whether plans may be used in this operation: not if it has directives anywhere (a plan cannot follow
        @skip/@include, whose outcome depends on the variables)."""
        fragments = self.fragments.values()  # (node, variable signatures) in graphql-core 3.3
        return remembered(self._operations, id(self.operation), self.operation, lambda: not _has_directives(
            [self.operation, *(f[0] if isinstance(f, tuple) else f for f in fragments)]), MAX_PLANS)

    def plan_for(self, return_type: GraphQLObjectType, field_details_list) -> tuple | None:
        """The compiled plan for this selection of ``return_type`` (cached per type and AST nodes), or None where the
        fast path does not apply."""
        if not self.operation_allows_plans():
            return None
        nodes = tuple(fd.node for fd in field_details_list)
        key = (return_type.name, tuple(map(id, nodes)))
        cached = self._plans.get(key)
        if cached is not None and cached[0] == nodes and cached[1] is return_type:
            return cached[2]
        try:
            plan = self._compile(return_type, field_details_list)
        except _Unplannable:
            plan = None
        if len(self._plans) >= MAX_PLANS:
            self._plans.clear()
        self._plans[key] = (nodes, return_type, plan)
        return plan

    def _compile(self, object_type: GraphQLObjectType, field_details_list) -> tuple:
        if object_type.is_type_of is not None:
            raise _Unplannable
        grouped, defer_usages, _forbidden = self.collect_subfields(object_type, field_details_list)
        if defer_usages:
            raise _Unplannable
        plan = []
        for response_name, group in grouped.items():
            field_name = group[0].node.name.value
            if field_name == "__typename":
                plan.append((response_name, None, _TYPENAME, True, object_type.name, None))
                continue
            definition = object_type.fields[field_name]
            if definition.args or not getattr(definition.resolve, "_is_default", False):
                raise _Unplannable
            python_name = definition.extensions[GraphQLCoreConverter.DEFINITION_BACKREF].python_name
            plan.append((response_name, python_name, *self._compile_type(definition.type, group)))
        return tuple(plan)

    def _compile_type(self, type_, group) -> tuple:
        """(kind, nullable, how, exact) for a field type. ``how`` serializes a leaf or is the sub-plan of an object;
        ``exact`` is the Python type a leaf passes through unchanged. A list's ``how`` is its item's tuple."""
        nullable = not isinstance(type_, GraphQLNonNull)
        inner = type_.of_type if not nullable else type_
        if isinstance(inner, GraphQLList):
            item = self._compile_type(inner.of_type, group)
            if item[0] == _LIST:
                raise _Unplannable
            return _LIST, nullable, item, None
        if isinstance(inner, GraphQLScalarType | GraphQLEnumType):
            return _LEAF, nullable, _serializer(inner), _exact_type(inner)
        if isinstance(inner, GraphQLObjectType):
            return _OBJECT, nullable, self._compile(inner, group), None
        raise _Unplannable  # interfaces and unions resolve their type at run time


def _complete(kind, how, exact, value):
    """One non-null value: a leaf serialized, an object projected."""
    if type(value) is exact:
        return value
    if kind == _LEAF:
        return how(value)
    if kind == _OBJECT and isinstance(value, dict):
        return _project(how, value)
    raise _Fallback


def _project(plan: tuple, source: dict) -> dict:
    """Apply a compiled plan to one dict: the same result graphql-core would build, or _Fallback."""
    out = {}
    get = source.get
    for response_name, python_name, kind, nullable, how, exact in plan:
        if kind == _TYPENAME:
            out[response_name] = how
            continue
        value = get(python_name)
        if type(value) is exact:
            out[response_name] = value
        elif value is None:
            if not nullable:
                raise _Fallback
            out[response_name] = None
        elif kind == _LIST:
            if type(value) is not list:
                raise _Fallback
            item_kind, item_nullable, item_how, item_exact = how
            if item_kind == _OBJECT and not item_nullable:
                out[response_name] = [_project(item_how, item) if type(item) is dict else _complete(
                    item_kind, item_how, item_exact, item) for item in value]
            else:
                items = []
                for item in value:
                    if item is None:
                        if not item_nullable:
                            raise _Fallback
                        items.append(None)
                    else:
                        items.append(_complete(item_kind, item_how, item_exact, item))
                out[response_name] = items
        else:
            out[response_name] = _complete(kind, how, exact, value)
    return out
