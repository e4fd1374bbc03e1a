"""An LMS acts for people of its centre (OAuth 2.0 Token Exchange, RFC 8693): every rule applies to the person as if
they had called, the token never reaches past the client's centre, the audit log names both, and a person can refuse
(which stops every such token at once, for good)."""

import base64
import uuid

import pytest

from api.services import accounts
from tests.conftest import TEST_PASSWORD
from tests.graphql_helpers import gql
from tests.tracking_helpers import (
    TOKEN_EXCHANGE,
    acting_for,
    bearer,
    criteria_of,
    enrol,
    exchange_fields,
    make_learner,
    post,
)

PROBLEM = "application/problem+json"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
ACCOUNT_ID_TOKEN_TYPE = "urn:qualtrack:params:oauth:token-type:account-id"


def lms_fields(identities, email: str, lms: str = "lms_client_a") -> dict:
    return exchange_fields(identities.clients[lms].client_id, identities.client_secrets[lms], email)


def refused(answer, status: int, error: str) -> str:
    assert answer.status_code == status and answer.mimetype == PROBLEM, answer.get_data(as_text=True)
    assert answer.get_json()["error"] == error, answer.get_json()
    return answer.get_json()["detail"]


def audit_of(client, auth, subject_id: str) -> list[dict]:
    answer = client.get(f"/v1/audit?subject_id={subject_id}", headers=auth("admin"))
    assert answer.status_code == 200
    return answer.get_json()["items"]


def test_an_lms_records_an_assessors_decision_as_the_assessor(client, auth, identities, content_ids):
    lms, assessor = identities.clients["lms_client_a"], identities.accounts["assessor_a"]
    basic = base64.b64encode(f"{lms.client_id}:{identities.client_secrets['lms_client_a']}".encode()).decode()
    answer = client.post("/v1/auth/token", headers={"Authorization": f"Basic {basic}"}, data={
        "grant_type": TOKEN_EXCHANGE, "subject_token": str(assessor.id), "subject_token_type": ACCOUNT_ID_TOKEN_TYPE,
        "requested_token_type": ACCESS_TOKEN_TYPE})
    assert answer.status_code == 200, answer.get_json()
    tokens = answer.get_json()
    assert tokens["issued_token_type"] == ACCESS_TOKEN_TYPE and tokens["token_type"] == "Bearer"
    assert "refresh_token" not in tokens and tokens["scope"] == "assessor"
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    me = client.get("/v1/auth/me", headers=headers).get_json()
    assert (me["kind"], me["id"], me["roles"], me["assessor_status"]) == (
        "account", str(assessor.id), ["assessor"], "qualified")
    assert me["acting_client"] == {"id": str(lms.id), "client_id": lms.client_id, "name": "lms_client_a"}

    learner = make_learner(client, auth, identities)
    enrolment = enrol(client, auth, identities, learner["id"], content_ids["B13"])["id"]
    decision = post(client, lambda _: headers, None, f"/v1/enrolments/{enrolment}/decisions", {
        "criterion_id": criteria_of(client, content_ids["B13"])[0], "outcome": "met", "feedback": "seen"})
    assert (decision["assessor_id"], decision["assessor_status"]) == (str(assessor.id), "qualified")
    [recorded] = [e for e in audit_of(client, auth, decision["id"]) if e["action"] == "decision.recorded"]
    assert (recorded["actor"], recorded["acting_client"]) == (f"account:{assessor.id}", f"client:{lms.id}")
    [granted] = [e for e in audit_of(client, auth, str(assessor.id)) if e["action"] == "account.acted_for"]
    assert (granted["actor"], granted["centre_id"]) == (f"client:{lms.id}", str(identities.centres["A"].id))
    own = post(client, auth, "assessor_a", f"/v1/enrolments/{enrolment}/decisions", {
        "criterion_id": criteria_of(client, content_ids["B13"])[1], "outcome": "met", "feedback": "seen"})
    [by_themselves] = [e for e in audit_of(client, auth, own["id"]) if e["action"] == "decision.recorded"]
    assert by_themselves["acting_client"] is None


