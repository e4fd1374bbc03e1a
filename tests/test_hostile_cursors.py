"""A cursor (or change-feed `since`) that this API did not issue, for this list, is a 400 problem+json on every list
of REST and GraphQL: forged, edited, truncated, too large for the database, or made for another list. Never a 500,
never a silently wrong page. The lists are found from the URL map, openapi.yaml and the GraphQL schema, so a new
list cannot escape."""

import base64
import json
import re

import graphql
import pytest
import yaml

from api.config import PROJECT_ROOT
from tests.graphql_helpers import gql

OPENAPI = yaml.safe_load((PROJECT_ROOT / "openapi.yaml").read_text(encoding="utf-8"))
SDL = graphql.build_schema((PROJECT_ROOT / "schema" / "qualtrack.graphql").read_text(encoding="utf-8"))
CURSOR_PARAMETERS = ("cursor", "since")


def unsigned(key) -> str:
    """A cursor as a client might forge one: base64 of a JSON sort key (what this API issued before cursors were
    sealed)."""
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


FORGED = {
    "integer beyond 64 bits": unsigned([10**30]),
    "two huge integers": unsigned([10**30, 10**30]),
    "three huge integers": unsigned([10**30] * 3),
    "negative": unsigned([-1]),
    "text where a date or id belongs": unsigned(["x", "y"]),
    "three texts": unsigned(["x", "y", "z"]),
    "timestamp and a bad id": unsigned(["2026-01-01T00:00:00", "not-a-uuid"]),
    "a float": unsigned([1.5]),
    "a boolean": unsigned([True]),
    "null": unsigned([None]),
    "an object": unsigned({"seq": 1}),
    "not base64": "%%%not-base64",
    "a dot": ".",
    "a control character": "abc%00def",
    "very long": "A" * 5000,
}


def bad_cursor(response, parameter: str) -> None:
    assert response.status_code == 400, (response.status_code, response.get_data(as_text=True)[:300])
    assert response.mimetype == "application/problem+json"
    assert parameter in response.get_json()["errors"]


# -- REST -----------------------------------------------------------------------------------------------------------

