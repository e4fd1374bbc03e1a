"""Migration 008 on a database that already holds duplicates (made before the constraints existed): learners sharing a
centre and ULN are merged into the earliest, duplicate active enrolments are withdrawn, nothing else is lost, every
resolution is audited, and afterwards the database itself refuses new duplicates."""

from datetime import date, datetime, timedelta

import peewee
import pytest

from api.ids import new_id
from api.migrations_runner import migrate
from api.models import Account, AuditEvent, Enrolment, Learner, LearnerExternalId, Unit, UnitVersion
from api.services import accounts
from tests.conftest import bound_fresh_database

ULN = "1000000004"  # a valid ULN
TEMPORARY = "9999999999"


@pytest.fixture
def before_008(fresh_url, database):
    """A fresh database migrated up to 007 and loaded with units, bound for the test."""
    with bound_fresh_database(fresh_url, database, migrated_to="007_drop_decision_indexes") as fresh:
        yield fresh


def _learner(centre, uln, age_days, **fields):
    return Learner.create(id=new_id(), centre=centre.id, uln=uln, given_name="Ada", family_name="Lovelace",
                          created_at=datetime(2026, 1, 1) + timedelta(days=age_days), **fields)


def _enrol(learner, version, age_days):
    return Enrolment.create(id=new_id(), learner=learner.id, centre=learner.centre_id, unit=version.unit_id,
                            unit_version=version.id, start_date=date(2026, 1, 1),
                            created_at=datetime(2026, 1, 1) + timedelta(days=age_days))


def test_duplicates_are_merged_and_then_refused(before_008):
    centre, other_centre = accounts.create_centre("M1", "Merge centre"), accounts.create_centre("M2", "Other")
    version = UnitVersion.select().where(UnitVersion.status == "published").first()
    first = _learner(centre, ULN, 0, email="ada@example.test")
    second, third = _learner(centre, ULN, 1), _learner(centre, ULN, 2)
    elsewhere = _learner(other_centre, ULN, 3)  # another centre's learner with the same ULN is another person
    temporaries = [_learner(centre, TEMPORARY, 4), _learner(centre, TEMPORARY, 5)]
    kept_enrolment = _enrol(first, version, 0)
    moved_enrolment = _enrol(second, version, 1)  # same unit: a duplicate active enrolment once merged
    LearnerExternalId.create(learner=third.id, centre=centre.id, system="mis", external_id="M-3")
    account_id = new_id()  # written as the schema stood at 007 (later migrations add account columns)
    mark = before_008.param
    before_008.execute_sql(
        "INSERT INTO account (id, email, display_name, password_hash, roles, learner_id, is_active, created_at) "
        f"VALUES ({mark}, 'merged.learner@example.test', 'Merged', 'x', '[\"learner\"]', {mark}, {mark}, {mark})",
        (account_id.hex, third.id.hex, True, datetime(2026, 1, 1)))

    migrate(before_008)

    assert [row.id for row in Learner.select().where(Learner.centre == centre.id, Learner.uln == ULN)] == [first.id]
    assert Learner.get_by_id(first.id).email == "ada@example.test"
    assert Learner.get_or_none(Learner.id == elsewhere.id) is not None
    assert Learner.select().where(Learner.uln == TEMPORARY).count() == len(temporaries)
    assert Enrolment.get_by_id(moved_enrolment.id).learner_id == first.id
    assert Enrolment.get_by_id(kept_enrolment.id).status == "active"
    assert Enrolment.get_by_id(moved_enrolment.id).status == "withdrawn"
    assert LearnerExternalId.get(LearnerExternalId.external_id == "M-3").learner_id == first.id
    assert Account.get_by_id(account_id).learner_id == first.id
    merged = {event.before["merged_learner_id"] for event in AuditEvent.select()
              .where(AuditEvent.action == "learner.merged", AuditEvent.subject_id == str(first.id))}
    assert merged == {str(second.id), str(third.id)}
    [withdrawal] = AuditEvent.select().where(AuditEvent.action == "enrolment.withdrawn_as_duplicate")
    assert (withdrawal.subject_id, withdrawal.after["kept_enrolment_id"]) == (str(moved_enrolment.id),
                                                                              str(kept_enrolment.id))

    with pytest.raises(peewee.IntegrityError), before_008.atomic():
        _learner(centre, ULN, 9)
    with pytest.raises(peewee.IntegrityError), before_008.atomic():
        _enrol(Learner.get_by_id(first.id), version, 9)
    _learner(centre, TEMPORARY, 9)  # the temporary ULN may still repeat
    assert Unit.select().count() > 0
