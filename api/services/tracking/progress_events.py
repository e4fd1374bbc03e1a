"""What a write that moved an enrolment's progress tells the feed: criteria met and unmet, learning outcomes, the
enrolment (its unit) and the learner's qualifications completed and uncompleted. tallies.changing and
tallies.refresh call these with the states they derived before and after the write, inside its transaction."""

import uuid
from typing import NamedTuple

from peewee import JOIN

from api.db import fetch_in
from api.models import Enrolment, EnrolmentTally, Qualification, QualificationGroup, QualificationGroupUnit
from api.services.sync.feed import tracking_row
from api.services.tracking.progress import qualification_document, qualification_rules

# The criteria of the learning outcomes that some criteria (the IN list) belong to, each with its outcome.
OUTCOME_CRITERIA_SQL = """
SELECT CAST(c.id AS TEXT), CAST(c.outcome_id AS TEXT) FROM assessment_criterion c
WHERE c.outcome_id IN (SELECT o.outcome_id FROM assessment_criterion o WHERE o.id IN ({values}))"""


class Place(NamedTuple):
    """The enrolment a write changed, and whose it is."""

    enrolment_id: uuid.UUID
    centre_id: uuid.UUID
    learner_id: uuid.UUID
    unit_id: uuid.UUID

    def event(self, event_type: str, actor: str, subject_id) -> tuple:
        return tracking_row(event_type, actor, centre_id=self.centre_id, learner_id=self.learner_id,
                            enrolment_id=self.enrolment_id, unit_id=self.unit_id, subject_id=subject_id)


def criteria_moved(place: Place, actor: str, before: dict, after: dict, states_of) -> list[tuple]:
    """Events for the criteria whose met changed from ``before`` to ``after`` (criterion_states, keyed by criterion
    id as hex or UUID text), then for the outcomes that became complete or stopped being; ``states_of(ids)`` derives
    the current states of other criteria (read only when some criterion moved)."""
    met_before = {_uuid(c) for c, state in before.items() if state["met"]}
    met_after = {_uuid(c) for c, state in after.items() if state["met"]}
    moved = sorted(met_before ^ met_after)
    if not moved:
        return []
    events = [place.event("criterion.met" if c in met_after else "criterion.unmet", actor, c) for c in moved]
    outcomes: dict = {}
    for criterion, outcome in fetch_in(OUTCOME_CRITERIA_SQL, [], [c.hex for c in moved]):
        outcomes.setdefault(_uuid(outcome), []).append(_uuid(criterion))
    now = {_uuid(c): state["met"] for c, state in states_of([c.hex for cs in outcomes.values() for c in cs]).items()}
    for outcome, criteria in sorted(outcomes.items()):
        complete_now = all(now.get(c, False) for c in criteria)
        complete_before = all((c in met_before) if c in moved else now.get(c, False) for c in criteria)
        if complete_now != complete_before:
            events.append(place.event("outcome.completed" if complete_now else "outcome.uncompleted", actor, outcome))
    return events


def completion_moved(place: Place, actor: str, was_complete: bool, now_complete: bool) -> list[tuple]:
    """Events for the enrolment becoming complete or no longer complete, and for each published qualification with
    its unit whose rules of combination the learner meets now and did not, or the other way round."""
    if was_complete == now_complete:
        return []
    events = [place.event("enrolment.completed" if now_complete else "enrolment.uncompleted", actor,
                          place.enrolment_id)]
    qualifications = list(Qualification.select().join(QualificationGroup).join(QualificationGroupUnit)
                          .where(QualificationGroupUnit.unit == place.unit_id, Qualification.status == "published")
                          .distinct().order_by(Qualification.id))
    if not qualifications:
        return events
    units = learner_units(place.learner_id)
    if place.unit_id not in units:
        return events  # a withdrawn enrolment counts towards no qualification
    units_before = {**units, place.unit_id: (units[place.unit_id][0], was_complete)}
    for qualification in qualifications:
        rules = qualification_rules(qualification)
        achieved = qualification_document(qualification, units, rules)["achieved"]
        if achieved != qualification_document(qualification, units_before, rules)["achieved"]:
            events.append(place.event("qualification.completed" if achieved else "qualification.uncompleted", actor,
                                      qualification.id))
    return events


def learner_units(learner_id) -> dict:
    """{unit id: (enrolment id, complete)} of the learner's enrolments that count towards a qualification (every
    one but the withdrawn), as progress.qualification_document takes them."""
    return {unit: (str(enrolment), bool(complete)) for unit, enrolment, complete in
            Enrolment.select(Enrolment.unit, Enrolment.id, EnrolmentTally.complete)
            .join(EnrolmentTally, JOIN.LEFT_OUTER).where(Enrolment.learner == learner_id,
                                                         Enrolment.status != "withdrawn").tuples()}


def _uuid(raw) -> uuid.UUID:
    return raw if isinstance(raw, uuid.UUID) else uuid.UUID(str(raw))
