"""Decisions and evidence kept in sync by an integration (an LMS, an e-portfolio): GET /v1/decisions and
GET /v1/evidence (decisions and evidenceItems in GraphQL) with sort=updated_at from updated_since. A decision comes
again when it is countersigned, sampled or given a verdict, and evidence when it gets a new claim; pages neither
repeat nor skip; another centre's records never show."""

from datetime import datetime

import pytest

from tests.graphql_helpers import gql
from tests.real_writes.test_assessment_rules import PROBLEM, decide, submit
from tests.tracking_helpers import criteria_of, enrol, make_learner, post

OLD, SINCE = datetime(2020, 1, 1), "2021-01-01T00:00:00Z"  # records backdated to OLD are before SINCE


def backdate(model, ids) -> None:
    """Make records look made (and last changed) long ago, so a later change is told apart by updated_since."""
    model.update(created_at=OLD, updated_at=OLD).where(model.id.in_(list(ids))).execute()


def listed(client, auth, path, query, caller="lms_client_a", cursor=None) -> list[dict]:
    """Every item of ``path?query`` (from ``cursor``), following next_cursor to the end."""
    items = []
    while True:
        url = f"{path}?{query}" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(url, headers=auth(caller))
        assert response.status_code == 200, response.get_data(as_text=True)
        page = response.get_json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def ids_of(items) -> list[str]:
    return [item["id"] for item in items]


def test_a_decision_comes_again_when_countersigned_sampled_and_given_a_verdict(client, auth, b13):
    from api.models import Decision

    decision = decide(client, auth, b13, caller="trainee_assessor_a")
    assert decision["updated_at"] == decision["decided_at"]
    backdate(Decision, [decision["id"]])
    query = f"enrolment_id={b13['enrolment']}&sort=updated_at&updated_since={SINCE}"
    assert listed(client, auth, "/v1/decisions", query) == []

    post(client, auth, "assessor_a", f"/v1/decisions/{decision['id']}/countersign", None, status=200)
    [signed] = listed(client, auth, "/v1/decisions", query)
    assert (signed["id"], signed["in_effect"]) == (decision["id"], True)
    assert signed["updated_at"] >= signed["countersigned_at"] > SINCE > signed["decided_at"]

    backdate(Decision, [decision["id"]])
    sample = post(client, auth, "iqa_a", "/v1/iqa/samples", {"decision_id": decision["id"]})
    assert ids_of(listed(client, auth, "/v1/decisions", query)) == [decision["id"]]

    backdate(Decision, [decision["id"]])
    post(client, auth, "iqa_a", f"/v1/iqa/samples/{sample['id']}/verdict", {"verdict": "confirmed"}, status=200)
    [verdicted] = listed(client, auth, "/v1/decisions", query)
    assert verdicted["id"] == decision["id"] and verdicted["updated_at"] > "2021"
    one = client.get(f"/v1/decisions/{decision['id']}", headers=auth("lms_client_a")).get_json()
    assert verdicted == one  # listed as it reads alone


def test_evidence_comes_again_when_it_gets_a_new_claim(client, auth, b13):
    from api.models import Evidence

    evidence = submit(client, auth, b13["enrolment"])
    assert evidence["updated_at"] == evidence["created_at"]
    backdate(Evidence, [evidence["id"]])
    query = f"enrolment_id={b13['enrolment']}&updated_since={SINCE}"  # updated_at order: the default with it
    assert listed(client, auth, "/v1/evidence", query) == []

    post(client, auth, "lms_client_a", f"/v1/evidence/{evidence['id']}/claims",
         {"criterion_ids": [b13["criteria"][0]]}, status=200)
    [claimed] = listed(client, auth, "/v1/evidence", query)
    assert claimed["id"] == evidence["id"] and claimed["updated_at"] > claimed["created_at"]
    assert [c["criterion_id"] for c in claimed["claims"]] == [b13["criteria"][0]]

    backdate(Evidence, [evidence["id"]])
    post(client, auth, "lms_client_a", f"/v1/evidence/{evidence['id']}/claims",
         {"criterion_ids": [b13["criteria"][0]]}, status=200)  # already claimed: nothing new, no change
    assert listed(client, auth, "/v1/evidence", query) == []


