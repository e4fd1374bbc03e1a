"""An enrolment's staff as a sub-resource: listed, assigned and unassigned one at a time (REST and GraphQL), each
change a new version of the enrolment, audited and in the feed; only the centre's admins and tracking:write clients
change it, and only to the centre's own assessors and IQAs."""

from tests.graphql_helpers import gql
from tests.tracking_helpers import enrol, make_learner, post


def staff(client, auth, enrolment_id, caller="centre_admin_a") -> set[tuple[str, str]]:
    answer = client.get(f"/v1/enrolments/{enrolment_id}/staff", headers=auth(caller))
    assert answer.status_code == 200, answer.get_json()
    return {(s["account_id"], s["role"]) for s in answer.get_json()["items"]}


def test_assign_and_unassign_one_at_a_time(client, auth, identities, content_ids):
    learner = make_learner(client, auth, identities)
    enrolment = enrol(client, auth, identities, learner["id"], content_ids["B13"], iqas=())
    url = f"/v1/enrolments/{enrolment['id']}/staff"
    assessor, trainee, iqa = (str(identities.accounts[n].id) for n in ("assessor_a", "trainee_assessor_a", "iqa_a"))
    assert staff(client, auth, enrolment["id"]) == {(assessor, "assessor")}
    etag = client.get(f"/v1/enrolments/{enrolment['id']}", headers=auth("centre_admin_a")).headers["ETag"]

    made = client.post(url, json={"account_id": trainee, "role": "assessor"}, headers=auth("lms_client_a"))
    assert made.status_code == 201 and made.headers["Location"] == made.get_json()["href"]
    again = client.post(url, json={"account_id": trainee, "role": "assessor"}, headers=auth("centre_admin_a"))
    assert again.status_code == 200 and again.get_json() == made.get_json()  # already assigned: nothing changes
    post(client, auth, "centre_admin_a", url, {"account_id": iqa, "role": "iqa"})
    assert staff(client, auth, enrolment["id"]) == {(assessor, "assessor"), (trainee, "assessor"), (iqa, "iqa")}
    shown = client.get(f"/v1/enrolments/{enrolment['id']}", headers=auth("centre_admin_a"))
    assert shown.headers["ETag"] != etag and shown.get_json()["iqa_ids"] == [iqa]
    patch = client.patch(f"/v1/enrolments/{enrolment['id']}", json={"planned_end_date": "2027-09-01"},
                         headers={**auth("centre_admin_a"), "If-Match": etag})
    assert patch.status_code == 412  # a staff change is a new version: a PATCH from before it is refused

    gone = client.delete(made.get_json()["href"], headers=auth("centre_admin_a"))
    assert gone.status_code == 204
    assert client.delete(made.get_json()["href"], headers=auth("centre_admin_a")).status_code == 404
    assert staff(client, auth, enrolment["id"]) == {(assessor, "assessor"), (iqa, "iqa")}
    assert client.post(f"/v1/enrolments/{enrolment['id']}/decisions", json={
        "criterion_id": client.get(f"/v1/units/{content_ids['B13']}").get_json()["learning_outcomes"][0]["criteria"][0]
        ["id"], "outcome": "met", "feedback": "f"}, headers=auth("trainee_assessor_a")).status_code == 403

    audit = client.get(f"/v1/audit?subject_id={enrolment['id']}", headers=auth("centre_admin_a")).get_json()["items"]
    actions = [e["action"] for e in audit if e["action"].startswith("enrolment.staff_")]
    assert actions == ["enrolment.staff_added", "enrolment.staff_added", "enrolment.staff_removed"]
    events = client.get(f"/v1/changes?type=enrolment.updated&learner_id={learner['id']}",
                        headers=auth("centre_admin_a")).get_json()["items"]
    assert len(events) == 3 and {e["subject_id"] for e in events} == {enrolment["id"]}


def test_who_may_and_whom(client, auth, identities, content_ids):
    learner = make_learner(client, auth, identities)
    enrolment = enrol(client, auth, identities, learner["id"], content_ids["B13"])
    url = f"/v1/enrolments/{enrolment['id']}/staff"
    trainee = str(identities.accounts["trainee_assessor_a"].id)
    for caller, status in (("assessor_a", 403), ("iqa_a", 403), ("centre_admin_b", 404), ("learner_a", 404),
                           (None, 401)):
        answer = client.post(url, json={"account_id": trainee, "role": "assessor"}, headers=auth(caller))
        assert answer.status_code == status, (caller, answer.get_json())
    for account, role in ((str(identities.accounts["assessor_b"].id), "assessor"),  # another centre's
                          (str(identities.accounts["iqa_a"].id), "assessor"),  # not an assessor
                          (trainee, "admin")):
        answer = client.post(url, json={"account_id": account, "role": role}, headers=auth("centre_admin_a"))
        assert answer.status_code == 422 and answer.mimetype == "application/problem+json", (account, role)
    assert client.delete(f"{url}/{trainee}", headers=auth("centre_admin_a")).status_code == 404  # not assigned
    assert client.delete(f"{url}/{identities.accounts['assessor_a'].id}?role=iqa",
                         headers=auth("centre_admin_a")).status_code == 404  # an assessor here, not an IQA
    assert client.delete(f"{url}/{identities.accounts['assessor_a'].id}",
                         headers=auth("centre_admin_a")).status_code == 204  # from every role


def test_graphql_assigns_and_unassigns(client, auth, identities, content_ids):
    learner = make_learner(client, auth, identities)
    enrolment = enrol(client, auth, identities, learner["id"], content_ids["B13"])
    trainee = str(identities.accounts["trainee_assessor_a"].id)
    variables = {"e": enrolment["id"], "a": trainee}
    assigned = gql(client, "mutation($e: UUID!, $a: UUID!) { assignEnrolmentStaff(enrolmentId: $e, accountId: $a, "
                           "role: ASSESSOR) { ... on Enrolment { assessorIds staff { accountId role } } } }",
                   variables, auth("centre_admin_a"))["data"]["assignEnrolmentStaff"]
    assert trainee in assigned["assessorIds"] and {"accountId": trainee, "role": "ASSESSOR"} in assigned["staff"]
    refused = gql(client, "mutation($e: UUID!, $a: UUID!) { unassignEnrolmentStaff(enrolmentId: $e, accountId: $a) "
                          "{ __typename } }", variables, auth("assessor_a"))["data"]["unassignEnrolmentStaff"]
    assert refused["__typename"] == "Forbidden"
    unassigned = gql(client, "mutation($e: UUID!, $a: UUID!) { unassignEnrolmentStaff(enrolmentId: $e, "
                             "accountId: $a) { ... on Enrolment { assessorIds } } }",
                     variables, auth("centre_admin_a"))["data"]["unassignEnrolmentStaff"]
    assert trainee not in unassigned["assessorIds"]
