"""Assessment rules that mutation testing (docs/mutation.md) found unguarded, through the REST API as assessors, IQAs
and centres use it. A refusal is checked by its status and its whole detail: several rules refuse with the same
status, and the detail says which rule it was."""

import uuid

import pytest

from api.services import accounts
from tests.conftest import TEST_PASSWORD
from tests.tracking_helpers import bearer, criteria_of, enrol, make_learner, post

PROBLEM = "application/problem+json"


def refused(response, status, detail, errors=None):
    """Assert a problem answer: its status, its whole detail and (if given) its per-field errors."""
    body = response.get_json()
    assert (response.status_code, response.mimetype) == (status, PROBLEM), body
    assert body["detail"] == detail, body
    if errors is not None:
        assert body["errors"] == errors, body


def submit(client, auth, enrolment, criterion_ids=(), caller="lms_client_a"):
    """Evidence of ``enrolment`` submitted by ``caller``, claimed against ``criterion_ids``."""
    return post(client, auth, caller, f"/v1/enrolments/{enrolment}/evidence", {
        "type": "observation", "title": "Observed at work", "date": "2026-10-01", "authenticity_declared": True,
        "criterion_ids": list(criterion_ids)})


def decide(client, auth, b13, caller="assessor_a", criterion=None, **body):
    """A decision recorded on ``criterion`` (B13's first by default): 201 expected."""
    return post(client, auth, caller, b13["decisions"], {
        "criterion_id": criterion or b13["criteria"][0], "outcome": "met", "feedback": "Seen at work.", **body})


def decisions_of(client, auth, enrolment):
    return client.get(f"/v1/enrolments/{enrolment}/decisions", headers=auth("admin")).get_json()["items"]


def qualified_assessor(app, email, *, centres=("A",), **extra):
    """A new qualified assessor account and request headers for it."""
    account = accounts.create_account(email, TEST_PASSWORD, roles=["assessor"], centres=list(centres),
                                      assessor_status="qualified", **extra)
    return account, bearer(app, account)


# -- who records a decision ------------------------------------------------------------------------------------------

def test_only_an_assigned_assessor_records_decisions(app, client, auth, identities, unit_ids, b13):
    body = {"criterion_id": b13["criteria"][0], "outcome": "met", "feedback": "f"}
    url = b13["decisions"]
    for caller in ("iqa_a", "centre_admin_a", "lms_client_a"):  # they see the enrolment but are not assessors
        refused(client.post(url, json=body, headers=auth(caller)), 403, "decisions are recorded by assessors")
    learner = accounts.create_account("the.learner@example.test", TEST_PASSWORD, roles=["learner"], centres=["A"],
                                      learner_id=b13["learner"])  # sees their own enrolment, decides nothing on it
    refused(client.post(url, json=body, headers=bearer(app, learner)), 403, "decisions are recorded by assessors")
    other = make_learner(client, auth, identities)["id"]
    not_assigned = enrol(client, auth, identities, other, unit_ids["B13"], assessors=("trainee_assessor_a",))["id"]
    refused(client.post(f"/v1/enrolments/{not_assigned}/decisions", json=body, headers=auth("assessor_a")), 403,
            "only an assessor assigned to this enrolment records decisions on it")
    refused(client.post(url, json=body, headers=auth("assessor_b")), 404,
            f"no enrolment {b13['enrolment']} visible to you")  # another centre's enrolment does not exist for them
    assert decisions_of(client, auth, b13["enrolment"]) == []
    assert decisions_of(client, auth, not_assigned) == []


def test_an_assessor_who_is_also_the_learner_is_refused_as_such(app, client, auth, identities, unit_ids):
    learner = make_learner(client, auth, identities)["id"]
    account, headers = qualified_assessor(app, "assessor.learner@example.test", learner_id=learner)
    body = {"learner_id": learner, "unit_id": unit_ids["B13"], "start_date": "2026-09-01",
            "assessor_ids": [str(account.id)]}
    enrolment = post(client, auth, "centre_admin_a", "/v1/enrolments", body)["id"]
    decision = {"criterion_id": criteria_of(client, unit_ids["B13"])[0], "outcome": "met", "feedback": "f"}
    refused(client.post(f"/v1/enrolments/{enrolment}/decisions", json=decision, headers=headers), 403,
            "an assessor cannot assess their own learner record")