@pytest.mark.parametrize("person", ["assessor_a", "trainee_assessor_a", "iqa_a", "centre_admin_a"])
def test_every_rule_applies_to_the_person_as_if_they_had_called(client, auth, identities, content_ids, person):
    learner = make_learner(client, auth, identities)
    enrolment = enrol(client, auth, identities, learner["id"], content_ids["B13"],
                      assessors=("assessor_a", "trainee_assessor_a"))["id"]
    criteria = criteria_of(client, content_ids["B13"])
    delegated = acting_for(client, identities, person)
    for n, headers in enumerate((auth(person), delegated)):
        answers = [
            client.post(f"/v1/enrolments/{enrolment}/decisions", headers=headers, json={
                "criterion_id": criteria[n], "outcome": "met", "feedback": "seen"}),
            client.post(f"/v1/enrolments/{enrolment}/evidence", headers=headers, json={
                "type": "observation", "title": f"seen {n}", "date": "2026-10-01", "authenticity_declared": True}),
            client.get(f"/v1/audit?centre_id={identities.centres['A'].id}", headers=headers),
            client.get(f"/v1/centres/{identities.centres['A'].id}/progress", headers=headers),
            client.get(f"/v1/learners/{learner['id']}", headers=headers),
            client.post("/v1/iqa/plans", headers=headers, json={
                "centre_id": str(identities.centres["A"].id), "assessor_id": str(identities.accounts["assessor_a"].id),
                "rate": 0.5}),
        ]
        statuses = [a.status_code for a in answers]
        if n == 0:
            direct = statuses
            decision = answers[0].get_json() if statuses[0] == 201 else None
        else:
            assert statuses == direct, (person, direct, statuses)
            if decision is not None:  # a trainee's decision waits for a countersignature either way
                assert answers[0].get_json()["assessor_status"] == decision["assessor_status"]


def test_a_learner_submits_their_own_evidence_and_nobody_elses(client, auth, identities, content_ids):
    mine = make_learner(client, auth, identities)
    theirs = make_learner(client, auth, identities)
    accounts.create_account("delegated.learner@example.test", TEST_PASSWORD, roles=["learner"], centres=["A"],
                            learner_id=uuid.UUID(mine["id"]))
    my_enrolment = enrol(client, auth, identities, mine["id"], content_ids["B13"])["id"]
    their_enrolment = enrol(client, auth, identities, theirs["id"], content_ids["B13"])["id"]
    answer = client.post("/v1/auth/token", data=lms_fields(identities, "Delegated.Learner@example.test"))
    headers = {"Authorization": f"Bearer {answer.get_json()['access_token']}"}
    evidence = {"type": "product", "title": "my portfolio", "date": "2026-10-02", "authenticity_declared": True}
    assert client.post(f"/v1/enrolments/{my_enrolment}/evidence", json=evidence, headers=headers).status_code == 201
    assert client.post(f"/v1/enrolments/{their_enrolment}/evidence", json=evidence,
                       headers=headers).status_code == 404
    assert client.post(f"/v1/enrolments/{my_enrolment}/decisions", headers=headers, json={
        "criterion_id": criteria_of(client, content_ids["B13"])[0], "outcome": "met",
        "feedback": "I did it"}).status_code == 403


def test_the_token_never_reaches_past_the_clients_centre(client, auth, app, identities):
    both = accounts.create_account("two.centres@example.test", TEST_PASSWORD, roles=["centre_admin"],
                                   centres=["A", "B"])
    learner_b = post(client, auth, "centre_admin_b", "/v1/learners", {
        "centre_id": str(identities.centres["B"].id), "uln": "9276308686", "given_name": "Bo", "family_name": "B"})
    own = bearer(app, both)
    assert client.get(f"/v1/learners/{learner_b['id']}", headers=own).status_code == 200
    answer = client.post("/v1/auth/token", data=lms_fields(identities, both.email))
    delegated = {"Authorization": f"Bearer {answer.get_json()['access_token']}"}
    assert [c["code"] for c in client.get("/v1/auth/me", headers=delegated).get_json()["centres"]] == ["A"]
    assert client.get(f"/v1/learners/{learner_b['id']}", headers=delegated).status_code == 404


