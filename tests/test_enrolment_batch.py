"""Bulk enrolments as JSON: a cohort enrolled in one request, all or none, each enrolment under every rule of a single
one, a refusal naming its item, idempotent with an Idempotency-Key; REST and GraphQL alike."""

from api.models import Enrolment
from tests.graphql_helpers import gql
from tests.tracking_helpers import make_learner, post

URL = "/v1/enrolment-batches"


def item(learner_id, unit_id, **extra) -> dict:
    return {"learner_id": learner_id, "unit_id": unit_id, "start_date": "2026-09-01", **extra}


def test_a_cohort_in_one_request(client, auth, identities, content_ids):
    learners = [make_learner(client, auth, identities)["id"] for _ in range(3)]
    assessor = str(identities.accounts["assessor_a"].id)
    body = {"enrolments": [item(lid, unit, assessor_ids=[assessor]) for lid in learners
                           for unit in (content_ids["B13"], content_ids["CS 34"])]}
    made = post(client, auth, "lms_client_a", URL, body)["items"]
    assert [(e["learner_id"], e["unit_id"]) for e in made] == [(i["learner_id"], i["unit_id"])
                                                              for i in body["enrolments"]]
    assert all(e["assessor_ids"] == [assessor] and e["status"] == "active" for e in made)
    for enrolment in made:
        assert client.get(enrolment["href"], headers=auth("centre_admin_a")).status_code == 200
    events = client.get(f"/v1/changes?type=enrolment.created&centre_id={identities.centres['A'].id}",
                        headers=auth("centre_admin_a")).get_json()["items"]
    assert {e["id"] for e in made} <= {e["subject_id"] for e in events}


def test_one_refused_refuses_the_batch_and_says_which(client, auth, identities, content_ids):
    learners = [make_learner(client, auth, identities)["id"] for _ in range(2)]
    b13 = content_ids["B13"]
    before = Enrolment.select().count()
    cases = (
        ([item(learners[0], b13), item(learners[1], content_ids["CS 39"])], 422, "enrolments[1].unit_id"),
        ([item(learners[0], b13), item(learners[0], b13)], 422, "enrolments[1].unit_id"),
        ([item(learners[0], b13, assessor_ids=[str(identities.accounts["assessor_b"].id)])], 422,
         "enrolments[0].assessor_ids"),
    )
    for enrolments, status, field in cases:
        answer = client.post(URL, json={"enrolments": enrolments}, headers=auth("centre_admin_a"))
        assert answer.status_code == status and answer.mimetype == "application/problem+json", answer.get_json()
        assert list(answer.get_json()["errors"]) == [field], answer.get_json()
        assert Enrolment.select().count() == before  # the valid ones before it were not kept either
    existing = post(client, auth, "centre_admin_a", "/v1/enrolments", item(learners[1], b13))
    again = client.post(URL, json={"enrolments": [item(learners[0], b13), item(learners[1], b13)]},
                        headers=auth("centre_admin_a"))
    assert again.status_code == 409 and again.get_json()["existing_id"] == existing["id"]
    assert again.get_json()["detail"].startswith("enrolments[1]: ")
    assert Enrolment.select().count() == before + 1
    other = make_learner(client, auth, identities, caller="centre_admin_b", centre_id=str(identities.centres["B"].id))
    hidden = client.post(URL, json={"enrolments": [item(other["id"], b13)]}, headers=auth("centre_admin_a"))
    assert hidden.status_code == 404 and hidden.get_json()["detail"].startswith("enrolments[0]: ")
    refused = client.post(URL, json={"enrolments": [item(learners[0], b13)]}, headers=auth("assessor_a"))
    assert refused.status_code == 403
    for body in ({"enrolments": []}, {"enrolments": [item(learners[0], b13)] * 101}, {"enrolments": "all"}, [], {}):
        answer = client.post(URL, json=body, headers=auth("centre_admin_a"))
        assert answer.status_code in (400, 422) and answer.mimetype == "application/problem+json", body
    assert Enrolment.select().count() == before + 1


def test_a_retried_batch_is_made_once(client, auth, identities, content_ids):
    learner = make_learner(client, auth, identities)["id"]
    body = {"enrolments": [item(learner, content_ids["B13"]), item(learner, content_ids["CS 34"])]}
    headers = {**auth("centre_admin_a"), "Idempotency-Key": "cohort-2026-09"}
    first, again = (client.post(URL, json=body, headers=headers) for _ in range(2))
    assert first.status_code == again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert Enrolment.select().where(Enrolment.learner == learner).count() == 2


def test_graphql_enrols_as_rest_does(client, auth, identities, content_ids):
    learner = make_learner(client, auth, identities)["id"]
    answer = gql(client, "mutation($l: UUID!, $u: UUID!, $v: UUID!) { enrolLearners(input: [{learnerId: $l, "
                         'unitId: $u, startDate: "2026-09-01"}, {learnerId: $l, unitId: $v, startDate: "2026-09-01"}]) '
                         "{ __typename ... on Enrolments { items { unitId } } ... on ValidationError { message } } }",
                 {"l": learner, "u": content_ids["B13"], "v": content_ids["CS 39"]},
                 auth("centre_admin_a"))["data"]["enrolLearners"]
    assert answer["__typename"] == "ValidationError" and answer["message"].startswith("enrolments[1]: ")
    answer = gql(client, "mutation($l: UUID!, $u: UUID!, $v: UUID!) { enrolLearners(input: [{learnerId: $l, "
                         'unitId: $u, startDate: "2026-09-01"}, {learnerId: $l, unitId: $v, startDate: "2026-09-01"}]) '
                         "{ ... on Enrolments { items { unitId } } } }",
                 {"l": learner, "u": content_ids["B13"], "v": content_ids["CS 34"]},
                 auth("centre_admin_a"))["data"]["enrolLearners"]
    assert [e["unitId"] for e in answer["items"]] == [content_ids["B13"], content_ids["CS 34"]]