def test_an_assessor_without_a_status_is_told_who_sets_it(client, auth, identities, b13):
    from api.models import Account

    assessor = Account.id == identities.accounts["assessor_a"].id
    Account.update(assessor_status=None).where(assessor).execute()
    try:
        response = client.post(b13["decisions"], json={"criterion_id": b13["criteria"][0], "outcome": "met",
                                                       "feedback": "f"}, headers=auth("assessor_a"))
    finally:  # the module's other tests share this account (tests/real_writes commit)
        Account.update(assessor_status="qualified").where(assessor).execute()
    refused(response, 403, "your account has no assessor status, so whether your decisions need a countersignature "
            "is unknown: an admin sets it (`qualtrack set-assessor-status`)")


def test_a_decision_is_on_a_criterion_of_the_enrolment_s_unit_version(client, auth, unit_ids, b13):
    foreign = criteria_of(client, unit_ids["CS 34"])[0]
    response = client.post(b13["decisions"], json={"criterion_id": foreign, "outcome": "met", "feedback": "f"},
                           headers=auth("assessor_a"))
    refused(response, 422, "the criterion is not in the unit version this enrolment is pinned to",
            {"criterion_id": ["not in the enrolment's unit version"]})


# -- evidence a decision cites -----------------------------------------------------------------------------------------

def test_a_decision_cites_only_evidence_claimed_against_its_criterion(client, auth, b13):
    enrolment, (first, second, *_) = b13["enrolment"], b13["criteria"]
    unclaimed = submit(client, auth, enrolment)["id"]
    for_another = submit(client, auth, enrolment, [second])["id"]
    response = client.post(b13["decisions"], headers=auth("assessor_a"), json={
        "criterion_id": first, "outcome": "met", "feedback": "f", "evidence_ids": [unclaimed, for_another]})
    refused(response, 422, "evidence considered must be claimed against the criterion first",
            {"evidence_ids": [f"{unclaimed} is not claimed against this criterion",
                              f"{for_another} is not claimed against this criterion"]})
    assert decisions_of(client, auth, enrolment) == []

    post(client, auth, "lms_client_a", f"/v1/evidence/{unclaimed}/claims", {"criterion_ids": [first]}, status=200)
    recorded = decide(client, auth, b13, evidence_ids=[unclaimed, unclaimed])  # named twice, considered once
    assert recorded["evidence_ids"] == [unclaimed]


def test_a_decision_cites_only_evidence_of_its_own_enrolment(client, auth, identities, unit_ids, b13):
    other = make_learner(client, auth, identities)["id"]
    elsewhere = enrol(client, auth, identities, other, unit_ids["B13"])["id"]
    theirs = submit(client, auth, elsewhere, [b13["criteria"][0]])["id"]
    mine = submit(client, auth, b13["enrolment"], [b13["criteria"][0]])["id"]
    response = client.post(b13["decisions"], headers=auth("assessor_a"), json={
        "criterion_id": b13["criteria"][0], "outcome": "met", "feedback": "f", "evidence_ids": [mine, theirs]})
    refused(response, 422, "evidence considered must belong to this enrolment",
            {"evidence_ids": [f"{theirs} is not evidence of this enrolment"]})
    assert decisions_of(client, auth, b13["enrolment"]) == []


# -- superseding, and what a decision records ---------------------------------------------------------------------

def test_a_superseding_decision_says_why_and_records_what_it_replaces(client, auth, b13):
    first = decide(client, auth, b13, outcome="not_yet_met", reason="a first decision supersedes nothing")
    assert (first["sequence"], first["supersedes"], first["reason"]) == (1, None, None)
    assert (first["outcome"], first["feedback"], first["assessor_status"]) == ("not_yet_met", "Seen at work.",
                                                                               "qualified")
    for without_reason in ({}, {"reason": None}):
        refused(client.post(b13["decisions"], headers=auth("assessor_a"), json={
            "criterion_id": b13["criteria"][0], "outcome": "met", "feedback": "f", **without_reason}), 422,
            "this criterion already has a decision: say why the new one supersedes it",
            {"reason": ["required when superseding a decision"]})
    second = decide(client, auth, b13, reason="Observed again on 12 October.", expected_sequence=1)
    assert (second["sequence"], second["supersedes"], second["reason"]) == (2, first["id"],
                                                                            "Observed again on 12 October.")
    stale = client.post(b13["decisions"], headers=auth("assessor_a"), json={
        "criterion_id": b13["criteria"][0], "outcome": "met", "feedback": "f", "reason": "r",
        "expected_sequence": 1})
    refused(stale, 409, "another decision was recorded on this criterion since you looked: review it first")
    assert [d["id"] for d in decisions_of(client, auth, b13["enrolment"])] == [first["id"], second["id"]]
    other_criterion = decide(client, auth, b13, criterion=b13["criteria"][1])
    assert (other_criterion["sequence"], other_criterion["supersedes"]) == (1, None)  # sequences are per criterion


