"""Query parameters and path ids are exact too: numbers in plain ASCII digits, booleans `true`/`false`, ids as UUIDs.
Swept over every GET operation and every query parameter that openapi.yaml documents: hostile values are a 4xx,
never a 500."""

import re
import uuid
from urllib.parse import quote

import pytest

from tests.test_hostile_bodies import row_counts
from tests.test_hostile_cursors import OPENAPI

A_UUID = str(uuid.uuid4())
HOSTILE_VALUES = ["99999999999999999999999", "-99999999999999999999999", "2026-13-45", "99999-01-01T00:00:00",
                  "A" * 5000, "%ff", "'; DROP TABLE unit; --", "\u0665", "yes"]
# Spellings another parser might take for a value of the documented type: each must be a 400 for that type.
OTHER_SPELLINGS = {
    "integer": ["5_0", "\u0665", "+5", " 5", "1e3", "2.0", "0x10", "99999999999999999999"],
    "boolean": ["yes", "1", "True", "on", "t"],
    "uuid": ["{" + A_UUID + "}", "urn:uuid:" + A_UUID, A_UUID.replace("-", "")],
}


def _query_parameters(operation: dict) -> dict[str, str]:
    """name -> "integer", "boolean", "uuid" or "other", for each query parameter of ``operation``."""
    found = {}
    for parameter in operation.get("parameters", []):
        if "$ref" in parameter:
            parameter = OPENAPI["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[-1]]
        if parameter["in"] == "query":
            schema = parameter.get("schema", {})
            kind = "uuid" if schema.get("format") == "uuid" else schema.get("type")
            found[parameter["name"]] = kind if kind in OTHER_SPELLINGS else "other"
    return found


def get_operations(app, ids) -> dict[str, dict[str, str]]:
    """URL (path ids filled in) -> its documented query parameters and their kinds, for every GET route."""
    return {url: _query_parameters(OPENAPI["paths"][template]["get"]) for template, url in get_urls(app, ids).items()}


def get_urls(app, ids) -> dict[str, str]:
    """The contract's path -> a URL of it with real ids, for every GET route the contract documents."""
    path_ids = {"unit_id": ids["B13"], "learner_id": ids["learner"], "enrolment_id": ids["enrolment"],
                "job_id": ids["import_job"], "centre_id": ids["centre_a"], "qualification_id": ids["qualification"],
                "evidence_id": ids["evidence"], "decision_id": ids["decision"], "sample_id": ids["sample"],
                "plan_id": ids["plan"], "standard_id": ids["standard"], "outcome_id": ids["b13_outcome"],
                "criterion_id": ids["b13_criterion"], "sourcedId": ids["B13"], "number": 1, "a": 1, "b": 2,
                "name": "unit.schema.json", "filename": "x",
                "account_id": ids["spare_account"], "client_id": ids["spare_client"], "framework_id": ids["framework"],
                "endpoint_id": ids["webhook"], "credential_id": ids["credential"], "issuer_id": ids["centre_a"],
                "reference_number": ids["apprenticeship_standard"], "version": ids["apprenticeship_version"],
                "mapping_id": ids["ksb_mapping"], "apprenticeship_id": ids["apprenticeship"],
                "activity_id": ids["otj_activity"], "ksb_evidence_id": ids["ksb_evidence"],
                "ksb_decision_id": ids["ksb_decision"]}
    found = {}
    for rule in app.url_map.iter_rules():
        template = re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", rule.rule.replace("int(signed=True):", ""))
        operation = OPENAPI["paths"].get(template, {}).get("get")
        if "GET" in rule.methods and operation is not None and not template.startswith("/docs"):
            found[template] = template.format(**{a: path_ids[a] for a in rule.arguments})
    return found


def test_every_read_that_refuses_a_bad_token_says_so_in_the_contract(app, client, ids):
    """A public read still checks a token it is sent (an expired or forged one is a 401, not ignored): wherever it
    does, the contract lists the 401, so a generated client knows the answer."""
    undocumented = []
    for template, url in get_urls(app, ids).items():
        response = client.get(url, headers={"Authorization": "Bearer not.a.token"})
        if response.status_code == 401 and "401" not in OPENAPI["paths"][template]["get"]["responses"]:
            undocumented.append(template)
    assert undocumented == [], undocumented


def test_every_query_parameter_takes_its_own_spelling_only_and_never_fails(app, client, auth, ids):
    """Numbers, booleans and ids spelt any other way are a 400 naming the parameter; nothing is a 500."""
    admin = auth("admin")
    operations = get_operations(app, ids)
    assert len(operations) > 40 and sum(kind == "integer" for p in operations.values() for kind in p.values()) > 10
    for url, parameters in operations.items():
        for parameter, kind in parameters.items():
            for value in OTHER_SPELLINGS.get(kind, []):
                response = client.get(url, query_string={parameter: value}, headers=admin)
                assert response.status_code == 400, (url, parameter, value, response.status_code)
            for value in HOSTILE_VALUES:
                response = client.get(url, query_string={parameter: value}, headers=admin)
                assert response.status_code < 500, (url, parameter, value, response.get_data(as_text=True)[:300])


@pytest.mark.parametrize("value", ["yes", "1", "True", "on", "t"])
def test_query_booleans_are_true_or_false(client, auth, ids, value):
    before = row_counts()
    response = client.post(f"/v1/imports/learners?centre_id={ids['centre_a']}&dry_run={value}",
                           data=b"uln,given_name,family_name\n9999999999,Bool,Probe\n", content_type="text/csv",
                           headers=auth("admin"))
    assert response.status_code == 400 and "dry_run" in response.get_json()["errors"]
    assert row_counts() == before


@pytest.mark.parametrize("url", ["/v1/evidence?sort=updated_at&updated_since={t}",
                                 "/v1/decisions?sort=updated_at&updated_since={t}",
                                 "/v1/learners?sort=updated_at&updated_since={t}",
                                 "/v1/enrolments?sort=updated_at&updated_since={t}", "/v1/audit?since={t}",
                                 "/v1/audit?until={t}"])
@pytest.mark.parametrize("time", ["0001-01-01T01:00:01+02:00", "9999-12-31T23:00:00-02:00"])
def test_a_time_outside_the_years_utc_can_hold_is_a_400_naming_it(client, auth, url, time):
    """Found by a random contract run: the time converted to UTC overflowed, a 500."""
    response = client.get(url.format(t=quote(time)), headers=auth("admin"))
    assert response.status_code == 400 and response.mimetype == "application/problem+json", response.get_json()
    assert "out of range" in str(response.get_json()["errors"])


def test_graphql_refuses_such_a_time_as_rest_does(client, auth):
    body = client.post("/graphql", json={"query": '{ learners(sort: "updated_at", updatedSince: '
                                                  '"0001-01-01T01:00:01+02:00") { totalCount } }'},
                       headers=auth("admin")).get_json()
    assert body["data"] is None or body["data"]["learners"] is None
    assert body["errors"][0]["extensions"]["status"] == 400, body
