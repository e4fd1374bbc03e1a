"""The compiled-projection fast path (api.gql.projection) gives exactly what graphql-core's own completion gives:
the same data and the same errors, for generated queries over content and for documents that break the schema."""

import pytest
from graphql import StringValueNode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import from_schema
from strawberry.schema.config import StrawberryConfig
from strawberry.types.graphql import OperationType

from api.gql.context import Context
from api.gql.operations import OperationRunner
from api.gql.projection import ProjectingExecutionContext
from api.gql.records import resolve_attribute
from api.gql.scalars import SCALAR_OVERRIDES
from api.gql.schema import Mutation, QualtrackSchema, Query, build_schema, schema_sdl
from api.services.common.access import Principal

FAST = OperationRunner(build_schema())
SLOW = OperationRunner(QualtrackSchema(query=Query, mutation=Mutation,  # all but the fast path
                                       config=StrawberryConfig(default_resolver=resolve_attribute),
                                       scalar_overrides=SCALAR_OVERRIDES))  # how dates are written is not the path
ADMIN = Principal(kind="account", roles=frozenset({"admin"}))
CONTENT_FIELDS = ["unit", "unitVersion", "units", "learningOutcome", "criterion", "standard", "standards"]


def run(runner, query, variables=None):
    result = runner.run(query, variables, None, Context(principal=ADMIN), {OperationType.QUERY})
    return result.data, [(e.message, e.path) for e in result.errors or ()]


def test_the_fast_path_is_in_use():
    assert FAST.schema.execution_context_class is ProjectingExecutionContext
    assert SLOW.schema.execution_context_class is not ProjectingExecutionContext


@pytest.fixture(scope="module")
def content_uuids(database):
    from api.models import AssessmentCriterion, LearningOutcome, Standard, Unit

    ids = [str(u.id) for u in Unit.select()] + [str(s.id) for s in Standard.select()]
    ids += [str(o.id) for o in LearningOutcome.select().limit(5)] + [str(c.id) for c in AssessmentCriterion.select()
                                                                      .limit(5)]
    return ids


def test_generated_content_queries_agree(app, content_uuids):
    uuids = st.sampled_from(content_uuids).map(lambda value: StringValueNode(value=value))
    strategy = from_schema(schema_sdl(), fields=CONTENT_FIELDS, custom_scalars={"UUID": uuids})

    @settings(max_examples=80, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def agree(query):
        assert run(FAST, query) == run(SLOW, query)

    with app.test_request_context():
        agree()


@pytest.mark.parametrize("query", [
    "query($id: UUID!) { unit(id: $id) { a: code b: code __typename owner { ...O } learningOutcomes { ... on "
    "LearningOutcome { number criteria { t: text __typename } } } } } fragment O on AwardingBody { slug name }",
    "query($id: UUID!, $yes: Boolean!) { unit(id: $id) { code title @include(if: $yes) learningOutcomes "
    "{ number @skip(if: $yes) title } } }",
])
def test_aliases_fragments_and_directives_agree(app, unit_ids, query):
    with app.test_request_context():
        fast = run(FAST, query, {"id": unit_ids["CS 34"], "yes": True})
        assert fast == run(SLOW, query, {"id": unit_ids["CS 34"], "yes": True}) and fast[1] == []


def test_a_document_that_breaks_the_schema_fails_the_same_way(app, monkeypatch, unit_ids):
    """A null where the schema says non-null, and a string where it says Int: the fast path falls back, so the
    errors (message and path) are graphql-core's own."""
    from api.gql import content

    broken = {"id": unit_ids["B13"], "code": None, "title": "t", "version": "two", "learning_outcomes": [
        {"number": "1", "title": None, "criteria": []}]}
    monkeypatch.setattr(content.catalog, "parsed", lambda _document: broken)
    query = "query($id: UUID!) { unit(id: $id) { title version learningOutcomes { number title } } }"
    with app.test_request_context():
        fast, slow = run(FAST, query, {"id": unit_ids["B13"]}), run(SLOW, query, {"id": unit_ids["B13"]})
    assert fast == slow
    assert fast[0] == {"unit": None} and len(fast[1]) == 1


TREE = "{ code title learningOutcomes { number criteria { number text } } }"


@pytest.mark.parametrize("query, variables, compiled", [
    ("query($id: UUID!) { unit(id: $id) " + TREE + " }", {"id": "CS 34"}, True),
    ("query($id: UUID!) { a: unit(id: $id) { code } b: unit(id: $id, status: DRAFT) { code } }", {"id": "CS 34"},
     True),
    ("query($id: UUID!, $n: Int!) { unitVersion(unitId: $id, number: $n) { code version } }", {"id": "B13", "n": 1},
     True),
    ("query($id: UUID!) { unit(id: $id) { code } }", {"id": "01a00000-0000-7000-8000-000000000000"}, True),  # null
    ("query($id: UUID!) { unit(id: $id) { code } }", {"id": "not a uuid"}, False),  # graphql-core's error
    ("query($id: UUID!) { unit(id: $id) { code } }", {}, False),
    ("query($id: UUID!, $n: Int!) { unitVersion(unitId: $id, number: $n) { code } }", {"id": "B13", "n": 2**40},
     False),
    ("query($id: UUID!) { unit(id: $id) { code } __typename }", {"id": "CS 34"}, False),
    ("query($id: UUID!) { unit(id: $id) { code } units(first: 1) { totalCount } }", {"id": "CS 34"}, False),
    ("query($id: UUID!, $yes: Boolean!) { unit(id: $id) { code @include(if: $yes) } }", {"id": "CS 34", "yes": 1},
     False),
])
def test_document_queries_run_compiled_and_agree(app, unit_ids, query, variables, compiled):
    """Queries of stored documents alone skip graphql-core's executor (api.gql.compiled) and give what the ordinary
    way gives; anything else, errors included, runs the ordinary way."""
    variables = {k: unit_ids.get(v, v) if isinstance(v, str) else v for k, v in variables.items()}
    with app.test_request_context():
        fast, slow = run(FAST, query, variables), run(SLOW, query, variables)
        ran_compiled = FAST.compiled.run(FAST._parsed(query), None, variables, Context(principal=ADMIN))
    assert fast == slow
    assert (ran_compiled is not None) is compiled
    if compiled:
        assert (ran_compiled.data, ran_compiled.errors) == (fast[0], None)


def test_a_compiled_query_sees_what_its_caller_may_see(app, unit_ids):
    """The readers take the caller: a draft is null for anonymous callers, as in the ordinary way."""
    from api.services.common.access import ANONYMOUS

    query = "query($id: UUID!) { unit(id: $id, status: DRAFT) { code } }"
    with app.test_request_context():
        for principal in (ADMIN, ANONYMOUS):
            context = Context(principal=principal)
            fast = FAST.run(query, {"id": unit_ids["CS 39"]}, None, context, {OperationType.QUERY})
            slow = SLOW.run(query, {"id": unit_ids["CS 39"]}, None, Context(principal=principal),
                            {OperationType.QUERY})
            assert (fast.data, fast.errors) == (slow.data, slow.errors)
            assert (fast.data["unit"] is None) == (principal is ANONYMOUS)
