"""GraphQL mutations for learners, enrolments and IQA planning: each writes what its REST twin writes (read back
through REST), refuses what REST refuses with the same status as a typed failure, and guards updates with the etag
REST sends as ETag."""

import pytest

from api.models import AuditEvent, Learner
from api.services.content.loader import load_path
from tests.conftest import PROJECT_ROOT
from tests.graphql_helpers import assert_same_values, gql
from tests.tracking_helpers import enrol, fresh_uln, make_learner, post

PROBLEM = ("... on Problem { __typename message httpStatus } ... on ValidationError { fields { field messages } } "
           "... on Conflict { existingId }")
LEARNER = "id centreId uln givenName familyName email dateOfBirth status pseudonymised externalIds { system id } " \
          "createdAt updatedAt etag"
ENROLMENT = "id learnerId centreId unitId unitVersionId status startDate plannedEndDate assessorIds iqaIds " \
            "createdAt updatedAt etag"
CREATE = f"""mutation($input: CreateLearnerInput!) {{ createLearner(input: $input) {{ __typename
    ... on Learner {{ {LEARNER} }} {PROBLEM} }} }}"""
UPDATE = f"""mutation($id: UUID!, $etag: String!, $input: UpdateLearnerInput!) {{
    updateLearner(id: $id, etag: $etag, input: $input) {{ __typename ... on Learner {{ {LEARNER} }} {PROBLEM} }} }}"""
UPDATE_ENROLMENT = f"""mutation($id: UUID!, $etag: String!, $input: UpdateEnrolmentInput!) {{
    updateEnrolment(id: $id, etag: $etag, input: $input) {{ __typename ... on Enrolment {{ {ENROLMENT} }} {PROBLEM} }}
}}"""


def rest_record(client, auth, url: str, caller="centre_admin_a") -> tuple[dict, str]:
    response = client.get(url, headers=auth(caller))
    assert response.status_code == 200, response.get_json()
    return response.get_json(), response.headers["ETag"]


def same_as_rest(client, auth, url: str, graph: dict) -> None:
    """``graph`` (a Learner or Enrolment) holds REST's values for the record and REST's ETag as its etag."""
    body, etag = rest_record(client, auth, url)
    assert graph.pop("etag") == etag
    graph.pop("__typename", None)
    assert_same_values(body, graph)


def test_a_learner_created_and_updated_through_graphql_reads_the_same_through_rest(client, auth, identities):
    centre = str(identities.centres["A"].id)
    made = gql(client, CREATE, {"input": {"centreId": centre, "uln": fresh_uln(), "givenName": "Grace",
                                          "familyName": "Hopper", "dateOfBirth": "2006-12-09",
                                          "externalIds": [{"system": "lms", "id": "gh-1"}]}},
               auth("lms_client_a"))["data"]["createLearner"]
    assert made["__typename"] == "Learner", made
    first_etag = made["etag"]
    same_as_rest(client, auth, f"/v1/learners/{made['id']}", dict(made))

    changed = gql(client, UPDATE, {"id": made["id"], "etag": first_etag, "input": {
        "familyName": "Murray Hopper", "email": None, "externalIds": [{"system": "lms", "id": "gh-2"}]}},
        auth("centre_admin_a"))["data"]["updateLearner"]
    assert (changed["__typename"], changed["familyName"], changed["externalIds"]) == (
        "Learner", "Murray Hopper", [{"system": "lms", "id": "gh-2"}])
    assert changed["etag"] != first_etag
    same_as_rest(client, auth, f"/v1/learners/{made['id']}", dict(changed))

    audited = AuditEvent.select().count()
    stale = gql(client, UPDATE, {"id": made["id"], "etag": first_etag, "input": {"givenName": "G."}},
                auth("centre_admin_a"))["data"]["updateLearner"]
    assert (stale["__typename"], stale["httpStatus"]) == ("PreconditionFailed", 412)
    assert Learner.get_by_id(made["id"]).given_name == "Grace" and AuditEvent.select().count() == audited

    again = gql(client, CREATE, {"input": {"centreId": centre, "uln": made["uln"], "givenName": "Another",
                                           "familyName": "Learner"}}, auth("centre_admin_a"))["data"]["createLearner"]
    assert (again["__typename"], again["httpStatus"], again["existingId"]) == ("Conflict", 409, made["id"])