# -- countersignatures ------------------------------------------------------------------------------------------------

def test_countersigning_is_for_a_qualified_assessor_other_than_the_trainee(app, client, auth, identities, b13):
    trainee = decide(client, auth, b13, caller="trainee_assessor_a")
    url = f"/v1/decisions/{trainee['id']}/countersign"
    refused(client.post(url, headers=auth("trainee_assessor_a")), 403, "only a qualified assessor countersigns")
    # The trainee qualifies: still not a countersigner of the decisions they made as a trainee.
    admin = accounts.principal_from_claims(f"account:{identities.accounts['admin'].id}",
                                           accounts.account_claims(identities.accounts["admin"]))
    trainee_email = identities.accounts["trainee_assessor_a"].email
    accounts.set_assessor_status(admin, trainee_email, "qualified")
    try:
        refused(client.post(url, headers=auth("trainee_assessor_a")), 403,
                "an assessor cannot countersign their own decision")
    finally:  # the module's other tests share this account (tests/real_writes commit)
        accounts.set_assessor_status(admin, trainee_email, "trainee")
    own = decide(client, auth, b13, criterion=b13["criteria"][1])
    refused(client.post(f"/v1/decisions/{own['id']}/countersign", headers=auth("assessor_a")), 403,
            "an assessor cannot countersign their own decision")
    signed = post(client, auth, "assessor_a", url, None, status=200)
    assert (signed["countersigned_by"], signed["in_effect"]) == (str(identities.accounts["assessor_a"].id), True)


def test_only_an_assessor_countersigns(client, auth, b13):
    trainee = decide(client, auth, b13, caller="trainee_assessor_a")
    for caller in ("iqa_a", "centre_admin_a"):  # they see the decision, and are no assessors
        refused(client.post(f"/v1/decisions/{trainee['id']}/countersign", headers=auth(caller)), 403,
                "decisions are countersigned by assessors")
    assert client.get(f"/v1/decisions/{trainee['id']}", headers=auth("admin")).get_json()["in_effect"] is False


def test_only_a_trainee_s_decision_is_countersigned_and_only_once(app, client, auth, identities, b13):
    _, second_assessor = qualified_assessor(app, "second.assessor@example.test")
    qualified = decide(client, auth, b13)
    refused(client.post(f"/v1/decisions/{qualified['id']}/countersign", headers=second_assessor), 409,
            "this decision needs no countersignature: it was made by a qualified assessor, or carried over from a "
            "decision already in effect")
    first, second = (decide(client, auth, b13, caller="trainee_assessor_a", criterion=c) for c in b13["criteria"][1:3])
    for trainee in (first, second):  # one countersignature does not stand for another decision's
        signed = client.post(f"/v1/decisions/{trainee['id']}/countersign", headers=second_assessor)
        assert signed.status_code == 200 and signed.get_json()["in_effect"] is True, signed.get_json()
    refused(client.post(f"/v1/decisions/{first['id']}/countersign", headers=auth("assessor_a")), 409,
            "this decision is already countersigned")
    assert client.get(f"/v1/decisions/{qualified['id']}", headers=auth("admin")).get_json()["countersigned_by"] is None


# -- IQA samples and verdicts -----------------------------------------------------------------------------------------

@pytest.fixture
def assessor_iqa(app):
    """A qualified assessor who is also an IQA of centre A, and request headers for them."""
    account = accounts.create_account(f"assessor.iqa.{uuid.uuid4().hex[:8]}@example.test", TEST_PASSWORD,
                                      roles=["assessor", "iqa"], centres=["A"], assessor_status="qualified")
    return account, bearer(app, account)