def test_who_a_client_may_act_for(client, auth, identities):
    nobody = refused(client.post("/v1/auth/token", data=lms_fields(identities, "nobody@example.test")),
                     400, "invalid_grant")
    for person in ("assessor_b", "author_ocr", "admin"):  # not of centre A: the same answer as nobody's
        answer = client.post("/v1/auth/token", data=lms_fields(identities, identities.accounts[person].email))
        assert refused(answer, 400, "invalid_grant") == nobody.replace("nobody@example.test",
                                                                       identities.accounts[person].email)
    disabled = accounts.create_account("gone@example.test", TEST_PASSWORD, roles=["assessor"], centres=["A"],
                                       assessor_status="qualified")
    accounts.set_active(accounts.principal_from_claims(
        f"account:{identities.accounts['admin'].id}", accounts.account_claims(identities.accounts["admin"])),
        disabled, False)
    refused(client.post("/v1/auth/token", data=lms_fields(identities, "gone@example.test")), 400, "invalid_grant")
    accounts.create_account("admin.of.a@example.test", TEST_PASSWORD, roles=["admin", "centre_admin"], centres=["A"])
    assert "admin" in refused(client.post("/v1/auth/token", data=lms_fields(identities, "admin.of.a@example.test")),
                              400, "invalid_grant")

    for other in ("hooks_client_a", "sync_client_skills_cfa"):  # no act_for_accounts scope; bound to a body
        refused(client.post("/v1/auth/token", data=lms_fields(identities, "assessor.a@example.test", other)),
                400, "unauthorized_client")
    body_client = accounts.create_client("body acting", ["act_for_accounts"], awarding_body="ocr")
    refused(client.post("/v1/auth/token", data=exchange_fields(
        body_client.client.client_id, body_client.secret, "assessor.a@example.test")), 400, "unauthorized_client")
    wrong = {**lms_fields(identities, "assessor.a@example.test"), "client_secret": "not the secret"}
    refused(client.post("/v1/auth/token", data=wrong), 401, "invalid_client")

    good = lms_fields(identities, "assessor.a@example.test")
    for change, error in (({"subject_token_type": "urn:ietf:params:oauth:token-type:jwt"}, "invalid_request"),
                          ({"subject_token": ""}, "invalid_request"),
                          ({"requested_token_type": "urn:ietf:params:oauth:token-type:refresh_token"},
                           "invalid_request"),
                          ({"scope": "admin"}, "invalid_scope"), ({"audience": "elsewhere"}, "invalid_target"),
                          ({"subject_token_type": ACCOUNT_ID_TOKEN_TYPE, "subject_token": "not-a-uuid"},
                           "invalid_grant")):
        refused(client.post("/v1/auth/token", data={**good, **change}), 400, error)
    assert client.post("/v1/auth/token", json=good).status_code == 200  # JSON as well as a form


def test_the_client_may_show_its_own_access_token_as_the_actor_token(client, identities, token_for):
    person = {"grant_type": TOKEN_EXCHANGE, "subject_token": "assessor.a@example.test",
              "subject_token_type": "urn:qualtrack:params:oauth:token-type:email",
              "actor_token_type": ACCESS_TOKEN_TYPE}
    answer = client.post("/v1/auth/token", data={**person, "actor_token": token_for("lms_client_a")})
    assert answer.status_code == 200, answer.get_json()
    delegated = answer.get_json()["access_token"]
    for not_a_clients_own in (token_for("assessor_a"), delegated, "not.a.token"):
        refused(client.post("/v1/auth/token", data={**person, "actor_token": not_a_clients_own}), 401,
                "invalid_client")
    refused(client.post("/v1/auth/token", data={**person, "actor_token": token_for("hooks_client_a")}), 400,
            "unauthorized_client")
    lms = identities.clients["lms_client_a"]
    both = {**person, "actor_token": token_for("hooks_client_a"), "client_id": lms.client_id,
            "client_secret": identities.client_secrets["lms_client_a"]}
    refused(client.post("/v1/auth/token", data=both), 400, "invalid_request")
    refused(client.post("/v1/auth/token", data={**person, "actor_token": token_for("lms_client_a"),
                                                 "actor_token_type": "urn:ietf:params:oauth:token-type:jwt"}),
            400, "invalid_request")


def test_a_person_can_refuse_and_it_stops_every_token_held_for_them(client, auth, app, identities):
    person = accounts.create_account("careful@example.test", TEST_PASSWORD, roles=["assessor"], centres=["A"],
                                     assessor_status="qualified")
    own = bearer(app, person)
    exchange = lms_fields(identities, person.email)
    held = {"Authorization": f"Bearer {client.post('/v1/auth/token', data=exchange).get_json()['access_token']}"}
    assert client.get("/v1/auth/me", headers=held).status_code == 200
    assert client.get("/v1/auth/me", headers=own).get_json()["accepts_delegation"] is True

    sneaky = client.put("/v1/auth/me/delegation", json={"accepts_delegation": True}, headers=held)
    assert sneaky.status_code == 403 and sneaky.mimetype == PROBLEM
    for caller in (auth("lms_client_a"), {}):
        assert client.put("/v1/auth/me/delegation", json={"accepts_delegation": False},
                          headers=caller).status_code in (401, 403)
    for bad in ({}, {"accepts_delegation": "no"}, {"accepts_delegation": False, "until": "never"}, [False]):
        answer = client.put("/v1/auth/me/delegation", json=bad, headers=own)
        assert answer.status_code in (400, 422) and answer.mimetype == PROBLEM, bad

    answer = client.put("/v1/auth/me/delegation", json={"accepts_delegation": False}, headers=own)
    assert answer.status_code == 200 and answer.get_json() == {"accepts_delegation": False}
    assert client.get("/v1/auth/me", headers=held).status_code == 401  # at once
    assert "refused" in refused(client.post("/v1/auth/token", data=exchange), 400, "invalid_grant")
    assert client.get("/v1/auth/me", headers=own).get_json()["accepts_delegation"] is False

    again = client.put("/v1/auth/me/delegation", json={"accepts_delegation": True}, headers=own)
    assert again.get_json() == {"accepts_delegation": True}
    assert client.get("/v1/auth/me", headers=held).status_code == 401  # allowing again revives nothing
    assert client.post("/v1/auth/token", data=exchange).status_code == 200
    actions = [e["action"] for e in audit_of(client, auth, str(person.id)) if e["action"].startswith("account.del")]
    assert actions == ["account.delegation_refused", "account.delegation_allowed"]
    assert client.put("/v1/auth/me/delegation", json={"accepts_delegation": True}, headers=own).status_code == 200
    assert len([e for e in audit_of(client, auth, str(person.id)) if e["action"].startswith("account.del")]) == 2


