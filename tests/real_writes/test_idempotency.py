"""Idempotency-Key on every POST: every route of the app (found in its URL map, so a new one is covered) replays or
refuses a reused key, refuses a malformed one, and openapi.yaml says so; learner imports replay their job; GraphQL
keeps nothing of an answer with errors and runs anonymous requests. Concurrent retries: test_idempotency_concurrency.py.
"""

import re
import uuid

import pytest
import yaml

from api.config import PROJECT_ROOT
from api.models import IdempotentResponse, Learner, LearnerImport
from tests.test_learner_import import good_rows, rows

PROBLEM = "application/problem+json"
OPENAPI = yaml.safe_load((PROJECT_ROOT / "openapi.yaml").read_text(encoding="utf-8"))
WRITES = ("post", "put", "patch")


def post_routes(app) -> dict[str, str]:
    """Every POST route of the app, as openapi.yaml writes its path -> a URL for it (ids made up)."""
    return {re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule): re.sub(r"<[^>]+>", str(uuid.uuid4()), rule.rule)
            for rule in app.url_map.iter_rules() if "POST" in rule.methods}


def ignoring_the_key() -> set[str]:
    """The POST operations openapi.yaml documents as ignoring Idempotency-Key."""
    return {path for path, item in OPENAPI["paths"].items()
            if item.get("post", {}).get("x-idempotency-key") == "ignored"}


def test_every_post_route_refuses_a_key_reused_for_another_request_and_a_malformed_key(app, client, auth,
                                                                                        identities):
    key = f"route-check-{uuid.uuid4()}"
    headers = {**auth("centre_admin_a"), "Idempotency-Key": key}
    first = client.post("/v1/learners", json={"centre_id": str(identities.centres["A"].id), "uln": "9999999999",
                                              "given_name": "Key", "family_name": "Holder"}, headers=headers)
    assert first.status_code == 201, first.get_json()
    exempt = ignoring_the_key()
    routes = post_routes(app)
    assert exempt == {"/v1/auth/token", "/v1/auth/refresh", "/v1/auth/revoke"} and exempt <= set(routes)
    for path, url in sorted(routes.items()):
        if path in exempt:
            continue
        reused = client.post(url, json={}, headers=headers)
        assert (reused.status_code, reused.mimetype) == (409, PROBLEM), (path, reused.get_data(as_text=True))
        assert reused.get_json()["type"].endswith("/problems/idempotency-conflict"), path
        malformed = client.post(url, json={}, headers={**auth("centre_admin_a"), "Idempotency-Key": "two words"})
        assert (malformed.status_code, malformed.mimetype) == (400, PROBLEM), (path, malformed.get_data(as_text=True))
        assert "Idempotency-Key" in malformed.get_json()["errors"], path
    assert Learner.select().where(Learner.family_name == "Holder").count() == 1


def test_openapi_documents_the_key_the_replay_header_and_the_409_on_every_write(app):
    documented = {path for path, item in OPENAPI["paths"].items() if "post" in item}
    assert documented == set(post_routes(app))  # a POST route missing from the contract would go unchecked
    for path, item in OPENAPI["paths"].items():
        for method in set(item) & set(WRITES):
            operation = item[method]
            parameters = [p.get("$ref") for p in operation.get("parameters", []) + item.get("parameters", [])]
            if operation.get("x-idempotency-key") == "ignored":
                assert "Idempotency-Key" in operation["description"] and method == "post", path
                continue
            assert "#/components/parameters/IdempotencyKey" in parameters, (method, path)
            assert "409" in operation["responses"], (method, path)
            for status, response in operation["responses"].items():
                if status.startswith("2"):
                    assert "Idempotent-Replayed" in response.get("headers", {}), (method, path, status)


@pytest.fixture
def import_url(identities) -> str:
    return f"/v1/imports/learners?centre_id={identities.centres['A'].id}"


def test_a_retried_import_replays_its_job_and_makes_no_second_one(client, auth, import_url):
    body = rows(*good_rows(3, start=70)).encode()
    headers = {**auth("centre_admin_a"), "Idempotency-Key": "cohort-2026-09"}
    first = client.post(import_url, data=body, content_type="text/csv", headers=headers)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers, first.get_json()
    jobs, learners = LearnerImport.select().count(), Learner.select().count()
    again = client.post(import_url, data=body, content_type="text/csv", headers=headers)
    assert (again.status_code, again.get_json(), again.headers["Location"]) == (
        201, first.get_json(), first.headers["Location"])
    assert again.headers["Idempotent-Replayed"] == "true"
    other = client.post(import_url, data=rows(*good_rows(1, start=80)).encode(), content_type="text/csv",
                        headers=headers)
    assert (other.status_code, other.mimetype) == (409, PROBLEM)
    assert (LearnerImport.select().count(), Learner.select().count()) == (jobs, learners)


