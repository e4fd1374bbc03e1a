"""A criterion's state depends on two of its decisions, the newest and the newest in effect, however long its history.
SQLite derives progress from those two alone (queries.PROGRESS_DECISIONS_NEWEST_SQL, so a decision write costs the
same after hundreds of decisions); both statements must give every criterion the same state, on either backend."""

from collections import defaultdict

from api.db import fetch_in
from api.services.tracking.progress import _criterion_state
from api.services.tracking.queries import PROGRESS_DECISIONS_NEWEST_SQL, PROGRESS_DECISIONS_SQL, PROGRESS_SAMPLES_SQL
from tests.tracking_helpers import criteria_of, enrol, make_learner, post

# Who decides each criterion, in order: Q a qualified assessor, T a trainee, T+ a trainee then countersigned.
HISTORIES = [
    ["Q"],
    ["T"],
    ["T+"],
    ["Q", "T"],                     # the newest awaits countersignature; the qualified one is in effect
    ["Q", "T", "T"],
    ["T", "T+", "T"],
    ["Q", "Q", "T+", "T", "T"],
    ["T+", "Q", "T", "T+", "T", "T", "T"],
    ["Q", "T+", "Q", "T", "Q", "T", "T", "Q"],
]
OUTCOMES = ["met", "not_yet_met", "referred"]


def test_newest_two_decisions_give_each_criterion_the_state_its_whole_history_gives(client, auth, identities,
                                                                                   content_ids):
    learner = make_learner(client, auth, identities)["id"]
    enrolment = enrol(client, auth, identities, learner, content_ids["B13"],
                      assessors=("assessor_a", "trainee_assessor_a"))["id"]
    criteria = criteria_of(client, content_ids["B13"])
    for n, (criterion, history) in enumerate(zip(criteria, HISTORIES, strict=False)):
        for step, who in enumerate(history):
            decider = "assessor_a" if who == "Q" else "trainee_assessor_a"
            body = {"criterion_id": criterion, "outcome": OUTCOMES[(n + step) % 3], "feedback": "f"}
            if step:
                body["reason"] = f"look {step}"
            decision = post(client, auth, decider, f"/v1/enrolments/{enrolment}/decisions", body)["id"]
            if who == "T+":
                post(client, auth, "assessor_a", f"/v1/decisions/{decision}/countersign", {}, status=200)

    hexes = [enrolment.replace("-", "")]
    samples = dict(fetch_in(PROGRESS_SAMPLES_SQL, [], hexes))

    def states(sql: str) -> dict:
        by_criterion = defaultdict(list)
        for decision_id, _, criterion_id, outcome, status, signed, carried in fetch_in(sql, [], hexes):
            by_criterion[str(criterion_id).replace("-", "")].append((decision_id, outcome, status, signed, carried))
        return {c: _criterion_state(rows, samples, 0) for c, rows in by_criterion.items()}

    whole, newest = states(PROGRESS_DECISIONS_SQL), states(PROGRESS_DECISIONS_NEWEST_SQL)
    assert len(whole) == len(HISTORIES) and newest == whole
    awaiting = sorted(c for c, state in whole.items() if state["awaiting_countersignature"])
    assert len(awaiting) == sum(1 for h in HISTORIES if h[-1] == "T")  # the histories cover both kinds of newest
    progress = client.get(f"/v1/enrolments/{enrolment}/progress", headers=auth("assessor_a")).get_json()
    served = {c["criterion_id"].replace("-", ""): c for o in progress["learning_outcomes"] for c in o["criteria"]}
    for criterion, state in whole.items():
        assert {k: served[criterion][k] for k in ("outcome", "met", "awaiting_countersignature")} == \
            {k: state[k] for k in ("outcome", "met", "awaiting_countersignature")}