def test_samples_and_verdicts_are_the_centre_iqas_and_name_who_made_them(client, auth, identities, b13):
    decision = decide(client, auth, b13)
    refused(client.post("/v1/iqa/samples", json={"decision_id": decision["id"]}, headers=auth("assessor_a")), 403,
            "samples are taken by the centre's IQAs")
    sample = post(client, auth, "iqa_a", "/v1/iqa/samples", {"decision_id": decision["id"]})
    iqa = str(identities.accounts["iqa_a"].id)
    assert (sample["decision_id"], sample["enrolment_id"], sample["iqa_id"]) == (decision["id"], b13["enrolment"],
                                                                                 iqa)
    refused(client.post("/v1/iqa/samples", json={"decision_id": decision["id"]}, headers=auth("iqa_a")), 409,
            "this decision is already sampled")
    url = f"/v1/iqa/samples/{sample['id']}/verdict"
    refused(client.post(url, json={"verdict": "confirmed"}, headers=auth("assessor_a")), 403,
            "verdicts are recorded by the centre's IQAs")
    refused(client.post(url, json={"verdict": "not_confirmed"}, headers=auth("iqa_a")), 422,
            "say what the assessor must do when a decision is not confirmed",
            {"actions": ["required for not_confirmed"]})
    actions = "Observe the learner allocating resources."
    verdict = post(client, auth, "iqa_a", url, {"verdict": "not_confirmed", "actions": actions}, status=200)["verdict"]
    assert (verdict["verdict"], verdict["actions"], verdict["iqa_id"]) == ("not_confirmed", actions, iqa)
    refused(client.post(url, json={"verdict": "confirmed"}, headers=auth("iqa_a")), 409,
            "this sample already has a verdict; verdicts are never changed")


def test_an_iqa_is_told_which_hand_they_had_in_a_decision(client, auth, identities, unit_ids, assessor_iqa):
    account, headers = assessor_iqa
    learner = make_learner(client, auth, identities)["id"]
    enrolment = post(client, auth, "centre_admin_a", "/v1/enrolments", {
        "learner_id": learner, "unit_id": unit_ids["B13"], "start_date": "2026-09-01",
        "assessor_ids": [str(account.id), str(identities.accounts["trainee_assessor_a"].id)]})["id"]
    b13 = {"decisions": f"/v1/enrolments/{enrolment}/decisions", "criteria": criteria_of(client, unit_ids["B13"])}
    made = client.post(b13["decisions"], headers=headers, json={"criterion_id": b13["criteria"][0], "outcome": "met",
                                                                "feedback": "f"}).get_json()
    trainee = decide(client, auth, b13, caller="trainee_assessor_a", criterion=b13["criteria"][1])
    assert client.post(f"/v1/decisions/{trainee['id']}/countersign", headers=headers).status_code == 200
    refused(client.post("/v1/iqa/samples", json={"decision_id": made["id"]}, headers=headers), 403,
            "an IQA cannot sample a decision they made")
    refused(client.post("/v1/iqa/samples", json={"decision_id": trainee["id"]}, headers=headers), 403,
            "an IQA cannot sample a decision they countersigned")
    other = decide(client, auth, b13, caller="trainee_assessor_a", criterion=b13["criteria"][2])
    assert post(client, auth, None, "/v1/iqa/samples", {"decision_id": other["id"]}, headers=headers)["iqa_id"] == \
        str(account.id)  # countersigning one decision is no hand in another
    for decision, hand in ((made, "made"), (trainee, "countersigned")):
        sample = post(client, auth, "iqa_a", "/v1/iqa/samples", {"decision_id": decision["id"]})["id"]
        refused(client.post(f"/v1/iqa/samples/{sample}/verdict", json={"verdict": "confirmed"}, headers=headers),
                403, f"an IQA cannot verify a decision they {hand}")


# -- sampling plans ----------------------------------------------------------------------------------------------------

