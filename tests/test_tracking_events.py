"""Tracking events join content events in one ordered feed (GET /v1/changes): a learner's decisions, the criteria,
outcomes, units and qualifications they complete and un-complete, IQA, enrolments and learners. Each event is seen
by exactly those who may see its subject, carries ids and hrefs and no personal data, and can be filtered by type,
unit, centre, learner and time."""

import json
import urllib.parse

from api.services.content.loader import load_path
from tests.conftest import PROJECT_ROOT
from tests.tracking_helpers import criteria_of, enrol, make_learner, post


def events(client, auth, caller="centre_admin_a", **query) -> list[dict]:
    """Every event the caller sees with these filters, following next_cursor to the end."""
    found, cursor = [], None
    while True:
        params = {**query, "limit": 7, **({"since": cursor} if cursor else {})}
        answer = client.get(f"/v1/changes?{urllib.parse.urlencode(params)}", headers=auth(caller) if caller else {})
        assert answer.status_code == 200, answer.get_json()
        page = answer.get_json()
        found += page["items"]
        if not page["items"]:
            return found
        cursor = page["next_cursor"]


def sign_off(client, auth, enrolment_id, criteria, outcome="met", reason=None, caller="assessor_a"):
    body = {"decisions": [{"criterion_id": c, "outcome": outcome, "feedback": "seen",
                           **({"reason": reason} if reason else {})} for c in criteria]}
    return post(client, auth, caller, f"/v1/enrolments/{enrolment_id}/decisions/batch", body)["items"]


def outcomes_of(client, unit_id) -> dict:
    """{outcome id: [criterion ids]} of the unit's current version."""
    unit = client.get(f"/v1/units/{unit_id}").get_json()
    return {o["id"]: [c["id"] for c in o["criteria"]] for o in unit["learning_outcomes"]}


def test_signing_off_a_unit_tells_the_feed_each_step_in_order(client, auth, identities, content_ids):
    learner = make_learner(client, auth, identities)
    enrolment = enrol(client, auth, identities, learner["id"], content_ids["B13"])
    criteria = criteria_of(client, content_ids["B13"])
    decisions = sign_off(client, auth, enrolment["id"], criteria)

    seen = events(client, auth, learner_id=learner["id"])
    types = [e["type"] for e in seen]
    assert types[:2] == ["learner.created", "enrolment.created"]
    assert [e["subject_id"] for e in seen if e["type"] == "decision.recorded"] == [d["id"] for d in decisions]
    assert [e["subject_id"] for e in seen if e["type"] == "criterion.met"] == criteria
    outcomes = outcomes_of(client, content_ids["B13"])
    completed = [e["subject_id"] for e in seen if e["type"] == "outcome.completed"]
    assert sorted(completed) == sorted(outcomes)
    position = {(e["type"], e["subject_id"]): n for n, e in enumerate(seen)}
    for outcome in completed:  # an outcome completes right after its last criterion is met
        last_met = max(position["criterion.met", c] for c in outcomes[outcome])
        assert position["outcome.completed", outcome] == last_met + 1
    assert types[-1] == "enrolment.completed" and types.count("enrolment.completed") == 1
    assert len({s["cursor"] for s in seen}) == len(seen)
    for event in seen:
        assert event["centre_id"] == str(identities.centres["A"].id) and event["learner_id"] == learner["id"]
        assert event["actor"].startswith("account:") and event["owner"] is None and event["status"] is None
        if event["type"] != "learner.created":
            assert event["enrolment_id"] == enrolment["id"] and event["unit_id"] == content_ids["B13"]
    for event in {e["type"]: e for e in seen}.values():  # every kind of href answers its reader
        assert client.get(event["href"], headers=auth("centre_admin_a")).status_code == 200, event
    text = json.dumps(seen)
    assert learner["uln"] not in text and "Lovelace" not in text and "Ada" not in text  # ids, no personal data


def test_a_superseding_decision_takes_back_what_it_undoes(client, auth, identities, content_ids):
    learner = make_learner(client, auth, identities)
    enrolment = enrol(client, auth, identities, learner["id"], content_ids["B13"])
    criteria = criteria_of(client, content_ids["B13"])
    first = sign_off(client, auth, enrolment["id"], criteria)
    start = events(client, auth, learner_id=learner["id"])[-1]["cursor"]
    [again] = sign_off(client, auth, enrolment["id"], criteria[:1], outcome="not_yet_met", reason="misread")
    outcome = next(o for o, cs in outcomes_of(client, content_ids["B13"]).items() if criteria[0] in cs)
    later = client.get(f"/v1/changes?since={start}", headers=auth("centre_admin_a")).get_json()["items"]
    assert [(e["type"], e["subject_id"]) for e in later] == [
        ("decision.recorded", again["id"]), ("decision.superseded", first[0]["id"]),
        ("criterion.unmet", criteria[0]), ("outcome.uncompleted", outcome),
        ("enrolment.uncompleted", enrolment["id"])]


