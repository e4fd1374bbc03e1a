"""Two learners at a centre that has never issued a credential complete their units at the same moment, on
PostgreSQL: both decisions succeed, the centre gets one signing key, and both credentials are signed with it. The
first writer pauses after making the centre's key and before committing; the second then waits on the unique index
that allows one current key per centre, and must read the first's key once it commits instead of failing.

Real threads, each with its own connection, on a separate database of the backend under test."""

import threading
import time

import pytest

from api import db
from api.inputs.bodies import DecisionCreate, EnrolmentCreate, LearnerCreate
from api.models import AssessmentCriterion, Credential, IssuerKey, Unit, UnitVersion
from api.services.common.access import Principal
from api.services.credentials import keys
from api.services.tracking import decisions, enrolments, learners
from tests.conftest import seed_identities
from tests.test_decision_race import assessor
from tests.tracking_helpers import valid_uln

WAITING_ON_A_KEY = ("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database() AND position('issuer_key' IN query) > 0")


def _nearly_complete_enrolments(people, criteria: list, count: int) -> list:
    """``count`` enrolments on B13 at centre A, each with every criterion but the last met (committed)."""
    centre = people.centres["A"]
    admin = Principal(kind="account", id=people.accounts["admin"].id, roles=frozenset({"admin"}))
    writer = assessor(people.accounts["assessor_a"], centre)
    made = []
    for n in range(count):
        with db.write_transaction():
            learner = learners.create_learner(admin, LearnerCreate().load({
                "centre_id": str(centre.id), "uln": valid_uln(n + 40), "given_name": "Key", "family_name": "Race"}))
            enrolment = enrolments.create_enrolment(admin, EnrolmentCreate().load({
                "learner_id": str(learner.id), "unit_id": str(Unit.get(Unit.code == "B13").id),
                "start_date": "2026-09-01", "assessor_ids": [str(people.accounts["assessor_a"].id)]}))
            for criterion in criteria[:-1]:
                decisions.record_decision(writer, enrolment.id, DecisionCreate().load(
                    {"criterion_id": str(criterion), "outcome": "met", "feedback": "seen"}))
        made.append(enrolment)
    return made


def test_two_first_credentials_of_a_centre_share_one_new_key(separate_database, monkeypatch):
    if db.is_sqlite():
        pytest.skip("SQLite runs one write transaction at a time: two writers cannot interleave")
    people = seed_identities()
    unit = Unit.get(Unit.code == "B13")
    version = UnitVersion.get(UnitVersion.unit == unit.id, UnitVersion.status == "published")
    criteria = [c.id for c in AssessmentCriterion.select().where(AssessmentCriterion.version == version.id)
                .order_by(AssessmentCriterion.position)]
    enrolled = dict(zip(("first", "second"), _nearly_complete_enrolments(people, criteria, 2), strict=True))
    writer = assessor(people.accounts["assessor_a"], people.centres["A"])
    made, go_on = threading.Event(), threading.Event()
    new_key = keys._new_key

    def pause_after_making_the_key(centre_id):
        key = new_key(centre_id)
        if threading.current_thread().name == "first":
            made.set()
            assert go_on.wait(10)
        return key

    monkeypatch.setattr(keys, "_new_key", pause_after_making_the_key)
    outcomes: dict[str, object] = {}

    def complete(name: str) -> None:
        body = DecisionCreate().load({"criterion_id": str(criteria[-1]), "outcome": "met", "feedback": "seen"})
        try:
            with db.write_transaction():
                outcomes[name] = decisions.record_decision(writer, enrolled[name].id, body)
        except Exception as error:  # the test reads it below; a thread cannot fail the test itself
            outcomes[name] = error
        finally:
            separate_database.close()

    first = threading.Thread(target=complete, args=("first",), name="first")
    first.start()
    second = threading.Thread(target=complete, args=("second",), name="second")
    try:
        assert made.wait(10)
        second.start()
        deadline = time.monotonic() + 10
        while second.is_alive() and not db.fetch_rows(WAITING_ON_A_KEY, [])[0][0]:
            assert time.monotonic() < deadline, "the second writer neither finished nor waited for the first's key"
            second.join(0.01)
    finally:
        go_on.set()
        first.join(10)
        second.join(10)
    assert not any(isinstance(outcome, Exception) for outcome in outcomes.values()), outcomes
    [key] = IssuerKey.select().where(IssuerKey.centre == people.centres["A"].id)
    issued = list(Credential.select().where(Credential.enrolment.in_([e.id for e in enrolled.values()])))
    assert len(issued) == 2 and len({(c.status_list, c.status_index) for c in issued}) == 2
    assert all(f"#{key.public_key_multibase}" in c.document for c in issued)