def test_a_sampling_plan_offers_its_assessor_s_unsampled_decisions_at_its_rate(app, client, auth, identities,
                                                                              unit_ids):
    from api.services.tracking.iqa import is_selected

    account, headers = qualified_assessor(app, "sampled.assessor@example.test", centres=("A", "B"))  # a new one
    centre, assessor = str(identities.centres["A"].id), str(account.id)
    centre_b = str(identities.centres["B"].id)
    learner_b = make_learner(client, auth, identities, caller="centre_admin_b", centre_id=centre_b)["id"]
    at_b = post(client, auth, "centre_admin_b", "/v1/enrolments", {
        "learner_id": learner_b, "unit_id": unit_ids["B13"], "start_date": "2026-09-01", "assessor_ids": [assessor]})
    post(client, auth, None, f"/v1/enrolments/{at_b['id']}/decisions",  # at the other centre: not this plan's
         {"criterion_id": criteria_of(client, unit_ids["B13"])[0], "outcome": "met", "feedback": "Seen."},
         headers=headers)
    learner = make_learner(client, auth, identities)["id"]
    enrolment = post(client, auth, "centre_admin_a", "/v1/enrolments", {
        "learner_id": learner, "unit_id": unit_ids["B13"], "start_date": "2026-09-01",
        "assessor_ids": [assessor, str(identities.accounts["trainee_assessor_a"].id)],
        "iqa_ids": [str(identities.accounts["iqa_a"].id)]})["id"]
    b13 = {"decisions": f"/v1/enrolments/{enrolment}/decisions", "criteria": criteria_of(client, unit_ids["B13"])}

    def candidates(rate, assessor_is_new=False):
        plan = post(client, auth, "iqa_a", "/v1/iqa/plans", {"centre_id": centre, "assessor_id": assessor,
                                                             "rate": rate, "assessor_is_new": assessor_is_new})
        assert plan["effective_rate"] == (1.0 if assessor_is_new else rate)
        response = client.get(f"/v1/iqa/plans/{plan['id']}/candidates", headers=auth("iqa_a"))
        assert response.status_code == 200, response.get_json()
        return response.get_json()["decision_ids"]

    made = [post(client, auth, None, b13["decisions"], {"criterion_id": c, "outcome": "met", "feedback": "Seen."},
                 headers=headers)["id"] for c in b13["criteria"][:8]]
    decide(client, auth, b13, caller="trainee_assessor_a", criterion=b13["criteria"][8])  # another assessor's
    sampled = post(client, auth, "iqa_a", "/v1/iqa/samples", {"decision_id": made[0]})["decision_id"]
    unsampled = [d for d in made if d != sampled]
    assert candidates(1.0) == unsampled  # in the order they were made
    assert candidates(0.0, assessor_is_new=True) == unsampled  # a new assessor's decisions are all sampled
    assert candidates(0.0) == []
    half = candidates(0.5)
    assert half == [d for d in unsampled if is_selected(uuid.UUID(d), 0.5)]  # those the rate selects, in order
    assert half == candidates(0.5)  # the same each time it is asked


def test_a_sampling_rate_selects_that_share_of_decisions_and_always_the_same_ones():
    from api.services.tracking.iqa import is_selected

    decisions = [uuid.uuid5(uuid.NAMESPACE_URL, f"decision {n}") for n in range(1000)]  # fixed ids: a fixed answer
    chosen = {rate: {d for d in decisions if is_selected(d, rate)} for rate in (0.0, 0.1, 0.5, 1.0)}
    assert chosen[0.0] == set() and chosen[1.0] == set(decisions)
    assert 0.07 < len(chosen[0.1]) / len(decisions) < 0.13 and 0.45 < len(chosen[0.5]) / len(decisions) < 0.55
    assert chosen[0.1] <= chosen[0.5]  # a higher rate adds decisions to the sample, never swaps them
    assert chosen == {rate: {d for d in decisions if is_selected(str(d), rate)} for rate in chosen}  # id as text


def test_a_sampling_plan_is_seen_by_its_centre_s_iqas_and_admins_only(client, auth, identities):
    plan = post(client, auth, "iqa_a", "/v1/iqa/plans", {"centre_id": str(identities.centres["A"].id),
                                                         "assessor_id": str(identities.accounts["assessor_a"].id),
                                                         "rate": 0.5})["id"]
    url = f"/v1/iqa/plans/{plan}/candidates"
    for caller in ("iqa_a", "centre_admin_a", "admin"):
        assert client.get(url, headers=auth(caller)).status_code == 200, caller
    for caller in ("assessor_a", "lms_client_a", "centre_admin_b"):  # not shown to the sampled, clients, others
        refused(client.get(url, headers=auth(caller)), 404, f"no sampling plan {plan} visible to you")