def _parameter_names(operation: dict) -> set[str]:
    names = set()
    for parameter in operation.get("parameters", []):
        if "$ref" in parameter:
            parameter = OPENAPI["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[-1]]
        names.add(parameter["name"])
    return names


def rest_lists(app, ids) -> dict[str, tuple[str, str]]:
    """URL (path parameters filled with real ids) -> its cursor parameter, for every GET route whose contract
    takes a cursor or since."""
    path_ids = {"unit_id": ids["B13"], "learner_id": ids["learner"], "enrolment_id": ids["enrolment"],
                "job_id": ids["import_job"], "centre_id": ids["centre_a"], "qualification_id": ids["qualification"],
                "evidence_id": ids["evidence"], "decision_id": ids["decision"], "sample_id": ids["sample"],
                "plan_id": ids["plan"], "standard_id": ids["standard"], "outcome_id": ids["b13_outcome"],
                "criterion_id": ids["b13_criterion"], "endpoint_id": ids["webhook"],
                "apprenticeship_id": ids["apprenticeship"]}
    found = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        template = re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", rule.rule.replace("int(signed=True):", ""))
        operation = OPENAPI["paths"].get(template, {}).get("get", {})
        parameters = [p for p in CURSOR_PARAMETERS if p in _parameter_names(operation)]
        if parameters:
            found[template.format(**{a: path_ids[a] for a in rule.arguments})] = parameters[0]
    return found


def test_every_rest_list_refuses_cursors_it_did_not_issue(app, client, auth, ids):
    lists = rest_lists(app, ids)
    assert {"/v1/units", "/v1/learners", "/v1/enrolments", "/v1/audit", "/v1/changes", "/v1/centres",
            "/v1/standards", "/v1/qualifications", f"/v1/imports/learners/{ids['import_job']}"} <= set(lists)
    admin = auth("admin")
    for url, parameter in lists.items():
        assert client.get(url, headers=admin).status_code == 200, url
        for name, cursor in FORGED.items():
            response = client.get(f"{url}?{parameter}={cursor}", headers=admin)
            assert response.status_code == 400, (url, name, response.get_data(as_text=True)[:300])
            bad_cursor(response, parameter)


def _next_cursor(client, headers, url: str) -> str:
    body = client.get(f"{url}{'&' if '?' in url else '?'}limit=1", headers=headers).get_json()
    assert body["next_cursor"], body
    return body["next_cursor"]


def _flip(cursor: str, position: int) -> str:
    """The cursor with one byte of what it decodes to changed."""
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[position] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")


def test_a_real_cursor_edited_truncated_or_unsigned_is_refused(client, auth, ids):
    """Only the cursors a page gives are taken; with them, every item is reached once, in order."""
    admin = auth("admin")
    real = _next_cursor(client, admin, "/v1/units")
    assert client.get(f"/v1/units?limit=1&cursor={real}", headers=admin).status_code == 200
    first_unit = client.get("/v1/units?limit=1", headers=admin).get_json()["items"][0]
    for cursor in (_flip(real, 0), _flip(real, -1), real[:-1], real + "A", real[:8],
                   unsigned([first_unit["code"], first_unit["id"]])):
        bad_cursor(client.get(f"/v1/units?cursor={cursor}", headers=admin), "cursor")
    total = client.get("/v1/audit", headers=admin).get_json()["total"]
    seen, url = [], "/v1/audit?limit=1"
    for _ in range(total + 1):
        body = client.get(url, headers=admin).get_json()
        seen += [event["id"] for event in body["items"]]
        if not body["next_cursor"]:
            break
        url = f"/v1/audit?limit=1&cursor={body['next_cursor']}"
    assert len(seen) == len(set(seen)) == total > 1


def test_a_learner_list_cursor_carries_no_personal_data(client, auth, ids):
    """The learner list sorts by name, and its cursors point after a learner: neither the cursor nor what it
    decodes to holds that learner's name or id, on REST or GraphQL."""
    admin = auth("admin")
    page = client.get("/v1/learners?limit=1", headers=admin).get_json()
    learner = page["items"][0]
    gql_page = gql(client, "{ learners(first: 1) { edges { cursor } pageInfo { endCursor } } }", None, admin)
    cursors = [page["next_cursor"], gql_page["data"]["learners"]["pageInfo"]["endCursor"]]
    assert cursors[0] and cursors[0] == cursors[1]
    for cursor in cursors:
        decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        for value in (learner["family_name"], learner["given_name"], learner["id"], learner["id"].replace("-", "")):
            assert value not in cursor
            assert value.encode() not in decoded
    second = client.get(f"/v1/learners?limit=1&cursor={cursors[0]}", headers=admin).get_json()
    assert second["items"] and second["items"][0]["id"] != learner["id"]


def test_a_cursor_of_one_list_is_refused_by_another(client, auth, ids):
    """Units and centres both sort by (code, id): a units cursor has the right shape for centres, and is still not
    one of theirs. A change-feed cursor is not a list cursor either."""
    admin = auth("admin")
    units_cursor = _next_cursor(client, admin, "/v1/units")
    bad_cursor(client.get(f"/v1/centres?cursor={units_cursor}", headers=admin), "cursor")
    bad_cursor(client.get(f"/v1/changes?since={units_cursor}", headers=admin), "since")
    feed_cursor = client.get("/v1/changes?limit=1", headers=admin).get_json()["next_cursor"]
    assert client.get(f"/v1/changes?since={feed_cursor}", headers=admin).status_code == 200
    bad_cursor(client.get(f"/v1/units?cursor={feed_cursor}", headers=admin), "cursor")


# -- GraphQL --------------------------------------------------------------------------------------------------------

def graphql_lists(ids) -> dict[str, str]:
    """Name -> an operation reading the connection with ``after: $after``, for every field that takes ``after``
    (top-level, or on an object reached by its id)."""
    by_id = {"Learner": ("learner", ids["learner"]), "WebhookEndpoint": ("webhookEndpoint", ids["webhook"]),
             "Apprenticeship": ("apprenticeship", ids["apprenticeship"])}
    operations = {}
    for type_name, type_ in SDL.type_map.items():
        if type_name.startswith("__") or not isinstance(type_, graphql.GraphQLObjectType):
            continue
        for field_name, field in type_.fields.items():
            if "after" not in field.args:
                continue
            selection = f"{field_name}(after: $after) {{ totalCount }}"
            if type_name != "Query":
                assert type_name in by_id, f"add a way to reach {type_name}.{field_name} to this test"
                query_field, record = by_id[type_name]
                selection = f'{query_field}(id: "{record}") {{ {selection} }}'
            operations[f"{type_name}.{field_name}"] = f"query($after: String) {{ {selection} }}"
    return operations


def test_every_graphql_connection_refuses_cursors_it_did_not_issue(client, auth, ids):
    operations = graphql_lists(ids)
    assert {"Query.units", "Query.learners", "Query.enrolments", "Query.auditEvents", "Query.centres",
            "Learner.enrolments", "Query.evidenceTypes"} <= set(operations)
    admin = auth("admin")
    for name, operation in operations.items():
        assert "errors" not in gql(client, operation, {"after": None}, admin), name
        for forged_name, cursor in FORGED.items():
            body = gql(client, operation, {"after": cursor}, admin, expect_errors=True)
            errors = body.get("errors")
            assert errors, (name, forged_name, body)
            assert all(e["extensions"]["status"] == 400 and e["extensions"]["code"] != "INTERNAL_SERVER_ERROR"
                       for e in errors), (name, forged_name, errors)
    for forged_name, cursor in FORGED.items():  # the feed's cursor is `since`
        errors = gql(client, "query($s: String) { changes(since: $s) { nextCursor } }", {"s": cursor}, admin,
                     expect_errors=True).get("errors")
        assert errors and all(e["extensions"]["status"] == 400 for e in errors), (forged_name, errors)


@pytest.mark.parametrize("field", ["units", "centres"])
def test_graphql_takes_the_cursors_rest_gives_and_no_others(client, auth, ids, field):
    admin = auth("admin")
    rest_cursor = _next_cursor(client, admin, f"/v1/{field}")
    operation = f"query($after: String) {{ {field}(first: 1, after: $after) {{ totalCount }} }}"
    assert "errors" not in gql(client, operation, {"after": rest_cursor}, admin)
    other = "centres" if field == "units" else "units"
    body = gql(client, operation, {"after": _next_cursor(client, admin, f"/v1/{other}")}, admin, expect_errors=True)
    assert body["errors"][0]["extensions"]["status"] == 400


# A change-feed position (the entry with seq 3) as releases before sealed cursors issued it, signed with the
# development secret the tests run with: clients store such positions, so they stay valid.
SIGNED_FEED_POSITION = "WzNd.BNfNVDdsGfFajsgC65rOsQ"


def test_a_position_stored_from_an_earlier_release_still_works(app, client, auth, ids):
    from api.services.common.pagination import encode_cursor

    admin = auth("admin")
    with app.app_context():
        sealed = encode_cursor([3])
    assert "." not in sealed and sealed != SIGNED_FEED_POSITION
    stored = client.get(f"/v1/changes?since={SIGNED_FEED_POSITION}", headers=admin)
    assert stored.status_code == 200
    assert stored.get_json() == client.get(f"/v1/changes?since={sealed}", headers=admin).get_json()
    edited = SIGNED_FEED_POSITION.replace("WzNd", "WzRd")  # [4], with [3]'s signature
    bad_cursor(client.get(f"/v1/changes?since={edited}", headers=admin), "since")
