"""The whole assessment loop on the seeded CS 34: enrol, evidence, claims, decisions (with a supersede and a
countersign), IQA with a not_confirmed verdict, a new decision, and progress reaching complete."""


from tests.query_counting import count_work
from tests.tracking_helpers import criteria_of, enrol, make_learner, post


def progress(client, auth, enrolment_id, caller="assessor_a"):
    response = client.get(f"/v1/enrolments/{enrolment_id}/progress", headers=auth(caller))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def state(document, criterion_id):
    return next(c for o in document["learning_outcomes"] for c in o["criteria"] if c["criterion_id"] == criterion_id)


def test_assessment_loop_reaches_complete(client, auth, identities, unit_ids):
    learner = make_learner(client, auth, identities)
    enrolment = enrol(client, auth, identities, learner["id"], unit_ids["CS 34"],
                      assessors=("assessor_a", "trainee_assessor_a"))
    eid = enrolment["id"]
    criteria = criteria_of(client, unit_ids["CS 34"])
    assert len(criteria) == 28
    assert progress(client, auth, eid)["met"] == 0
    centre_url = f"/v1/centres/{identities.centres['A'].id}/progress"
    centre_before = client.get(centre_url, headers=auth("centre_admin_a")).get_json()

    evidence = post(client, auth, "lms_client_a", f"/v1/enrolments/{eid}/evidence", {
        "type": "professional_discussion", "title": "Discussion with line manager", "date": "2026-10-01",
        "reference_uri": "https://portfolio.example.test/items/42", "authenticity_declared": True,
        "criterion_ids": criteria})
    assert len(evidence["claims"]) == 28
    assert progress(client, auth, eid)["claimed"] == 28

    def decide(caller, criterion, outcome, reason=None, status=201):
        body = {"criterion_id": criterion, "outcome": outcome, "feedback": "Seen in the discussion record.",
                "evidence_ids": [evidence["id"]], **({"reason": reason} if reason else {})}
        return post(client, auth, caller, f"/v1/enrolments/{eid}/decisions", body, status=status)

    first, trainee_criterion, iqa_criterion, *rest = criteria
    decide("assessor_a", first, "not_yet_met")
    decide("assessor_a", first, "met", status=422)  # superseding needs a reason
    superseding = decide("assessor_a", first, "met", reason="Further evidence reviewed with the learner.")
    assert superseding["sequence"] == 2 and superseding["supersedes"]

    trainee = decide("trainee_assessor_a", trainee_criterion, "met")
    assert trainee["in_effect"] is False
    assert state(progress(client, auth, eid), trainee_criterion)["awaiting_countersignature"] is True
    assert state(progress(client, auth, eid), trainee_criterion)["met"] is False
    countersigned = post(client, auth, "assessor_a", f"/v1/decisions/{trainee['id']}/countersign", None, status=200)
    assert countersigned["in_effect"] is True
    assert state(progress(client, auth, eid), trainee_criterion)["met"] is True

    sampled = decide("assessor_a", iqa_criterion, "met")
    for criterion in rest:
        decide("assessor_a", criterion, "met")
    assert progress(client, auth, eid)["met"] == 28

    sample = post(client, auth, "iqa_a", "/v1/iqa/samples", {"decision_id": sampled["id"]})
    assert progress(client, auth, eid)["complete"] is False  # a sample awaits its verdict
    post(client, auth, "iqa_a", f"/v1/iqa/samples/{sample['id']}/verdict",
         {"verdict": "not_confirmed", "actions": "Observe the learner allocating resources."}, status=200)
    reopened = progress(client, auth, eid)
    assert (reopened["met"], reopened["reopened"], reopened["complete"]) == (27, 1, False)
    assert state(reopened, iqa_criterion)["reopened"] is True

    redecided = decide("assessor_a", iqa_criterion, "met", reason="Observed allocation of rotas on 12 October.")
    assert progress(client, auth, eid)["met"] == 28
    second = post(client, auth, "iqa_a", "/v1/iqa/samples", {"decision_id": redecided["id"]})
    post(client, auth, "iqa_a", f"/v1/iqa/samples/{second['id']}/verdict", {"verdict": "confirmed"}, status=200)

    final = progress(client, auth, eid)
    assert (final["met"], final["verified"], final["complete"], final["percent_met"]) == (28, 1, True, 100.0)
    assert all(o["complete"] for o in final["learning_outcomes"])

    learner_view = client.get(f"/v1/learners/{learner['id']}/progress", headers=auth("centre_admin_a")).get_json()
    assert learner_view["units_complete"] == 1
    centre = client.get(centre_url, headers=auth("centre_admin_a")).get_json()  # other tests' enrolments too
    assert (centre["enrolments"], centre["complete"]) == (centre_before["enrolments"], centre_before["complete"] + 1)

    audit = client.get("/v1/audit?subject_type=decision&limit=500", headers=auth("admin")).get_json()
    assert audit["total"] >= 31  # 30 decisions and a countersignature
    assert {e["action"] for e in audit["items"]} >= {"decision.recorded", "decision.countersigned"}