def test_pages_in_updated_at_order_neither_repeat_nor_skip_while_decisions_change(client, auth, b13):
    made = [decide(client, auth, b13, caller="trainee_assessor_a", criterion=c)["id"] for c in b13["criteria"][:5]]
    query = f"enrolment_id={b13['enrolment']}&sort=updated_at&limit=2"
    whole = ids_of(listed(client, auth, "/v1/decisions", query.replace("limit=2", "limit=500")))
    assert whole == made  # made one after another: updated_at order is the order they were made
    assert ids_of(listed(client, auth, "/v1/decisions", query)) == made

    first = client.get(f"/v1/decisions?{query}", headers=auth("lms_client_a")).get_json()
    assert ids_of(first["items"]) == made[:2]
    for decision_id in (made[0], made[3]):  # one already given, one still ahead
        post(client, auth, "assessor_a", f"/v1/decisions/{decision_id}/countersign", None, status=200)
    rest = listed(client, auth, "/v1/decisions", query, cursor=first["next_cursor"])
    states = [(d["id"], d["countersigned_at"]) for d in first["items"] + rest]
    assert len(states) == len(set(states))  # no (decision, state) twice
    assert ids_of(rest) == [made[2], made[4], made[0], made[3]]  # the changed ones after the rest, in order
    assert {d["id"] for d in first["items"] + rest} == set(made)


def test_created_at_order_is_the_default_and_filters_narrow(client, auth, b13):
    from api.models import Decision

    made = [decide(client, auth, b13, criterion=c)["id"] for c in b13["criteria"][:3]]
    backdate(Decision, made[:1])  # created long ago: first by created_at, and before SINCE
    by_enrolment = f"enrolment_id={b13['enrolment']}"
    assert ids_of(listed(client, auth, "/v1/decisions", by_enrolment)) == made
    assert ids_of(listed(client, auth, "/v1/decisions", f"{by_enrolment}&sort=created_at")) == made
    assert ids_of(listed(client, auth, "/v1/decisions", f"{by_enrolment}&updated_since={SINCE}")) == made[1:]
    assert ids_of(listed(client, auth, "/v1/decisions", f"learner_id={b13['learner']}")) == made
    assert made[0] in ids_of(listed(client, auth, "/v1/decisions", "limit=500&sort=created_at"))
    assert listed(client, auth, "/v1/decisions", f"{by_enrolment}&updated_since=2999-01-01T00:00:00Z") == []


def _centre_b_records(client, auth, identities, unit_ids) -> dict:
    """Centre B's learner with an enrolment, a piece of evidence and a decision."""
    centre_b = str(identities.centres["B"].id)
    learner = post(client, auth, "centre_admin_b", "/v1/learners", {
        "centre_id": centre_b, "uln": "9999999999", "given_name": "Grace", "family_name": "Hopper"})["id"]
    enrolment = post(client, auth, "centre_admin_b", "/v1/enrolments", {
        "learner_id": learner, "unit_id": unit_ids["B13"], "start_date": "2026-09-01",
        "assessor_ids": [str(identities.accounts["assessor_b"].id)]})["id"]
    evidence = submit(client, auth, enrolment, caller="centre_admin_b")["id"]
    decision = post(client, auth, "assessor_b", f"/v1/enrolments/{enrolment}/decisions", {
        "criterion_id": criteria_of(client, unit_ids["B13"])[0], "outcome": "met", "feedback": "f"})["id"]
    return {"centre": centre_b, "learner": learner, "enrolment": enrolment, "evidence": evidence,
            "decision": decision}


def test_another_centre_s_records_are_never_listed(client, auth, identities, unit_ids, b13):
    mine = decide(client, auth, b13)["id"]
    theirs = _centre_b_records(client, auth, identities, unit_ids)
    for caller in ("centre_admin_a", "assessor_a", "iqa_a", "lms_client_a", "learner_a"):
        for path, record in (("/v1/decisions", theirs["decision"]), ("/v1/evidence", theirs["evidence"])):
            for query in ("limit=500", f"centre_id={theirs['centre']}", f"enrolment_id={theirs['enrolment']}",
                          f"learner_id={theirs['learner']}", f"sort=updated_at&updated_since={SINCE}&limit=500"):
                assert record not in ids_of(listed(client, auth, path, query, caller)), (caller, path, query)
    assert theirs["decision"] in ids_of(listed(client, auth, "/v1/decisions", "limit=500", "centre_admin_b"))
    assert mine not in ids_of(listed(client, auth, "/v1/decisions", "limit=500", "centre_admin_b"))
    assert {mine, theirs["decision"]} <= set(ids_of(listed(client, auth, "/v1/decisions", "limit=500", "admin")))