def test_disabling_the_client_or_the_person_stops_the_token(client, auth, identities):
    admin = auth("admin")
    made = accounts.create_client("short-lived lms", ["act_for_accounts"], centre="A")
    person = accounts.create_account("held@example.test", TEST_PASSWORD, roles=["iqa"], centres=["A"])

    def exchanged() -> dict:
        answer = client.post("/v1/auth/token", data=exchange_fields(made.client.client_id, made.secret, person.email))
        assert answer.status_code == 200, answer.get_json()
        return {"Authorization": f"Bearer {answer.get_json()['access_token']}"}

    held = exchanged()
    assert client.post(f"/v1/admin/clients/{made.client.id}/disable", headers=admin).status_code == 200
    assert client.get("/v1/auth/me", headers=held).status_code == 401
    assert client.post(f"/v1/admin/clients/{made.client.id}/enable", headers=admin).status_code == 200
    assert client.get("/v1/auth/me", headers=held).status_code == 401  # tokens from before a disable stay dead
    held = exchanged()
    assert client.post(f"/v1/admin/accounts/{person.id}/disable", headers=admin).status_code == 200
    assert client.get("/v1/auth/me", headers=held).status_code == 401


def test_idempotency_keys_of_a_client_acting_for_a_person_are_its_own(client, auth, identities, content_ids):
    learner = make_learner(client, auth, identities)
    enrolment = enrol(client, auth, identities, learner["id"], content_ids["B13"])["id"]
    url = f"/v1/enrolments/{enrolment}/evidence"
    body = {"type": "observation", "title": "seen", "date": "2026-10-01", "authenticity_declared": True}
    key = {"Idempotency-Key": f"evidence-{uuid.uuid4().hex}"}
    delegated = {**acting_for(client, identities, "assessor_a"), **key}
    first = client.post(url, json=body, headers=delegated)
    replay = client.post(url, json=body, headers=delegated)
    theirs = client.post(url, json=body, headers={**auth("assessor_a"), **key})
    assert (first.status_code, replay.status_code, theirs.status_code) == (201, 201, 201)
    assert replay.headers.get("Idempotent-Replayed") == "true" and replay.get_json() == first.get_json()
    assert "Idempotent-Replayed" not in theirs.headers and theirs.get_json()["id"] != first.get_json()["id"]


def test_graphql_takes_the_delegated_token_and_shows_the_acting_client(client, auth, identities, content_ids):
    learner = make_learner(client, auth, identities)
    enrolment = enrol(client, auth, identities, learner["id"], content_ids["B13"])["id"]
    mutation = ("mutation($id: UUID!, $c: UUID!) { recordDecision(enrolmentId: $id, input: {criterionId: $c, "
                "outcome: MET, feedback: \"seen\"}) { ... on Decision { id assessorId } } }")
    data = gql(client, mutation, {"id": enrolment, "c": criteria_of(client, content_ids["B13"])[0]},
               acting_for(client, identities, "assessor_a"))["data"]["recordDecision"]
    assert data["assessorId"] == str(identities.accounts["assessor_a"].id)
    events = gql(client, "query($s: String) { auditEvents(subjectId: $s) { edges { node { action actor actingClient "
                         "} } } }", {"s": data["id"]}, auth("admin"))["data"]["auditEvents"]["edges"]
    rest = audit_of(client, auth, data["id"])
    assert [(e["node"]["action"], e["node"]["actor"], e["node"]["actingClient"]) for e in events] == [
        (e["action"], e["actor"], e["acting_client"]) for e in rest]
    assert rest[0]["acting_client"] == f"client:{identities.clients['lms_client_a'].id}"
