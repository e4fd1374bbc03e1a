"""A centre's progress is summed from tallies that every assessment write keeps in its own transaction: after each kind
of write (claim, decision, a trainee's decision and its countersignature, IQA sample and verdict) the roll-up equals
the sum of the enrolments' own progress documents, and no stored tally differs from what the records derive."""

import uuid

from api.services.tracking import tallies
from api.services.tracking.progress import COUNT_KEYS, progress_for
from tests.real_writes.test_assessment_rules import decide, submit
from tests.tracking_helpers import criteria_of, enrol, make_learner, post

ROLLED_UP = ("enrolments", "complete", *COUNT_KEYS)


def _centre_progress(client, auth, centre_id) -> dict:
    response = client.get(f"/v1/centres/{centre_id}/progress", headers=auth("centre_admin_a"))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _summed_documents(enrolment_ids: list[uuid.UUID]) -> dict:
    """What the roll-up must say: the enrolments' progress documents, derived from their records and summed."""
    documents = progress_for(enrolment_ids).values()
    return {"enrolments": len(documents), "complete": sum(1 for d in documents if d["complete"]),
            **{k: sum(d[k] for d in documents) for k in COUNT_KEYS}}


def _centre_enrolments(centre_id) -> list[uuid.UUID]:
    from api.models import Enrolment

    return [e.id for e in Enrolment.select(Enrolment.id).where(Enrolment.centre == centre_id)]


def test_each_write_keeps_the_centre_roll_up_equal_to_its_enrolments_documents(client, auth, identities, unit_ids,
                                                                                 b13):
    centre = identities.centres["A"].id
    enrolment = uuid.UUID(b13["enrolment"])
    second_learner = make_learner(client, auth, identities)["id"]
    enrol(client, auth, identities, second_learner, unit_ids["B13"], assessors=("trainee_assessor_a",))
    first, second, third = b13["criteria"][:3]
    trainee = str(identities.accounts["trainee_assessor_a"].id)
    seen = []

    def check(step: str) -> dict:
        rolled = _centre_progress(client, auth, centre)
        assert {k: rolled[k] for k in ROLLED_UP} == _summed_documents(_centre_enrolments(centre)), step
        assert tallies.drift() == [], step
        seen.append({k: rolled[k] for k in ROLLED_UP})
        return rolled

    check("enrolled, nothing recorded yet: the version's criteria")
    evidence = submit(client, auth, b13["enrolment"], [first, second, third])["id"]
    assert check("claimed")["claimed"] >= 3
    decide(client, auth, b13, criterion=first, outcome="met", evidence_ids=[evidence])
    decision = decide(client, auth, b13, caller="trainee_assessor_a", criterion=second, outcome="met",
                      evidence_ids=[evidence])
    awaiting = check("a qualified assessor's decision and a trainee's")
    assert awaiting["awaiting_countersignature"] >= 1
    by_trainee = {row["assessor_id"]: row for row in awaiting["by_assessor"]}[trainee]
    assert by_trainee["enrolments"] == 2 and by_trainee["awaiting_countersignature"] == 1
    post(client, auth, "assessor_a", f"/v1/decisions/{decision['id']}/countersign", None, status=200)
    assert check("countersigned")["awaiting_countersignature"] == awaiting["awaiting_countersignature"] - 1
    sample = post(client, auth, "iqa_a", "/v1/iqa/samples", {"decision_id": decision["id"]})["id"]
    assert check("sampled")["iqa_outstanding"] >= 1
    post(client, auth, "iqa_a", f"/v1/iqa/samples/{sample}/verdict",
         {"verdict": "not_confirmed", "actions": "Observe again."}, status=200)
    assert check("not confirmed")["reopened"] >= 1
    assert len({tuple(s.values()) for s in seen}) == len(seen)  # every step changed what the roll-up says
    assert progress_for([enrolment])[enrolment]["reopened"] == 1


def test_drift_names_a_tally_that_differs_from_the_records(client, auth, identities, unit_ids, b13):
    from api.models import EnrolmentTally

    enrolment = uuid.UUID(b13["enrolment"])
    decide(client, auth, b13, criterion=b13["criteria"][0], outcome="met",
           evidence_ids=[submit(client, auth, b13["enrolment"], [b13["criteria"][0]])["id"]])
    assert tallies.drift([enrolment]) == []
    EnrolmentTally.update(met=EnrolmentTally.met + 5).where(EnrolmentTally.enrolment == enrolment).execute()
    [found] = tallies.drift([enrolment])
    assert (found["enrolment_id"], found["stored"]["met"] - found["derived"]["met"]) == (str(enrolment), 5)
    assert tallies.rebuild() >= 1 and tallies.drift([enrolment]) == []


