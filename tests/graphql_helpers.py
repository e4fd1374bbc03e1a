"""Helpers for GraphQL tests: run an operation through /graphql, and compare GraphQL results with REST bodies."""

import re


def gql(client, query, variables=None, headers=None, *, expect_errors=False) -> dict:
    """POST an operation; return the response body (asserting HTTP 200 and, unless expected, no errors)."""
    response = client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers or {})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    if not expect_errors:
        assert "errors" not in body, body["errors"]
    return body


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def assert_same_values(rest, graph, path="$"):
    """Every value GraphQL returned equals the same-named (snake_case) value in the REST body, recursively (an
    enum's name is REST's value upper-cased). An optional member REST leaves out (a block without a heading, say)
    is null in GraphQL."""
    if isinstance(graph, dict):
        assert isinstance(rest, dict), (path, rest)
        for key, value in graph.items():
            rest_key = snake(key)
            if rest_key not in rest:
                assert value is None, f"{path}.{rest_key} is not in the REST body"
                continue
            assert_same_values(rest[rest_key], value, f"{path}.{rest_key}")
    elif isinstance(graph, list):
        assert isinstance(rest, list) and len(rest) == len(graph), (path, rest, graph)
        for index, (r, g) in enumerate(zip(rest, graph, strict=True)):
            assert_same_values(r, g, f"{path}[{index}]")
    elif _enum_of(rest, graph):  # an enum: REST's value, as GraphQL names it ("not_yet_met" is NOT_YET_MET)
        return
    else:
        assert rest == graph, (path, rest, graph)


def _enum_of(rest, graph) -> bool:
    return isinstance(rest, str) and isinstance(graph, str) and re.fullmatch("[A-Z][A-Z_]*", graph) is not None \
        and graph == rest.upper()