def test_iqa_and_countersignature_events(client, auth, identities, content_ids):
    learner = make_learner(client, auth, identities)
    enrolment = enrol(client, auth, identities, learner["id"], content_ids["B13"],
                      assessors=("assessor_a", "trainee_assessor_a"))
    criterion = criteria_of(client, content_ids["B13"])[0]
    [by_trainee] = sign_off(client, auth, enrolment["id"], [criterion], caller="trainee_assessor_a")
    post(client, auth, "assessor_a", f"/v1/decisions/{by_trainee['id']}/countersign", None, status=200)
    sample = post(client, auth, "iqa_a", "/v1/iqa/samples", {"decision_id": by_trainee["id"]})
    post(client, auth, "iqa_a", f"/v1/iqa/samples/{sample['id']}/verdict",
         {"verdict": "not_confirmed", "actions": "observe again"}, status=200)
    seen = [(e["type"], e["subject_id"]) for e in events(client, auth, learner_id=learner["id"])][2:]
    assert seen == [("decision.recorded", by_trainee["id"]),  # a trainee's decision: not in effect, nothing met
                    ("decision.countersigned", by_trainee["id"]), ("criterion.met", criterion),
                    ("iqa.sampled", sample["id"]), ("iqa.verdict_recorded", sample["id"]),
                    ("criterion.unmet", criterion)]


def test_a_qualification_completes_with_its_last_unit_and_uncompletes(client, auth, identities, content_ids):
    assert load_path(PROJECT_ROOT / "tests" / "fixtures" / "qualification.yaml").ok
    qualification = client.get("/v1/qualifications").get_json()["items"][0]["id"]
    learner = make_learner(client, auth, identities)
    b13 = enrol(client, auth, identities, learner["id"], content_ids["B13"])
    cs34 = enrol(client, auth, identities, learner["id"], content_ids["CS 34"])
    sign_off(client, auth, b13["id"], criteria_of(client, content_ids["B13"]))
    assert "qualification.completed" not in [e["type"] for e in events(client, auth, learner_id=learner["id"])]
    cs34_criteria = criteria_of(client, content_ids["CS 34"])
    sign_off(client, auth, cs34["id"], cs34_criteria)
    progress = client.get(f"/v1/learners/{learner['id']}/qualifications/{qualification}/progress",
                          headers=auth("centre_admin_a")).get_json()
    assert progress["achieved"] is True
    sign_off(client, auth, cs34["id"], cs34_criteria[:1], outcome="referred", reason="copied work")
    tail = [(e["type"], e["subject_id"]) for e in events(client, auth, learner_id=learner["id"])
            if e["type"].startswith(("enrolment.", "qualification."))]
    assert tail[-4:] == [("enrolment.completed", cs34["id"]), ("qualification.completed", qualification),
                         ("enrolment.uncompleted", cs34["id"]), ("qualification.uncompleted", qualification)]
    event = next(e for e in events(client, auth, type="qualification.completed", learner_id=learner["id"]))
    assert client.get(event["href"], headers=auth("centre_admin_a")).get_json()["qualification_id"] == qualification


def test_each_event_is_seen_by_exactly_those_who_may_see_its_subject(client, auth, identities, content_ids):
    learner = make_learner(client, auth, identities)
    enrolment = enrol(client, auth, identities, learner["id"], content_ids["B13"])
    sign_off(client, auth, enrolment["id"], criteria_of(client, content_ids["B13"])[:1])
    mine = {e["cursor"] for e in events(client, auth, "admin", learner_id=learner["id"])}
    assert len(mine) >= 4  # learner.created, enrolment.created, decision.recorded, criterion.met (outcome...)
    for caller in ("centre_admin_a", "assessor_a", "iqa_a", "lms_client_a"):
        assert mine <= {e["cursor"] for e in events(client, auth, caller)}, caller
    for caller in ("centre_admin_b", "assessor_b", "author_ocr", None, "learner_a"):
        assert not mine & {e["cursor"] for e in events(client, auth, caller)}, caller
        assert events(client, auth, caller, learner_id=learner["id"]) == [], caller
    assert not [e for e in events(client, auth, None) if e["centre_id"] is not None]  # anonymous: content only


def test_filters_by_type_unit_centre_learner_and_time(client, auth, identities, content_ids):
    learner = make_learner(client, auth, identities)
    enrolment = enrol(client, auth, identities, learner["id"], content_ids["B13"])
    criteria = criteria_of(client, content_ids["B13"])
    everything = events(client, auth, learner_id=learner["id"])
    sign_off(client, auth, enrolment["id"], criteria[:2])
    decisions = events(client, auth, type="decision.*", learner_id=learner["id"])
    assert [e["type"] for e in decisions] == ["decision.recorded"] * 2
    both = events(client, auth, type="criterion.met,enrolment.created", learner_id=learner["id"])
    assert [e["type"] for e in both] == ["enrolment.created", "criterion.met", "criterion.met"]
    centre = str(identities.centres["A"].id)
    assert {e["centre_id"] for e in events(client, auth, centre_id=centre)} == {centre}
    by_unit = events(client, auth, "admin", unit_id=content_ids["B13"])
    assert {e["unit_id"] for e in by_unit} == {content_ids["B13"]}
    assert {"unit", "decision"} <= {e["kind"] for e in by_unit}  # its versions and its learners' decisions
    first = everything[0]
    from_time = events(client, auth, learner_id=learner["id"], since=first["occurred_at"])
    assert from_time == events(client, auth, learner_id=learner["id"]) and from_time[0] == first
    assert events(client, auth, learner_id=learner["id"], since="2999-01-01T00:00:00Z") == []


def test_bad_filters_are_400_problems(client, auth):
    for query in ("type=decision.made", "type=decision.*,nonsense", "type=", "since=2026-13-01T00:00:00Z",
                  "since=2026-12-01T00:00:00", "since=0001-01-01T00:00:00%2B01:00", "centre_id=nope",
                  "since=not-a-cursor"):
        answer = client.get(f"/v1/changes?{query}", headers=auth("centre_admin_a"))
        assert answer.status_code == 400 and answer.mimetype == "application/problem+json", query
