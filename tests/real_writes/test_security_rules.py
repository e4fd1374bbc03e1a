"""Separation of duties and who may write: an assessor's status is explicit, an IQA never samples or verifies a
decision they made or countersigned, an assessor never decides on their own learner record, and a withdrawn
learner's account writes nothing (REST and GraphQL)."""

import uuid

import pytest

from api.errors import ValidationFailed
from api.models import Account
from api.services import accounts
from tests.conftest import TEST_PASSWORD
from tests.graphql_helpers import gql
from tests.tracking_helpers import bearer, criteria_of, enrol, make_learner, post

PROBLEM = "application/problem+json"


def assert_403(response, fragment):
    assert response.status_code == 403, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM and fragment in response.get_json()["detail"]


# -- assessor status -------------------------------------------------------------------------------------------------

def test_an_assessor_cannot_be_created_without_a_status(identities):
    with pytest.raises(ValidationFailed) as refused:
        accounts.create_account("no.status@example.test", TEST_PASSWORD, roles=["assessor"], centres=["A"])
    assert "required for an assessor" in refused.value.errors["assessor_status"][0]
    assert not Account.select().where(Account.email == "no.status@example.test").exists()
    with pytest.raises(ValidationFailed) as not_an_assessor:
        accounts.create_account("iqa.status@example.test", TEST_PASSWORD, roles=["iqa"], centres=["A"],
                                assessor_status="qualified")
    assert "only an assessor" in not_an_assessor.value.errors["assessor_status"][0]


def test_an_assessor_without_a_status_records_nothing_until_it_is_set(app, client, auth, identities, unit_ids):
    """An account made before the status was required: its decisions were silently taken as qualified."""
    legacy = identities.accounts["trainee_assessor_a"]
    Account.update(assessor_status=None).where(Account.id == legacy.id).execute()
    learner = make_learner(client, auth, identities)["id"]
    enrolment = enrol(client, auth, identities, learner, unit_ids["B13"], assessors=("trainee_assessor_a",))["id"]
    decision = {"criterion_id": criteria_of(client, unit_ids["B13"])[0], "outcome": "met", "feedback": "f"}
    refused = client.post(f"/v1/enrolments/{enrolment}/decisions", json=decision, headers=auth("trainee_assessor_a"))
    assert_403(refused, "no assessor status")
    assert client.get(f"/v1/enrolments/{enrolment}/decisions", headers=auth("admin")).get_json()["items"] == []

    admin = accounts.principal_from_claims(f"account:{identities.accounts['admin'].id}",
                                           accounts.account_claims(identities.accounts["admin"]))
    accounts.set_assessor_status(admin, legacy.email, "trainee")
    recorded = post(client, auth, "trainee_assessor_a", f"/v1/enrolments/{enrolment}/decisions", decision)
    assert recorded["assessor_status"] == "trainee" and recorded["in_effect"] is False


# -- IQA independence ------------------------------------------------------------------------------------------------

@pytest.fixture
def assessor_iqa(app, identities):
    """A qualified assessor who is also an IQA of centre A, with request headers for them."""
    account = accounts.create_account(f"assessor.iqa.{uuid.uuid4().hex[:8]}@example.test", TEST_PASSWORD,
                                      roles=["assessor", "iqa"], centres=["A"], assessor_status="qualified")
    return account, bearer(app, account)


def _enrolment_with_evidence(client, auth, identities, unit_ids, assessors):
    learner = make_learner(client, auth, identities)["id"]
    body = {"learner_id": learner, "unit_id": unit_ids["B13"], "start_date": "2026-09-01",
            "assessor_ids": [str(a.id) for a in assessors], "iqa_ids": [str(identities.accounts["iqa_a"].id)]}
    enrolment = post(client, auth, "centre_admin_a", "/v1/enrolments", body)["id"]
    criterion = criteria_of(client, unit_ids["B13"])[0]
    evidence = post(client, auth, "lms_client_a", f"/v1/enrolments/{enrolment}/evidence", {
        "type": "observation", "title": "t", "date": "2026-10-01", "authenticity_declared": True,
        "criterion_ids": [criterion]})["id"]
    return enrolment, criterion, evidence


def test_an_iqa_never_samples_or_verifies_a_decision_they_countersigned(client, auth, identities, unit_ids,
                                                                        assessor_iqa):
    account, headers = assessor_iqa
    enrolment, criterion, evidence = _enrolment_with_evidence(
        client, auth, identities, unit_ids, [identities.accounts["trainee_assessor_a"]])
    decision = post(client, auth, "trainee_assessor_a", f"/v1/enrolments/{enrolment}/decisions", {
        "criterion_id": criterion, "outcome": "met", "feedback": "f", "evidence_ids": [evidence]})["id"]
    signed = client.post(f"/v1/decisions/{decision}/countersign", headers=headers)
    assert signed.status_code == 200 and signed.get_json()["countersigned_by"] == str(account.id)

    assert_403(client.post("/v1/iqa/samples", json={"decision_id": decision}, headers=headers), "countersigned")
    sample = post(client, auth, "iqa_a", "/v1/iqa/samples", {"decision_id": decision})["id"]  # another IQA may
    verdict = client.post(f"/v1/iqa/samples/{sample}/verdict", json={"verdict": "confirmed"}, headers=headers)
    assert_403(verdict, "countersigned")
    assert client.get(f"/v1/iqa/samples/{sample}", headers=auth("iqa_a")).get_json()["verdict"] is None