def test_progress_costs_the_same_queries_whatever_the_number_of_decisions(client, auth, identities, unit_ids):
    learner = make_learner(client, auth, identities)
    eid = enrol(client, auth, identities, learner["id"], unit_ids["CS 34"])["id"]
    criteria = criteria_of(client, unit_ids["CS 34"])

    def queries():
        with count_work() as counter:
            progress(client, auth, eid)
        return counter.count

    progress(client, auth, eid)  # the caller's token verified once, as every later request finds it
    before = queries()
    complete(client, auth, eid, criteria)
    assert queries() == before


def complete(client, auth, enrolment_id, criteria):
    evidence = post(client, auth, "lms_client_a", f"/v1/enrolments/{enrolment_id}/evidence", {
        "type": "professional_discussion", "title": "x", "date": "2026-10-01", "authenticity_declared": True,
        "criterion_ids": criteria})
    for criterion in criteria:
        post(client, auth, "assessor_a", f"/v1/enrolments/{enrolment_id}/decisions",
             {"criterion_id": criterion, "outcome": "met", "feedback": "ok", "evidence_ids": [evidence["id"]]})


def test_qualification_progress_follows_the_rules_of_combination(client, auth, identities, unit_ids):
    from api.services.content.loader import load_path
    from tests.conftest import PROJECT_ROOT

    assert load_path(PROJECT_ROOT / "tests" / "fixtures" / "qualification.yaml").ok
    qualification = client.get("/v1/qualifications?owner=ocr").get_json()["items"][0]["id"]
    learner = make_learner(client, auth, identities)["id"]
    url = f"/v1/learners/{learner}/qualifications/{qualification}/progress"

    def achieved():
        body = client.get(url, headers=auth("centre_admin_a")).get_json()
        return body["achieved"], [g["satisfied"] for g in body["groups"]], body["credits_earned"]

    assert achieved() == (False, [False, False], 0)
    made = post(client, auth, "centre_admin_a", f"/v1/learners/{learner}/qualifications/{qualification}/enrolments",
                {"start_date": "2026-09-01", "assessor_ids": [str(identities.accounts["assessor_a"].id)]})
    assert [e["unit_id"] for e in made["items"]] == [unit_ids["B13"]]  # the mandatory group's unit only
    again = post(client, auth, "centre_admin_a", f"/v1/learners/{learner}/qualifications/{qualification}/enrolments",
                 {"start_date": "2026-09-01"})
    assert again["items"] == []  # already enrolled: nothing duplicated
    b13 = made["items"][0]["id"]
    complete(client, auth, b13, criteria_of(client, unit_ids["B13"]))
    assert achieved() == (False, [True, False], 10)  # mandatory B13 done; the optional group needs one unit
    cs34 = enrol(client, auth, identities, learner, unit_ids["CS 34"])["id"]
    complete(client, auth, cs34, criteria_of(client, unit_ids["CS 34"]))
    assert achieved() == (True, [True, True], 10)