@pytest.mark.parametrize(("caller", "input", "expected"), [
    ("centre_admin_a", {"uln": "1234567890"}, ("ValidationError", 422)),  # check digit wrong
    ("centre_admin_a", {"email": "not an address"}, ("ValidationError", 422)),
    ("centre_admin_b", {}, ("NotFound", 404)),  # centre A does not exist for centre B's admin
    ("assessor_a", {}, ("Forbidden", 403)),  # sees the centre, may not register learners
    (None, {}, ("AuthenticationRequired", 401)),
])
def test_create_learner_refuses_as_rest_does_and_writes_nothing(client, auth, identities, caller, input, expected):
    body = {"centreId": str(identities.centres["A"].id), "uln": fresh_uln(), "givenName": "A", "familyName": "B",
            **input}
    rest_body = {"centre_id": body["centreId"], "uln": body["uln"], "given_name": "A", "family_name": "B",
                 **input}
    before = (Learner.select().count(), AuditEvent.select().count())
    result = gql(client, CREATE, {"input": body}, auth(caller))["data"]["createLearner"]
    assert (result["__typename"], result["httpStatus"]) == expected
    assert (Learner.select().count(), AuditEvent.select().count()) == before
    rest = client.post("/v1/learners", json=rest_body, headers=auth(caller))
    assert rest.status_code == expected[1]
    if expected[0] == "ValidationError":
        assert {f["field"]: f["messages"] for f in result["fields"]} == rest.get_json()["errors"]


def test_withdraw_and_pseudonymise_a_learner(client, auth, identities):
    learner = make_learner(client, auth, identities, email="ada@example.org")
    withdrawn = gql(client, f"mutation($id: UUID!) {{ withdrawLearner(id: $id) {{ __typename "
                            f"... on Learner {{ {LEARNER} }} {PROBLEM} }} }}", {"id": learner["id"]},
                    auth("lms_client_a"))["data"]["withdrawLearner"]
    assert withdrawn["status"] == "WITHDRAWN"
    same_as_rest(client, auth, f"/v1/learners/{learner['id']}", dict(withdrawn))

    query = f"mutation($id: UUID!) {{ pseudonymiseLearner(id: $id) {{ __typename ... on Learner {{ {LEARNER} }} " \
            f"{PROBLEM} }} }}"
    refused = gql(client, query, {"id": learner["id"]}, auth("centre_admin_a"))["data"]["pseudonymiseLearner"]
    assert (refused["__typename"], refused["httpStatus"]) == ("Forbidden", 403)
    done = gql(client, query, {"id": learner["id"]}, auth("admin"))["data"]["pseudonymiseLearner"]
    assert done["pseudonymised"] is True and done["email"] is None and done["givenName"] != "Ada"
    same_as_rest(client, auth, f"/v1/learners/{learner['id']}", dict(done))


def test_enrolments_are_updated_and_withdrawn_with_their_etag(client, auth, identities, unit_ids):
    learner = make_learner(client, auth, identities)
    enrolment = enrol(client, auth, identities, learner["id"], unit_ids["B13"])
    url = f"/v1/enrolments/{enrolment['id']}"
    _, etag = rest_record(client, auth, url)
    iqa = str(identities.accounts["iqa_a"].id)

    changed = gql(client, UPDATE_ENROLMENT, {"id": enrolment["id"], "etag": etag, "input": {
        "plannedEndDate": "2027-12-31", "iqaIds": [iqa]}}, auth("lms_client_a"))["data"]["updateEnrolment"]
    assert (changed["__typename"], changed["plannedEndDate"], changed["iqaIds"]) == ("Enrolment", "2027-12-31", [iqa])
    same_as_rest(client, auth, url, dict(changed))

    bad = gql(client, UPDATE_ENROLMENT, {"id": enrolment["id"], "etag": changed["etag"], "input": {
        "assessorIds": [iqa]}}, auth("centre_admin_a"))["data"]["updateEnrolment"]
    assert (bad["__typename"], bad["httpStatus"]) == ("ValidationError", 422)  # an IQA is not an assessor

    withdraw = f"""mutation($id: UUID!, $etag: String!) {{ withdrawEnrolment(id: $id, etag: $etag) {{ __typename
        ... on Enrolment {{ {ENROLMENT} }} {PROBLEM} }} }}"""
    stale = gql(client, withdraw, {"id": enrolment["id"], "etag": etag}, auth("centre_admin_a"))
    assert stale["data"]["withdrawEnrolment"]["__typename"] == "PreconditionFailed"
    withdrawn = gql(client, withdraw, {"id": enrolment["id"], "etag": changed["etag"]},
                    auth("centre_admin_a"))["data"]["withdrawEnrolment"]
    assert withdrawn["status"] == "WITHDRAWN"
    same_as_rest(client, auth, url, dict(withdrawn))