def test_an_iqa_never_samples_or_verifies_a_decision_they_made(client, auth, identities, unit_ids, assessor_iqa):
    account, headers = assessor_iqa
    enrolment, criterion, evidence = _enrolment_with_evidence(client, auth, identities, unit_ids, [account])
    made = client.post(f"/v1/enrolments/{enrolment}/decisions", headers=headers, json={
        "criterion_id": criterion, "outcome": "met", "feedback": "f", "evidence_ids": [evidence]})
    assert made.status_code == 201, made.get_json()
    decision = made.get_json()["id"]
    assert_403(client.post("/v1/iqa/samples", json={"decision_id": decision}, headers=headers), "they made")
    sample = post(client, auth, "iqa_a", "/v1/iqa/samples", {"decision_id": decision})["id"]
    verdict = client.post(f"/v1/iqa/samples/{sample}/verdict", json={"verdict": "confirmed"}, headers=headers)
    assert_403(verdict, "they made")
    graph = gql(client, "mutation($s: UUID!) { recordIqaVerdict(sampleId: $s, input: {verdict: CONFIRMED}) { "
                        "__typename ... on Problem { httpStatus message } } }", {"s": sample}, headers)
    assert graph["data"]["recordIqaVerdict"]["httpStatus"] == 403


def test_an_assessor_never_decides_on_their_own_learner_record(app, client, auth, identities, unit_ids):
    learner = make_learner(client, auth, identities)["id"]
    account = accounts.create_account("assessor.learner@example.test", TEST_PASSWORD, roles=["assessor"],
                                      centres=["A"], assessor_status="qualified", learner_id=learner)
    body = {"learner_id": learner, "unit_id": unit_ids["B13"], "start_date": "2026-09-01",
            "assessor_ids": [str(account.id)]}
    enrolment = post(client, auth, "centre_admin_a", "/v1/enrolments", body)["id"]
    decision = {"criterion_id": criteria_of(client, unit_ids["B13"])[0], "outcome": "met", "feedback": "f"}
    refused = client.post(f"/v1/enrolments/{enrolment}/decisions", json=decision, headers=bearer(app, account))
    assert_403(refused, "their own learner record")
    assert client.get(f"/v1/enrolments/{enrolment}/decisions", headers=auth("admin")).get_json()["items"] == []


# -- a withdrawn learner's account -----------------------------------------------------------------------------------

SUBMIT = """mutation($e: UUID!, $input: SubmitEvidenceInput!) { submitEvidence(enrolmentId: $e, input: $input) {
    __typename ... on Problem { httpStatus message } } }"""


def test_a_withdrawn_learner_s_account_writes_nothing(app, client, auth, identities, unit_ids):
    learner = make_learner(client, auth, identities)["id"]
    enrolment = enrol(client, auth, identities, learner, unit_ids["B13"])["id"]
    account = accounts.create_account("withdrawn.learner@example.test", TEST_PASSWORD, roles=["learner"],
                                      centres=["A"], learner_id=learner)
    headers = bearer(app, account)
    evidence = {"type": "observation", "title": "mine", "date": "2026-10-01", "authenticity_declared": True}
    criterion = criteria_of(client, unit_ids["B13"])[0]
    before = post(client, auth, None, f"/v1/enrolments/{enrolment}/evidence", evidence, headers=headers)["id"]
    post(client, auth, "centre_admin_a", f"/v1/learners/{learner}/withdraw", None, status=200)

    count = len(client.get(f"/v1/enrolments/{enrolment}/evidence", headers=auth("admin")).get_json()["items"])
    assert_403(client.post(f"/v1/enrolments/{enrolment}/evidence", json=evidence, headers=headers), "withdrawn")
    assert_403(client.post(f"/v1/evidence/{before}/claims", json={"criterion_ids": [criterion]}, headers=headers),
               "withdrawn")
    graph = gql(client, SUBMIT, {"e": enrolment, "input": {"type": "observation", "title": "t", "date": "2026-10-01",
                                                           "authenticityDeclared": True}}, headers)
    assert graph["data"]["submitEvidence"]["httpStatus"] == 403
    assert "withdrawn" in graph["data"]["submitEvidence"]["message"]
    after = client.get(f"/v1/enrolments/{enrolment}/evidence", headers=auth("admin")).get_json()["items"]
    assert len(after) == count and all(not e["claims"] for e in after)
    assert client.get(f"/v1/learners/{learner}", headers=headers).status_code == 200  # reading stays allowed
