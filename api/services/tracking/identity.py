"""One record per identity: a learner per (centre, ULN) (the temporary ULN excepted) and per (centre, external
system, external id); an active enrolment per (learner, unit). The database enforces it (migration 008 and the key of
learner_external_id); every service that writes one of these answers a duplicate the same way, with AlreadyExists: a
409 that points at the record that is already there.

A write first looks for the record it would duplicate, for a clear answer. Two concurrent writes may both find none;
the database then refuses the second insert, and ``write_unique`` turns that refusal into the same answer: it runs the
write in a savepoint, rolls the savepoint back and looks again. On PostgreSQL the refusal comes only once the winning
transaction has committed, so in READ COMMITTED the second look sees the winner. SQLite runs one writer at a time, so
there the first look already sees it.
"""

from collections.abc import Callable
from typing import TypeVar

import peewee

from api import db
from api.errors import AlreadyExists
from api.models import Enrolment, Learner, LearnerExternalId
from api.models.tracking import TEMPORARY_ULN

T = TypeVar("T")


def learner_href(learner_id) -> str:
    return f"/v1/learners/{learner_id}"


def enrolment_href(enrolment_id) -> str:
    return f"/v1/enrolments/{enrolment_id}"


def learner_duplicate(centre_id, uln: str | None, external_ids: list[dict], *,
                      learner_id=None) -> AlreadyExists | None:
    """The AlreadyExists for the learner at ``centre_id`` (other than ``learner_id``) that already has this ULN or
    one of these external ids (``[{"system", "id"}]``, checked in order after the ULN); None if there is none."""
    others = Learner.select(Learner.id).where(Learner.centre == centre_id)
    if learner_id is not None:
        others = others.where(Learner.id != learner_id)
    if uln is not None and uln != TEMPORARY_ULN:
        holder = others.where(Learner.uln == uln).first()
        if holder is not None:
            return AlreadyExists(f"a learner with ULN {uln} already exists at this centre: {holder.id}", field="uln",
                                 reason="already registered at this centre", existing_id=holder.id,
                                 existing_href=learner_href(holder.id))
    for i, ref in enumerate(external_ids):
        owner = (LearnerExternalId.select(LearnerExternalId.learner)
                 .where(LearnerExternalId.centre == centre_id, LearnerExternalId.system == ref["system"],
                        LearnerExternalId.external_id == ref["id"]).first())
        if owner is not None and owner.learner_id != learner_id:
            return AlreadyExists(f"{ref['system']} id {ref['id']!r} already belongs to learner {owner.learner_id} "
                                 "at this centre", field=f"external_ids[{i}]",
                                 reason="already used by another learner at this centre",
                                 existing_id=owner.learner_id, existing_href=learner_href(owner.learner_id))
    return None


def enrolment_duplicate(learner_id, unit_id, *, enrolment_id=None) -> AlreadyExists | None:
    """The AlreadyExists for the learner's active enrolment on the unit (other than ``enrolment_id``); None if there
    is none."""
    active = Enrolment.select(Enrolment.id).where(Enrolment.learner == learner_id, Enrolment.unit == unit_id,
                                                  Enrolment.status == "active")
    if enrolment_id is not None:
        active = active.where(Enrolment.id != enrolment_id)
    existing = active.first()
    if existing is None:
        return None
    return AlreadyExists(f"the learner already has an active enrolment on this unit: {existing.id}", field="unit_id",
                         reason="the learner is already enrolled on this unit", existing_id=existing.id,
                         existing_href=enrolment_href(existing.id))


def write_unique(write: Callable[[], T], duplicate: Callable[[], AlreadyExists | None]) -> T:
    """``write()``'s result, unless ``duplicate()`` finds the record it would duplicate: then that AlreadyExists is
    raised and nothing is written. ``write`` runs in a savepoint; if the database refuses it (a concurrent writer
    committed the same identity after the first look), the savepoint is rolled back and the AlreadyExists for the
    record that won is raised. An IntegrityError that no duplicate explains is raised as it is."""
    found = duplicate()
    if found is not None:
        raise found
    try:
        with db.savepoint():
            return write()
    except peewee.IntegrityError:
        found = duplicate()
        if found is None:
            raise
        raise found from None