def test_the_etag_graphql_reads_is_the_etag_rest_sends(client, auth, identities, unit_ids):
    learner = make_learner(client, auth, identities)
    enrolment = enrol(client, auth, identities, learner["id"], unit_ids["B13"])
    data = gql(client, "query($c: UUID!) { learners(centreId: $c, first: 100) { nodes { id etag enrolments { "
                       "nodes { id etag } } } } }", {"c": str(identities.centres["A"].id)},
               auth("centre_admin_a"))["data"]
    node = next(n for n in data["learners"]["nodes"] if n["id"] == learner["id"])
    assert node["etag"] == rest_record(client, auth, f"/v1/learners/{learner['id']}")[1]
    assert node["enrolments"]["nodes"] == [
        {"id": enrolment["id"], "etag": rest_record(client, auth, f"/v1/enrolments/{enrolment['id']}")[1]}]


def test_enrol_on_a_qualification_makes_what_rest_lists(client, auth, identities):
    assert load_path(PROJECT_ROOT / "tests" / "fixtures" / "qualification.yaml").ok
    learner = make_learner(client, auth, identities)
    qualification = client.get("/v1/qualifications").get_json()["items"][0]["id"]
    query = f"""mutation($l: UUID!, $q: UUID!) {{ enrolOnQualification(learnerId: $l, qualificationId: $q,
        input: {{startDate: "2026-09-01"}}) {{ __typename ... on Enrolments {{ items {{ {ENROLMENT} }} }} {PROBLEM} }}
    }}"""
    made = gql(client, query, {"l": learner["id"], "q": qualification},
               auth("centre_admin_a"))["data"]["enrolOnQualification"]
    assert made["__typename"] == "Enrolments" and made["items"]
    listed = client.get(f"/v1/enrolments?learner_id={learner['id']}", headers=auth("centre_admin_a")).get_json()
    assert sorted(e["id"] for e in made["items"]) == sorted(e["id"] for e in listed["items"])
    for item in made["items"]:
        same_as_rest(client, auth, f"/v1/enrolments/{item['id']}", item)


def test_iqa_plans_and_samples(client, auth, identities, b13):
    decision = post(client, auth, "assessor_a", b13["decisions"], {
        "criterion_id": b13["criteria"][0], "outcome": "met", "feedback": "Seen."})
    plan_query = f"""mutation($input: CreateSamplingPlanInput!) {{ createSamplingPlan(input: $input) {{ __typename
        ... on SamplingPlan {{ id centreId assessorId rate assessorIsNew effectiveRate }} {PROBLEM} }} }}"""
    plan_input = {"centreId": str(identities.centres["A"].id), "assessorId": str(identities.accounts["assessor_a"].id),
                  "rate": 0.25, "assessorIsNew": True}
    plan = gql(client, plan_query, {"input": plan_input}, auth("iqa_a"))["data"]["createSamplingPlan"]
    assert (plan["__typename"], plan["rate"], plan["effectiveRate"]) == ("SamplingPlan", 0.25, 1.0)
    candidates = client.get(f"/v1/iqa/plans/{plan['id']}/candidates", headers=auth("iqa_a")).get_json()
    assert decision["id"] in candidates["decision_ids"]
    too_high = gql(client, plan_query, {"input": {**plan_input, "rate": 1.5}}, auth("iqa_a"))["data"]
    assert too_high["createSamplingPlan"]["fields"][0]["field"] == "rate"

    sample_query = f"""mutation($d: UUID!) {{ sampleDecision(decisionId: $d) {{ __typename
        ... on IqaSample {{ id decisionId enrolmentId iqaId createdAt verdict {{ verdict }} }} {PROBLEM} }} }}"""
    assessor = gql(client, sample_query, {"d": decision["id"]}, auth("assessor_a"))["data"]["sampleDecision"]
    assert (assessor["__typename"], assessor["httpStatus"]) == ("Forbidden", 403)
    sample = gql(client, sample_query, {"d": decision["id"]}, auth("iqa_a"))["data"]["sampleDecision"]
    assert sample["__typename"] == "IqaSample"
    assert_same_values(client.get(f"/v1/iqa/samples/{sample.pop('id')}", headers=auth("iqa_a")).get_json(),
                       {k: v for k, v in sample.items() if k != "__typename"})
    twice = gql(client, sample_query, {"d": decision["id"]}, auth("iqa_a"))["data"]["sampleDecision"]
    assert (twice["__typename"], twice["httpStatus"]) == ("Conflict", 409)