def test_the_roll_up_counts_each_enrolment_on_its_own_version_after_a_migration(client, auth, identities, unit_ids):
    from tests.test_sync import publish_revision

    centre = identities.centres["A"].id
    cs34 = unit_ids["CS 34"]
    migrated, left_on_v1 = (enrol(client, auth, identities, make_learner(client, auth, identities)["id"], cs34)["id"]
                            for _ in range(2))
    first = criteria_of(client, cs34)[0]
    evidence = post(client, auth, "lms_client_a", f"/v1/enrolments/{migrated}/evidence", {
        "type": "professional_discussion", "title": "Discussion", "date": "2026-10-01",
        "authenticity_declared": True, "criterion_ids": [first]})["id"]
    post(client, auth, "assessor_a", f"/v1/enrolments/{migrated}/decisions",
         {"criterion_id": first, "outcome": "met", "feedback": "ok", "evidence_ids": [evidence]})
    publish_revision(client, auth, cs34)  # version 2: 29 criteria, against 28
    post(client, auth, "centre_admin_a", f"/v1/enrolments/{migrated}/migrate", {}, status=200)
    on_v2 = enrol(client, auth, identities, make_learner(client, auth, identities)["id"], cs34,
                  assessors=("trainee_assessor_a",))["id"]
    documents = progress_for([uuid.UUID(e) for e in (migrated, left_on_v1, on_v2)])
    assert sorted(d["criteria"] for d in documents.values()) == [28, 29, 29]  # one unassessed on each version
    rolled = _centre_progress(client, auth, centre)
    assert {k: rolled[k] for k in ROLLED_UP} == _summed_documents(_centre_enrolments(centre))
    trainee = str(identities.accounts["trainee_assessor_a"].id)
    by_assessor = {row["assessor_id"]: row for row in rolled["by_assessor"]}
    assert by_assessor[trainee]["criteria"] == sum(
        d["criteria"] for d in progress_for(_assigned(trainee)).values())
    assert tallies.drift() == []


def _assigned(assessor_id: str) -> list[uuid.UUID]:
    from api.models import EnrolmentStaff

    return [s.enrolment_id for s in EnrolmentStaff.select().where(EnrolmentStaff.account == assessor_id,
                                                                   EnrolmentStaff.role == "assessor")]


def test_a_long_history_of_every_kind_of_write_keeps_the_tally_exact(client, auth, identities, unit_ids, b13):
    """Each write adds only what it changed in its criteria's states to the stored counts: after every step of a
    history with second claims, superseded decisions, a trainee's decision over one in effect, a sample of a decision
    that then stops being in effect, verdicts, and the enrolment becoming complete and not, the stored tally is what
    the whole derivation counts."""
    enrolment = uuid.UUID(b13["enrolment"])
    first, second = b13["criteria"][:2]

    def check(step: str) -> dict:
        assert tallies.drift([enrolment]) == [], step
        return progress_for([enrolment])[enrolment]

    evidence = submit(client, auth, b13["enrolment"], [first, second])["id"]
    assert check("two criteria claimed")["claimed"] == 2
    submit(client, auth, b13["enrolment"], [first])
    assert check("the first claimed again: still two criteria claimed")["claimed"] == 2
    decide(client, auth, b13, criterion=first, evidence_ids=[evidence])
    assert check("met")["met"] == 1
    in_effect = decide(client, auth, b13, criterion=first, outcome="not_yet_met", reason="Second look.")
    assert check("superseded: not yet met")["met"] == 0
    trainees = decide(client, auth, b13, caller="trainee_assessor_a", criterion=first, reason="Seen again.")
    assert (check("a trainee's decision awaits its countersignature")["awaiting_countersignature"], 1) == (1, 1)
    post(client, auth, "iqa_a", "/v1/iqa/samples", {"decision_id": in_effect["id"]})
    assert check("the decision in effect sampled")["iqa_outstanding"] == 1
    post(client, auth, "assessor_a", f"/v1/decisions/{trainees['id']}/countersign", None, status=200)
    document = check("countersigned: the trainee's decision is in effect, the sampled one no longer")
    assert (document["met"], document["iqa_outstanding"], document["awaiting_countersignature"]) == (1, 0, 0)
    sample = post(client, auth, "iqa_a", "/v1/iqa/samples", {"decision_id": trainees["id"]})["id"]
    assert check("the new decision in effect sampled")["iqa_outstanding"] == 1
    post(client, auth, "iqa_a", f"/v1/iqa/samples/{sample}/verdict", {"verdict": "confirmed"}, status=200)
    assert check("confirmed")["verified"] == 1
    for criterion in b13["criteria"][1:]:
        decide(client, auth, b13, criterion=criterion)
    assert check("every criterion met")["complete"]
    decide(client, auth, b13, criterion=second, outcome="not_yet_met", reason="Evidence withdrawn.")
    assert not check("one criterion no longer met")["complete"]


def test_a_write_on_an_enrolment_without_a_tally_stores_its_whole_tally(client, auth, b13):
    from api.models import EnrolmentTally

    enrolment = uuid.UUID(b13["enrolment"])
    decide(client, auth, b13, criterion=b13["criteria"][0])
    EnrolmentTally.delete().where(EnrolmentTally.enrolment == enrolment).execute()
    decide(client, auth, b13, criterion=b13["criteria"][1])
    assert tallies.drift([enrolment]) == [] and progress_for([enrolment])[enrolment]["met"] == 2
