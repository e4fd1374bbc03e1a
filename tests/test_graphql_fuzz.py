"""Fuzzing /graphql with hypothesis-graphql: generated queries and mutations, valid and invalid, from anonymous
callers, a centre's assessor and an admin. Whatever arrives, the answer is never a server error."""

import pytest
from graphql import EnumValueNode, StringValueNode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema

from api.gql.schema import schema_sdl


def _string(strategy):
    return strategy.map(lambda value: StringValueNode(value=value))


@pytest.fixture(scope="module")
def known_uuids(database, identities):
    """Real ids of every kind, so generated operations reach real records, plus some that exist nowhere."""
    from api.models import AssessmentCriterion, Centre, Standard, Unit

    ids = [str(u.id) for u in Unit.select()] + [str(c.id) for c in AssessmentCriterion.select().limit(10)]
    ids += [str(s.id) for s in Standard.select()] + [str(c.id) for c in Centre.select()]
    ids += [str(a.id) for a in identities.accounts.values()]
    return ids + ["00000000-0000-4000-8000-000000000000"]


@pytest.mark.parametrize("caller", [None, "assessor_a", "admin"])
@pytest.mark.parametrize("mode", [Mode.POSITIVE, Mode.NEGATIVE])
def test_generated_operations_never_fail_the_server(client, auth, ids, known_uuids, caller, mode):
    uuids = known_uuids + [ids[name] for name in ("learner", "enrolment", "evidence", "decision", "sample")]
    scalars = {"UUID": _string(st.sampled_from(uuids)), "Date": _string(st.dates().map(str)),
               "DateTime": _string(st.datetimes().map(lambda d: d.isoformat())),
               "JSON": st.just(EnumValueNode(value="null"))}
    strategy = from_schema(schema_sdl(), custom_scalars=scalars, mode=mode)  # queries and mutations, about half each
    headers = auth(caller)

    @settings(max_examples=100, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def never_a_server_error(query):
        response = client.post("/graphql", json={"query": query}, headers=headers)
        assert response.status_code < 500, response.get_data(as_text=True)
        body = response.get_json()
        if response.status_code == 200:
            codes = [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
            assert "INTERNAL_SERVER_ERROR" not in codes, (query, body["errors"])
        else:
            assert response.mimetype == "application/problem+json"

    never_a_server_error()


@pytest.mark.parametrize("body", [b"", b"null", b"[]", b'{"query": null}', b'{"query": 1}', b"\xff\xfe",
                                  b'{"query": "{ units { totalCount } }", "variables": "x"}',
                                  b'{"query": "query($n: Int) { units(first: $n) { totalCount } }", '
                                  b'"variables": {"n": "many"}}'])
def test_garbage_bodies_are_client_errors(client, body):
    response = client.post("/graphql", data=body, content_type="application/json")
    assert response.status_code in (200, 400), response.get_data(as_text=True)
    if response.status_code == 400:
        assert response.mimetype == "application/problem+json"
    else:
        assert response.get_json()["errors"]
