"""What a batch of checked import rows does to the database: the checks only the database can make, the plan of the
writes (which also gives a dry run its true counts), and the writes themselves.

A row upserts its learner by ULN at the centre: a new learner is created, an existing one updated with the fields
the row sets (never with those it leaves: see imports.checking, ``Checked.kept``), or left alone when nothing differs.
Each unit a row names is an enrolment created, or left as it is when the learner already has one on that unit.
"""

import uuid
from typing import NamedTuple

from api.db import db_timestamp, fetch_in, insert_rows, insert_values
from api.ids import dashed, new_bulk_id
from api.models import AuditEvent, Enrolment, EnrolmentStaff, Learner, LearnerExternalId
from api.models.base import utcnow
from api.services.common import audit
from api.services.common.access import Principal
from api.services.imports.queries import (
    ENROLLED_UNITS_SQL,
    EXTERNAL_ID_HOLDERS_SQL,
    HELD_EXTERNAL_IDS_SQL,
    INACTIVE_ULNS_SQL,
    LEARNERS_BY_ULN_SQL,
)
from api.services.sync import feed
from api.services.tracking import tallies

LEARNER_FIELDS = ["id", "centre", "uln", "given_name", "family_name", "email", "date_of_birth", "status",
                  "row_version", "created_at", "updated_at"]
ENROLMENT_FIELDS = ["id", "learner", "centre", "unit", "unit_version", "status", "start_date", "planned_end_date",
                    "row_version", "created_at", "updated_at"]
SET_BY_ROW = ("given_name", "family_name", "email", "date_of_birth")  # the learner fields a row may change
COUNTS = ("created", "updated", "unchanged", "enrolments_created", "enrolments_unchanged")


class Plan(NamedTuple):
    """The writes of one batch, and what they do (counts keyed by COUNTS)."""

    learners: list  # rows for insert_values(Learner, LEARNER_FIELDS)
    updates: list  # (learner id as hex, fields before, fields after), in SET_BY_ROW order
    external_ids: list
    enrolments: list
    staff: list
    counts: dict


# -- database checks -----------------------------------------------------------------------------------------------

def database_problems(centre_hex: str, rows: list) -> list[tuple[int, str, str]]:
    """Problems only the database can show, as (row, field, message): an external id that belongs to another
    learner at the centre, and enrolling a withdrawn learner."""
    if not rows:
        return []
    withdrawn = {uln for (uln,) in fetch_in(
        INACTIVE_ULNS_SQL, [centre_hex, "active"], [row[1] for row in rows if row[8]])}
    return external_id_problems(centre_hex, rows) + withdrawn_problems(rows, withdrawn)


def external_id_problems(centre_hex: str, rows: list) -> list[tuple[int, str, str]]:
    """A problem for each row whose external id belongs to a learner with another ULN at the centre."""
    problems = []
    by_system: dict = {}
    for row in rows:
        if row[6] is not None:
            by_system.setdefault(row[6], {})[row[7]] = row
    for system, wanted in by_system.items():
        for external_id, owner in fetch_in(EXTERNAL_ID_HOLDERS_SQL, [centre_hex, system], list(wanted)):
            row = wanted[external_id]
            if owner != row[1]:
                problems.append((row[0], "external_id",
                                 f"{system} id {external_id} belongs to the learner with ULN {owner}"))
    return problems


def withdrawn_problems(rows: list, withdrawn: set) -> list[tuple[int, str, str]]:
    """A problem for each row that would enrol a learner whose ULN is in ``withdrawn``."""
    if not withdrawn:
        return []
    return [(row[0], "unit_code", f"the learner with ULN {row[1]} is withdrawn: a withdrawn learner cannot be "
                                  "enrolled") for row in rows if row[8] and row[1] in withdrawn]


def existing_learners(centre_hex: str, rows: list) -> dict:
    """ULN -> (learner id as hex, fields in SET_BY_ROW order, status) of the rows' learners who are already at the
    centre."""
    if not rows:
        return {}
    return {uln: (_hex(str(learner_id)), (given, family, email, None if born is None else str(born)), status)
            for learner_id, uln, given, family, email, born, status in fetch_in(
                LEARNERS_BY_ULN_SQL, [centre_hex], [row[1] for row in rows])}


def _hex(value) -> str:
    """An id read with raw SQL (hex text on SQLite, a UUID string on PostgreSQL) as hex."""
    return value if len(value) == 32 else uuid.UUID(str(value)).hex


# -- planning and writing ------------------------------------------------------------------------------------------

