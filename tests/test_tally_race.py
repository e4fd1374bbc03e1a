"""An assessor and a trainee record decisions on different criteria of one enrolment at the same moment, on PostgreSQL:
the enrolment's stored tally (what its centre's progress sums) counts both. The first writer pauses after deriving
its tally and before storing it; without the enrolment lock the second derives, stores and commits meanwhile without
the first's decision, and the first then stores a tally that lacks the second's.

Real threads, each with its own connection, on a separate database of the backend under test."""

import threading
import time

import pytest

from api import db
from api.inputs.bodies import DecisionCreate, EnrolmentCreate, LearnerCreate
from api.models import AssessmentCriterion, Decision, Unit, UnitVersion
from api.services.common.access import Principal
from api.services.tracking import decisions, enrolments, learners, tallies
from tests.conftest import seed_identities
from tests.test_decision_race import assessor
from tests.tracking_helpers import VALID_ULN

# A writer of this database waiting for a row lock it asked for with FOR NO KEY UPDATE (the enrolment's, in this
# test: the only other writer holds no other). Parameters are bound by the server, so the query text has no ids.
WAITING_ON_THE_ENROLMENT = ("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                            "AND datname = current_database() AND position('FOR NO KEY UPDATE' IN query) > 0")


def _enrolment_with_two_assessors(people):
    centre = people.centres["A"]
    admin = Principal(kind="account", id=people.accounts["admin"].id, roles=frozenset({"admin"}))
    with db.write_transaction():
        learner = learners.create_learner(admin, LearnerCreate().load({
            "centre_id": str(centre.id), "uln": VALID_ULN, "given_name": "Tally", "family_name": "Race"}))
        unit = Unit.get(Unit.code == "B13")
        enrolment = enrolments.create_enrolment(admin, EnrolmentCreate().load({
            "learner_id": str(learner.id), "unit_id": str(unit.id), "start_date": "2026-09-01",
            "assessor_ids": [str(people.accounts["assessor_a"].id),
                             str(people.accounts["trainee_assessor_a"].id)]}))
    version = UnitVersion.get(UnitVersion.unit == unit.id, UnitVersion.status == "published")
    return enrolment, [c.id for c in AssessmentCriterion.select().where(AssessmentCriterion.version == version.id)]


def test_simultaneous_decisions_on_one_enrolment_are_both_in_its_tally(separate_database, monkeypatch):
    if db.is_sqlite():
        pytest.skip("SQLite runs one write transaction at a time: two writers cannot interleave")
    people = seed_identities()
    enrolment, criteria = _enrolment_with_two_assessors(people)
    centre = people.centres["A"]
    writers = {"first": assessor(people.accounts["assessor_a"], centre),
               "second": assessor(people.accounts["trainee_assessor_a"], centre)}
    derived, go_on = threading.Event(), threading.Event()
    store = tallies._add_changes

    def store_after_the_other(*args):
        if threading.current_thread().name == "first":
            derived.set()
            assert go_on.wait(10)
        store(*args)

    monkeypatch.setattr(tallies, "_add_changes", store_after_the_other)
    outcomes: dict[str, object] = {}

    def write(name: str, criterion) -> None:
        body = DecisionCreate().load({"criterion_id": str(criterion), "outcome": "met", "feedback": "seen"})
        try:
            with db.write_transaction():
                outcomes[name] = decisions.record_decision(writers[name], enrolment.id, body)
        except Exception as error:  # the test reads it below; a thread cannot fail the test itself
            outcomes[name] = error
        finally:
            separate_database.close()

    first = threading.Thread(target=write, args=("first", criteria[0]), name="first")
    first.start()
    second = threading.Thread(target=write, args=("second", criteria[1]), name="second")
    try:
        assert derived.wait(10)
        second.start()
        deadline = time.monotonic() + 10
        while second.is_alive() and not db.fetch_rows(WAITING_ON_THE_ENROLMENT, [])[0][0]:
            assert time.monotonic() < deadline, "the second writer neither finished nor waited for the first"
            second.join(0.01)
    finally:
        go_on.set()
        first.join(10)
        second.join(10)
    assert all(isinstance(outcomes[name], Decision) for name in writers), outcomes
    assert tallies.drift([enrolment.id]) == []
    document = tallies.progress_for([enrolment.id])[enrolment.id]
    assert (document["met"], document["awaiting_countersignature"]) == (1, 1)  # the second is a trainee's