def test_a_learner_lists_only_their_own_records(app, client, auth, identities, unit_ids, b13):
    from api.services import accounts
    from tests.conftest import TEST_PASSWORD
    from tests.tracking_helpers import bearer

    mine = decide(client, auth, b13)["id"]
    other = enrol(client, auth, identities, make_learner(client, auth, identities)["id"], unit_ids["B13"])["id"]
    not_mine = post(client, auth, "assessor_a", f"/v1/enrolments/{other}/decisions", {
        "criterion_id": b13["criteria"][0], "outcome": "met", "feedback": "f"})["id"]
    account = accounts.create_account(f"sync.{b13['learner']}@example.test", TEST_PASSWORD, roles=["learner"],
                                      centres=["A"], learner_id=b13["learner"])
    seen = client.get("/v1/decisions?limit=500", headers=bearer(app, account)).get_json()["items"]
    assert mine in ids_of(seen) and not_mine not in ids_of(seen)
    assert {d["enrolment_id"] for d in seen} == {b13["enrolment"]}


GRAPHQL = """query($e: UUID!, $after: String) {
  decisions(enrolmentId: $e, sort: "updated_at", updatedSince: "2000-01-01T00:00:00Z", first: 2, after: $after) {
    nodes { id updatedAt countersignedAt } pageInfo { hasNextPage endCursor } }
  evidenceItems(enrolmentId: $e, sort: "updated_at", first: 50) { nodes { id updatedAt claims { criterionId } } }
}"""


def test_rest_and_graphql_list_the_same_records(client, auth, b13):
    for criterion in b13["criteria"][:3]:
        decide(client, auth, b13, caller="trainee_assessor_a", criterion=criterion)
    evidence = submit(client, auth, b13["enrolment"], b13["criteria"][:1])["id"]
    graph, after = [], None
    while True:
        data = gql(client, GRAPHQL, {"e": b13["enrolment"], "after": after}, auth("lms_client_a"))["data"]
        graph += data["decisions"]["nodes"]
        if not data["decisions"]["pageInfo"]["hasNextPage"]:
            break
        after = data["decisions"]["pageInfo"]["endCursor"]
    query = f"enrolment_id={b13['enrolment']}&sort=updated_at&updated_since=2000-01-01T00:00:00Z&limit=2"
    rest = listed(client, auth, "/v1/decisions", query)
    assert [(d["id"], d["updated_at"], d["countersigned_at"]) for d in rest] == \
        [(d["id"], d["updatedAt"], d["countersignedAt"]) for d in graph]
    assert [e["id"] for e in data["evidenceItems"]["nodes"]] == \
        ids_of(listed(client, auth, "/v1/evidence", f"enrolment_id={b13['enrolment']}&sort=updated_at")) == [evidence]


@pytest.mark.parametrize("path", ["/v1/decisions", "/v1/evidence"])
@pytest.mark.parametrize("query, parameter", [
    ("updated_since=yesterday", "updated_since"), ("updated_since=2026-13-01T00:00:00Z", "updated_since"),
    ("sort=name", "sort"), ("sort=decided_at", "sort"), ("enrolment_id=not-a-uuid", "enrolment_id"),
    ("cursor=forged", "cursor"), ("limit=0", "limit"), ("criterion_id=" + "0" * 32, "criterion_id")])
def test_bad_parameters_are_a_400_problem(client, auth, path, query, parameter):
    response = client.get(f"{path}?{query}", headers=auth("lms_client_a"))
    assert (response.status_code, response.mimetype) == (400, PROBLEM), response.get_data(as_text=True)
    assert parameter in response.get_json()["errors"]


def test_graphql_refuses_a_bad_sort_or_updated_since(client, auth):
    for field in ("decisions", "evidenceItems"):
        for arguments in ('sort: "name"', 'updatedSince: "2026-13-01T00:00:00Z"'):
            body = gql(client, f"{{ {field}({arguments}) {{ totalCount }} }}", headers=auth("lms_client_a"),
                       expect_errors=True)
            assert body["errors"] and not body.get("data"), body