# -- a learner's own account ------------------------------------------------------------------------------------------

def test_only_the_learner_s_own_withdrawal_stops_their_account_writing(app, client, auth, identities, unit_ids):
    learner = make_learner(client, auth, identities)["id"]
    enrolment = enrol(client, auth, identities, learner, unit_ids["B13"])["id"]
    account = accounts.create_account("own.learner@example.test", TEST_PASSWORD, roles=["learner"], centres=["A"],
                                      learner_id=learner)
    other = make_learner(client, auth, identities)["id"]
    post(client, auth, "centre_admin_a", f"/v1/learners/{other}/withdraw", None, status=200)
    evidence = {"type": "observation", "title": "mine", "date": "2026-10-01", "authenticity_declared": True}
    url = f"/v1/enrolments/{enrolment}/evidence"
    post(client, auth, None, url, evidence, headers=bearer(app, account))  # another learner's withdrawal is not theirs
    post(client, auth, "centre_admin_a", f"/v1/learners/{learner}/withdraw", None, status=200)
    refused(client.post(url, json=evidence, headers=bearer(app, account)), 403,
            "your learner record is withdrawn: your account can read your records but not submit evidence or claims; "
            "ask your centre if this is a mistake")


# -- rules of combination --------------------------------------------------------------------------------------------

def test_each_group_of_a_qualification_reports_its_rule_and_standing(client, auth, identities, unit_ids, tmp_path):
    import yaml

    from api.services.content.loader import load_path
    from tests.conftest import PROJECT_ROOT
    from tests.real_writes.test_tracking_loop import complete

    document = yaml.safe_load((PROJECT_ROOT / "tests" / "fixtures" / "qualification.yaml").read_text())
    document |= {"code": "TEST/0002/1", "title": "Test Certificate with three kinds of group", "groups": [
        {"name": "B13 for its credits", "min_credits": 10, "units": [{"owner": "ocr", "code": "B13"}]},
        {"name": "Any of these, or none", "units": [{"owner": "skills-cfa", "code": "CS 34"}]},
        {"name": "Mandatory", "mandatory": True, "units": [{"owner": "ocr", "code": "B13"}]}]}
    path = tmp_path / "qualification.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    assert load_path(path).ok
    qualification = next(q["id"] for q in client.get("/v1/qualifications").get_json()["items"]
                         if q["code"] == "TEST/0002/1")
    learner = make_learner(client, auth, identities)["id"]
    url = f"/v1/learners/{learner}/qualifications/{qualification}/progress"

    def groups():
        body = client.get(url, headers=auth("centre_admin_a")).get_json()
        return [{k: v for k, v in g.items() if k not in ("group_id", "units")} for g in body["groups"]]

    standing = [
        {"name": "B13 for its credits", "mandatory": False, "min_units": None, "min_credits": 10,
         "units_complete": 0, "credits_complete": 0, "satisfied": False},
        {"name": "Any of these, or none", "mandatory": False, "min_units": None, "min_credits": None,
         "units_complete": 0, "credits_complete": 0, "satisfied": True},  # no minimum: nothing to complete
        {"name": "Mandatory", "mandatory": True, "min_units": None, "min_credits": None,
         "units_complete": 0, "credits_complete": 0, "satisfied": False}]
    assert groups() == standing
    from api.models import QualificationGroup

    body = client.get(url, headers=auth("centre_admin_a")).get_json()
    assert [g["group_id"] for g in body["groups"]] == [str(g.id) for g in QualificationGroup.select().where(
        QualificationGroup.qualification == qualification).order_by(QualificationGroup.position)]
    b13 = enrol(client, auth, identities, learner, unit_ids["B13"])["id"]
    complete(client, auth, b13, criteria_of(client, unit_ids["B13"]))
    cs34 = enrol(client, auth, identities, learner, unit_ids["CS 34"])["id"]
    complete(client, auth, cs34, criteria_of(client, unit_ids["CS 34"]))  # CS 34 states no credit value
    done = {"units_complete": 1, "satisfied": True}
    assert groups() == [standing[0] | done | {"credits_complete": 10}, standing[1] | done,
                        standing[2] | done | {"credits_complete": 10}]