def test_a_dry_run_is_replayed_and_a_refused_import_is_not_kept(client, auth, import_url):
    body = rows(*good_rows(2, start=90)).encode()
    dry_headers = {**auth("centre_admin_a"), "Idempotency-Key": "dry-run-1"}
    dry = client.post(f"{import_url}&dry_run=true", data=body, content_type="text/csv", headers=dry_headers)
    replayed = client.post(f"{import_url}&dry_run=true", data=body, content_type="text/csv", headers=dry_headers)
    assert (dry.status_code, replayed.status_code, replayed.get_json()) == (200, 200, dry.get_json())
    assert replayed.headers["Idempotent-Replayed"] == "true"
    real = client.post(import_url, data=body, content_type="text/csv", headers=dry_headers)
    assert real.status_code == 409  # the key was used for the dry run: another request

    bad = rows("1234567890,Bad,Check,,,,,,,").encode()
    bad_headers = {**auth("centre_admin_a"), "Idempotency-Key": "refused-1"}
    refusals = [client.post(import_url, data=bad, content_type="text/csv", headers=bad_headers) for _ in range(2)]
    assert [r.status_code for r in refusals] == [422, 422]
    assert "Idempotent-Replayed" not in refusals[1].headers  # a failure is not kept: the retry ran again
    assert not IdempotentResponse.select().where(IdempotentResponse.key == "refused-1").exists()


def test_a_keyed_graphql_request_from_an_anonymous_caller_runs(client):
    query = {"query": "{ units(first: 1) { totalCount } }"}
    answered = client.post("/graphql", json=query, headers={"Idempotency-Key": "anonymous-1"})
    assert answered.status_code == 200 and answered.get_json()["data"]["units"]["totalCount"] > 0
    malformed = client.post("/graphql", json=query, headers={"Idempotency-Key": "é"})
    assert (malformed.status_code, malformed.mimetype) == (400, PROBLEM)


def test_a_keyed_graphql_answer_with_errors_is_not_kept(client, auth):
    headers = {**auth("centre_admin_a"), "Idempotency-Key": "graphql-errors-1"}
    answers = [client.post("/graphql", json={"query": "{ noSuchField }"}, headers=headers) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[1].get_json()["errors"] and "Idempotent-Replayed" not in answers[1].headers
    assert not IdempotentResponse.select().where(IdempotentResponse.key == "graphql-errors-1").exists()


def test_a_replay_is_the_first_response_in_full_etag_location_and_media_type(client, auth, identities):
    headers = {**auth("centre_admin_a"), "Idempotency-Key": f"full-replay-{uuid.uuid4()}"}
    body = {"centre_id": str(identities.centres["A"].id), "uln": "9999999999", "given_name": "Replay",
            "family_name": "Whole"}
    first = client.post("/v1/learners", json=body, headers=headers)
    again = client.post("/v1/learners", json=body, headers=headers)
    assert first.status_code == again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert (again.headers["ETag"], again.headers["Location"], again.get_json()) == (
        first.headers["ETag"], first.headers["Location"], first.get_json())
    patched = client.patch(again.headers["Location"], json={"given_name": "Replayed"},
                           headers={**auth("centre_admin_a"), "If-Match": again.headers["ETag"]})
    assert patched.status_code == 200, patched.get_json()  # the replayed ETag is the learner's version


def test_a_graphql_replay_keeps_the_media_type_the_client_asked_for(client, auth, identities):
    headers = {**auth("centre_admin_a"), "Idempotency-Key": f"graphql-replay-{uuid.uuid4()}",
               "Accept": "application/graphql-response+json"}
    query = {"query": "mutation($c: UUID!) { createLearner(input: {centreId: $c, uln: \"9999999999\", "
                      "givenName: \"Media\", familyName: \"Type\"}) { __typename } }",
             "variables": {"c": str(identities.centres["A"].id)}}
    first = client.post("/graphql", json=query, headers=headers)
    again = client.post("/graphql", json=query, headers=headers)
    assert first.get_json()["data"]["createLearner"] == {"__typename": "Learner"}
    assert first.mimetype == again.mimetype == "application/graphql-response+json"
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json() == first.get_json()


def test_a_keyed_graphql_request_with_a_typed_failure_keeps_nothing_and_runs_again(client, auth, identities):
    """As on REST, only a success is kept: the learner the first mutation made is undone with the failed enrolment,
    the answer says which failed and that nothing was kept, and the retry runs again (no replay)."""
    headers = {**auth("centre_admin_a"), "Idempotency-Key": f"graphql-failure-{uuid.uuid4()}"}
    family = f"Undone-{uuid.uuid4().hex[:8]}"
    query = {"query": "mutation($c: UUID!, $f: String!) { a: createLearner(input: {centreId: $c, "
                      "uln: \"9999999999\", givenName: \"Kept\", familyName: $f}) { __typename } "
                      "b: enrolLearner(input: {learnerId: \"00000000-0000-4000-8000-000000000000\", "
                      "unitId: \"00000000-0000-4000-8000-000000000000\", startDate: \"2026-09-01\"}) "
                      "{ __typename ... on Problem { httpStatus } } }",
             "variables": {"c": str(identities.centres["A"].id), "f": family}}
    for _ in range(2):
        answer = client.post("/graphql", json=query, headers=headers)
        body = answer.get_json()
        assert "Idempotent-Replayed" not in answer.headers
        assert body["data"] == {"a": {"__typename": "Learner"}, "b": {"__typename": "NotFound", "httpStatus": 404}}
        assert [e["extensions"] for e in body["errors"]] == [{"code": "NOT_KEPT", "status": 404}]
        assert Learner.select().where(Learner.family_name == family).count() == 0
    assert not IdempotentResponse.select().where(IdempotentResponse.key == headers["Idempotency-Key"]).exists()