def plan_batch(centre_hex: str, rows: list, existing: dict) -> Plan:
    """The writes that upsert a batch of checked rows, given their learners already at the centre
    (existing_learners), and their counts; reads those learners' enrolments and external ids, writes nothing."""
    counts = dict.fromkeys(COUNTS, 0)
    plan = Plan([], [], [], [], [], counts)
    if not rows:
        return plan
    known_ids = [learner_id for learner_id, _, _ in existing.values()]
    enrolled = {(_hex(str(learner)), _hex(str(unit))) for learner, unit in fetch_in(ENROLLED_UNITS_SQL, [], known_ids)}
    held = {(_hex(str(learner)), system, external) for learner, system, external in fetch_in(
        HELD_EXTERNAL_IDS_SQL, [], known_ids)}
    stamp = db_timestamp(utcnow())
    for _row, uln, given, family, email, born, system, external, units, start, end, assessor, kept in rows:
        known = existing.get(uln)
        if known is None:
            learner_id = new_bulk_id().hex
            plan.learners.append((learner_id, centre_hex, uln, given, family, email, born, "active", 1, stamp, stamp))
            counts["created"] += 1
        else:
            learner_id, before, _ = known
            after = tuple(old if name in kept else new for name, old, new in zip(
                SET_BY_ROW, before, (given, family, email, born), strict=True))
            if before == after:
                counts["unchanged"] += 1
            else:
                plan.updates.append((learner_id, before, after))
                counts["updated"] += 1
        if system is not None and (learner_id, system, external) not in held:
            plan.external_ids.append((learner_id, centre_hex, system, external))
        for unit_id, version_id in units:  # distinct units (imports.checking); a new learner has no enrolments yet
            if known is not None and (learner_id, unit_id) in enrolled:
                counts["enrolments_unchanged"] += 1
                continue
            enrolled.add((learner_id, unit_id))
            enrolment_id = new_bulk_id().hex
            plan.enrolments.append((enrolment_id, learner_id, centre_hex, unit_id, version_id, "active", start, end,
                                    1, stamp, stamp))
            if assessor is not None:
                plan.staff.append((enrolment_id, assessor, centre_hex, "assessor"))
            counts["enrolments_created"] += 1
    return plan


def apply_plan(principal: Principal, centre_hex: str, plan: Plan) -> dict:
    """Make a plan's writes (inside the caller's transaction), audited: one event per batch lists the new learners,
    one per changed learner names its changed fields; in the feed, each learner created or updated and each
    enrolment created. Its counts.
    peewee.IntegrityError if another writer made one of its learners, enrolments or external ids since the plan was
    made."""
    now = utcnow()
    events = [_update_learner(principal, learner_id, centre_hex, before, after, now)
              for learner_id, before, after in plan.updates]
    if plan.learners:
        centre_id = uuid.UUID(centre_hex)
        events.append(audit.event_row(principal, "learners.imported", "centre", centre_id, centre_id=centre_id,
                                      after={"created": [dashed(row[0]) for row in plan.learners]}))
    insert_values(Learner, LEARNER_FIELDS, plan.learners)
    insert_values(LearnerExternalId, ["learner", "centre", "system", "external_id"], plan.external_ids)
    insert_values(Enrolment, ENROLMENT_FIELDS, plan.enrolments)
    tallies.add_new([(row[0], row[2], row[4]) for row in plan.enrolments])  # (id, centre, unit version)
    insert_values(EnrolmentStaff, ["enrolment", "account", "centre", "role"], plan.staff)
    insert_rows(AuditEvent, events)
    actor = audit.actor_of(principal)
    feed.append([feed.tracking_row("learner.created", actor, centre_id=centre, learner_id=learner, subject_id=learner)
                 for learner, centre, *_ in plan.learners]
                + [feed.tracking_row("learner.updated", actor, centre_id=centre_hex, learner_id=learner,
                                     subject_id=learner) for learner, _, _ in plan.updates]
                + [feed.tracking_row("enrolment.created", actor, centre_id=centre, learner_id=learner,
                                     enrolment_id=enrolment, unit_id=unit, subject_id=enrolment)
                   for enrolment, learner, centre, unit, *_ in plan.enrolments])
    return plan.counts


def _update_learner(principal, learner_hex: str, centre_hex: str, before: tuple, after: tuple, now) -> dict:
    """Write a row's changed fields (only those: a field it leaves is not written back) to an existing learner; the
    audit event (as a row) that records it."""
    learner_id = uuid.UUID(learner_hex)
    changed = {name: new for name, old, new in zip(SET_BY_ROW, before, after, strict=True) if old != new}
    Learner.update(**changed, row_version=Learner.row_version + 1, updated_at=now).where(
        Learner.id == learner_id).execute()
    return audit.event_row(principal, "learner.updated", "learner", learner_id, centre_id=uuid.UUID(centre_hex),
                           after={"fields": sorted(changed), "imported": True})
