"""Two assessors record a decision on the same criterion at the same moment: one decision is recorded, the other
write is refused (on PostgreSQL a 409 to retry; on SQLite, where it waits for the first, a 422 asking why it
supersedes it) and leaves nothing behind, and the criterion never holds two decisions with one sequence
number (the unique (enrolment, criterion, sequence) guards it).

Real threads, each with its own connection, on a separate database of the backend under test."""

import threading
import uuid

from api import db
from api.errors import Conflict, ValidationFailed
from api.inputs.bodies import DecisionCreate, EnrolmentCreate, LearnerCreate
from api.models import AssessmentCriterion, AuditEvent, Decision, Unit, UnitVersion
from api.services.common.access import Principal
from api.services.tracking import decisions, enrolments, learners
from tests.conftest import seed_identities
from tests.tracking_helpers import VALID_ULN


def assessor(account, centre) -> Principal:
    return Principal(kind="account", id=account.id, roles=frozenset({"assessor"}), centre_ids=frozenset({centre.id}),
                     assessor_status=account.assessor_status)


def test_the_second_of_two_simultaneous_decisions_on_a_criterion_is_a_409_and_leaves_nothing(separate_database,
                                                                                              monkeypatch):
    people = seed_identities()
    centre = people.centres["A"]
    admin = Principal(kind="account", id=people.accounts["admin"].id, roles=frozenset({"admin"}))
    first_assessor = assessor(people.accounts["assessor_a"], centre)
    second_assessor = assessor(people.accounts["trainee_assessor_a"], centre)
    with db.write_transaction():
        learner = learners.create_learner(admin, LearnerCreate().load({
            "centre_id": str(centre.id), "uln": VALID_ULN, "given_name": "Race", "family_name": "Learner"}))
        unit = Unit.get(Unit.code == "B13")
        enrolment = enrolments.create_enrolment(admin, EnrolmentCreate().load({
            "learner_id": str(learner.id), "unit_id": str(unit.id), "start_date": "2026-09-01",
            "assessor_ids": [str(first_assessor.id), str(second_assessor.id)]}))
    version = UnitVersion.get(UnitVersion.unit == unit.id, UnitVersion.status == "published")
    criterion = AssessmentCriterion.get(AssessmentCriterion.version == version.id).id
    body = DecisionCreate().load({"criterion_id": str(criterion), "outcome": "met", "feedback": "seen"})

    checked, go_on = threading.Event(), threading.Event()
    evidence_of = decisions._evidence_of

    def evidence_then_wait(*args):
        """The first writer pauses after its checks, before its insert: the other writer commits meanwhile."""
        found = evidence_of(*args)
        if threading.current_thread().name == "first":
            checked.set()
            assert go_on.wait(10)
        return found

    monkeypatch.setattr(decisions, "_evidence_of", evidence_then_wait)
    outcomes: dict[str, object] = {}

    def write(name: str, principal: Principal) -> None:
        try:
            with db.write_transaction():
                outcomes[name] = decisions.record_decision(principal, enrolment.id, body)
        except Exception as error:  # the test reads it below; a thread cannot fail the test itself
            outcomes[name] = error
        finally:
            separate_database.close()

    first = threading.Thread(target=write, args=("first", first_assessor), name="first")
    first.start()
    try:
        assert checked.wait(10)
        second = threading.Thread(target=write, args=("second", second_assessor), name="second")
        second.start()
        if not db.is_sqlite():  # READ COMMITTED: the second write runs its checks and commits while the first waits
            second.join(10)
            assert not second.is_alive()
    finally:
        go_on.set()  # on SQLite the second write is still waiting for its turn: the first holds the write lock
        first.join(10)
    second.join(10)
    if db.is_sqlite():  # the second write ran after the first committed, and saw its decision
        winner, loser = outcomes["first"], outcomes["second"]
        assert isinstance(loser, ValidationFailed), loser
        assert loser.detail == "this criterion already has a decision: say why the new one supersedes it"
    else:  # the first write's insert met the second's at the unique sequence
        winner, loser = outcomes["second"], outcomes["first"]
        assert isinstance(loser, Conflict), loser
        assert loser.detail == "another decision on this criterion was recorded at the same moment: retry"
    assert isinstance(winner, Decision) and winner.sequence == 1
    recorded = list(Decision.select().where(Decision.enrolment == enrolment.id, Decision.criterion == criterion))
    assert [(d.id, d.sequence) for d in recorded] == [(winner.id, 1)]
    events = AuditEvent.select().where(AuditEvent.action == "decision.recorded")
    assert [uuid.UUID(e.subject_id) for e in events] == [winner.id]
