"""An assessor signs off many criteria of one enrolment in one request: all or none, each decision under every rule
of a single decision, idempotent with an Idempotency-Key, with a result per criterion, through REST and GraphQL."""

import uuid

from tests.graphql_helpers import gql
from tests.tracking_helpers import criteria_of, enrol, make_learner


def enrolment_on_b13(client, auth, identities, content_ids, **roles) -> tuple[str, list[str]]:
    learner = make_learner(client, auth, identities)
    enrolment = enrol(client, auth, identities, learner["id"], content_ids["B13"], **roles)
    return enrolment["id"], criteria_of(client, content_ids["B13"])


def batch(criteria, **extra) -> dict:
    return {"decisions": [{"criterion_id": c, "outcome": "met", "feedback": f"seen {n}", **extra}
                          for n, c in enumerate(criteria)]}


def recorded(client, auth, enrolment_id) -> list[dict]:
    answer = client.get(f"/v1/enrolments/{enrolment_id}/decisions", headers=auth("assessor_a"))
    assert answer.status_code == 200
    return answer.get_json()["items"]


def test_a_unit_s_worth_of_decisions_in_one_request(client, auth, identities, content_ids):
    enrolment_id, criteria = enrolment_on_b13(client, auth, identities, content_ids)
    answer = client.post(f"/v1/enrolments/{enrolment_id}/decisions/batch", json=batch(criteria),
                         headers=auth("assessor_a"))
    assert answer.status_code == 201, answer.get_json()
    items = answer.get_json()["items"]
    assert [(d["criterion_id"], d["outcome"], d["feedback"]) for d in items] == [
        (c, "met", f"seen {n}") for n, c in enumerate(criteria)]  # one result per criterion, in the order sent
    assert sorted(d["id"] for d in recorded(client, auth, enrolment_id)) == sorted(d["id"] for d in items)
    progress = client.get(f"/v1/enrolments/{enrolment_id}/progress", headers=auth("assessor_a")).get_json()
    assert progress["met"] == len(criteria) and progress["complete"] is True


def test_one_decision_refused_refuses_the_batch_and_says_which(client, auth, identities, content_ids):
    enrolment_id, criteria = enrolment_on_b13(client, auth, identities, content_ids)
    url = f"/v1/enrolments/{enrolment_id}/decisions/batch"
    wrong = batch(criteria[:3])
    wrong["decisions"][2]["criterion_id"] = str(uuid.uuid4())  # not a criterion of the enrolment's unit version
    answer = client.post(url, json=wrong, headers=auth("assessor_a"))
    assert answer.status_code == 422 and answer.mimetype == "application/problem+json"
    assert list(answer.get_json()["errors"]) == ["decisions[2].criterion_id"], answer.get_json()
    assert recorded(client, auth, enrolment_id) == []  # the first two were not kept either

    assert client.post(url, json=batch(criteria[:1]), headers=auth("assessor_a")).status_code == 201
    again = client.post(url, json=batch(criteria[:2]), headers=auth("assessor_a"))  # supersedes without a reason
    assert again.status_code == 422 and list(again.get_json()["errors"]) == ["decisions[0].reason"]
    twice = client.post(url, json=batch([criteria[1], criteria[2], criteria[1]]), headers=auth("assessor_a"))
    assert twice.status_code == 422 and list(twice.get_json()["errors"]) == ["decisions[2].criterion_id"]
    unassigned = client.post(url, json=batch(criteria[1:3]), headers=auth("assessor_b"))
    assert unassigned.status_code == 404  # another centre's assessor: the enrolment is not theirs to see
    assert len(recorded(client, auth, enrolment_id)) == 1
    for body in ({"decisions": []}, batch([str(uuid.uuid4())] * 101), {"decisions": "all"}, [], {}):
        refused = client.post(url, json=body, headers=auth("assessor_a"))
        assert refused.status_code in (400, 422) and refused.mimetype == "application/problem+json", body
    assert len(recorded(client, auth, enrolment_id)) == 1


def test_a_retried_batch_is_recorded_once(client, auth, identities, content_ids):
    enrolment_id, criteria = enrolment_on_b13(client, auth, identities, content_ids)
    headers = {**auth("assessor_a"), "Idempotency-Key": f"batch-{uuid.uuid4().hex}"}
    url = f"/v1/enrolments/{enrolment_id}/decisions/batch"
    first = client.post(url, json=batch(criteria[:4]), headers=headers)
    second = client.post(url, json=batch(criteria[:4]), headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.get_json() == first.get_json()
    assert len(recorded(client, auth, enrolment_id)) == 4


def test_graphql_records_a_batch_as_rest_does(client, auth, identities, content_ids):
    rest_id, criteria = enrolment_on_b13(client, auth, identities, content_ids)
    graphql_id, _ = enrolment_on_b13(client, auth, identities, content_ids)
    rest = client.post(f"/v1/enrolments/{rest_id}/decisions/batch", json=batch(criteria[:3]),
                       headers=auth("assessor_a")).get_json()["items"]
    mutation = ("mutation($id: UUID!, $decisions: [RecordDecisionInput!]!) { recordDecisions(enrolmentId: $id, "
                "decisions: $decisions) { __typename ... on DecisionBatch { items { criterionId outcome feedback "
                "sequence } } ... on ValidationError { fields { field messages } } } }")
    inputs = [{"criterionId": d["criterion_id"], "outcome": "MET", "feedback": d["feedback"]}
              for d in batch(criteria[:3])["decisions"]]
    body = gql(client, mutation, {"id": graphql_id, "decisions": inputs}, auth("assessor_a"))
    items = body["data"]["recordDecisions"]["items"]
    assert [(i["criterionId"], i["outcome"], i["feedback"], i["sequence"]) for i in items] == [
        (d["criterion_id"], d["outcome"].upper(), d["feedback"], d["sequence"]) for d in rest]
    twice = [{**inputs[0], "criterionId": criteria[3]}, {**inputs[1], "criterionId": criteria[3]}]
    refused = gql(client, mutation, {"id": graphql_id, "decisions": twice}, auth("assessor_a"))
    assert refused["data"]["recordDecisions"]["fields"][0]["field"] == "decisions[1].criterion_id"
