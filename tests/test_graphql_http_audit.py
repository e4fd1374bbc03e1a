"""/graphql follows GraphQL over HTTP: the graphql-http package's server audit (every MUST, SHOULD and MAY it checks)
passes against a real server, and clients that ask for plain application/json keep its convention."""

import json
import subprocess

import pytest

from api.config import PROJECT_ROOT
from tests.test_serve import running_server

NODE_DIR = PROJECT_ROOT / "tests" / "node"


def test_the_graphql_over_http_audit_passes_with_nothing_to_note(fresh_url):
    if not (NODE_DIR / "node_modules" / "graphql-http").exists():
        pytest.fail("tests/node is not installed: `make install-test` runs npm ci there")
    with running_server(fresh_url) as base:
        audit = subprocess.run(["node", str(NODE_DIR / "graphql_audit.mjs"), f"{base}/graphql"], capture_output=True,
                               text=True, timeout=120)
    assert audit.returncode == 0, audit.stderr
    results = [json.loads(line) for line in audit.stdout.splitlines()]
    assert len(results) >= 60, audit.stdout
    assert [r for r in results if r["status"] != "ok"] == []


@pytest.mark.parametrize("accept", [None, "*/*", "application/json", "application/json, "
                                    "application/graphql-response+json;q=0.9"])
def test_a_client_asking_for_json_gets_200_with_data_null_for_a_syntax_error(client, accept):
    headers = {"Accept": accept} if accept else {}
    response = client.post("/graphql", json={"query": "{"}, headers=headers)
    assert (response.status_code, response.mimetype) == (200, "application/json")
    body = response.get_json()
    assert body["data"] is None and "Syntax Error" in body["errors"][0]["message"]


def test_a_client_asking_for_graphql_responses_gets_400_without_data_only_when_nothing_ran(client):
    accept = {"Accept": "application/graphql-response+json, application/json;q=0.9"}
    for query, variables in (("{", None), ("{ noSuchField }", None),
                             ("query ($n: Int) { units(first: $n) { totalCount } }", {"n": "many"})):
        refused = client.post("/graphql", json={"query": query, "variables": variables}, headers=accept)
        assert (refused.status_code, refused.mimetype) == (400, "application/graphql-response+json"), query
        assert "data" not in refused.get_json() and refused.get_json()["errors"]
    answered = client.post("/graphql", json={"query": "{ units { totalCount } }"}, headers=accept)
    assert (answered.status_code, answered.mimetype) == (200, "application/graphql-response+json")
    assert answered.get_json()["data"]["units"]["totalCount"] >= 1
    missing = client.post("/graphql", json={"query": '{ unit(id: "00000000-0000-4000-8000-000000000000") { code } }'},
                          headers=accept)  # a field's error: it ran, so 200 with data
    assert missing.status_code == 200 and "data" in missing.get_json()


@pytest.mark.parametrize("extensions", ["x", 1, True, [1]])
def test_extensions_that_are_not_an_object_are_a_400_problem(client, extensions):
    response = client.post("/graphql", json={"query": "{ units { totalCount } }", "extensions": extensions})
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert "extensions must be a JSON object" in response.get_json()["detail"]
