"""Moving learners to a newer version of their unit, with their assessment carried over where it still holds.

For each criterion of the target version, the plan says what happens to it:
- **carried**: its counterpart in the pinned version (the same criterion, or one it declares it ``replaces``) has a
  decision in effect that IQA has not reopened. A new decision is recorded on the new criterion, marked as carried
  and linked to the original (``carried_from``); it is in effect as the original was. Claims carry over too.
- **needs_reassessment**: everything else, with the reason (a new criterion, changed text without a ``replaces``
  link, reopened by IQA, or not assessed yet).
Decisions in effect on criteria that have no counterpart are listed as **dropped** (they stay on the old version).

A dry run returns the plan and writes nothing. A migration is one transaction, audited once per enrolment; the
cohort form migrates every enrolment it names, or none.
"""

import uuid

from api import db
from api.errors import Conflict, NotFound, ValidationFailed
from api.ids import new_id
from api.models import AssessmentCriterion, Claim, Decision, Enrolment, UnitVersion
from api.models.base import utcnow
from api.services.common import audit
from api.services.common.access import (
    Principal,
    can_manage_learners,
    require,
    require_authenticated,
    visible_enrolment,
    visible_learner_records,
    visible_unit,
)
from api.services.credentials import issuing
from api.services.sync import feed
from api.services.tracking import progress, tallies
from api.services.tracking.enrolments import enrolment_body

SAME, REPLACES = CRITERION_LINKS = ("same", "replaces")  # how a new version's criterion links to an old one


def _target(enrolment: Enrolment, number: int | None) -> UnitVersion:
    """The version to move to: ``number``, or the unit's current published version."""
    query = UnitVersion.select().where(UnitVersion.unit == enrolment.unit_id, UnitVersion.status == "published")
    if number is None:
        target = query.where(UnitVersion.is_head).first()
    else:
        target = query.where(UnitVersion.number == number).first()
    if target is None:
        what = f"no published version {number}" if number else "no published version"
        raise ValidationFailed(f"the unit has {what} to move to", errors={"to_version": [what]})
    return target


def _criteria(version_id) -> list[AssessmentCriterion]:
    return list(AssessmentCriterion.select().where(AssessmentCriterion.version == version_id)
                .order_by(AssessmentCriterion.position))


def plan_migration(enrolment: Enrolment, target: UnitVersion) -> dict:
    """What moving ``enrolment`` to ``target`` would do (see the module docstring). Reads only."""
    current = UnitVersion.get_by_id(enrolment.unit_version_id)
    if target.number <= current.number:
        raise Conflict(f"the enrolment is on version {current.number}; it can only move to a later version")
    old = _criteria(current.id)
    state = {c["criterion_id"]: c for o in progress.progress_for([enrolment.id])[enrolment.id]["learning_outcomes"]
             for c in o["criteria"]}
    old_by_identity = {str(c.identity or c.id): c for c in old}
    carried, needs, linked = [], [], set()
    for criterion in _criteria(target.id):
        same = old_by_identity.get(str(criterion.identity))
        replaced = old_by_identity.get(str(criterion.replaces)) if criterion.replaces else None
        counterpart, link = (same, SAME) if same else (replaced, REPLACES) if replaced else (None, None)
        row = {"criterion_id": str(criterion.id), "number": criterion.number}
        if counterpart is None:
            renumbered = next((c for c in old if c.number == criterion.number), None)
            needs.append({**row, "reason": "changed text without a replaces link" if renumbered else "new criterion"})
            continue
        linked.add(str(counterpart.id))
        old_state = state[str(counterpart.id)]
        from_row = {"from_criterion_id": str(counterpart.id), "from_number": counterpart.number, "link": link}
        if old_state["decision_id"] and not old_state["reopened"]:
            carried.append({**row, **from_row, "decision_id": old_state["decision_id"],
                            "outcome": old_state["outcome"], "claims": old_state["claims"]})
        else:
            reason = "reopened by IQA" if old_state["reopened"] else "not assessed yet"
            needs.append({**row, **from_row, "reason": reason})
    dropped = [{"criterion_id": str(c.id), "number": c.number, "decision_id": state[str(c.id)]["decision_id"]}
               for c in old if str(c.id) not in linked and state[str(c.id)]["decision_id"]]
    return {"enrolment_id": str(enrolment.id), "from_version": current.number, "to_version": target.number,
            "to_version_id": str(target.id), "carried": carried, "needs_reassessment": needs, "dropped": dropped,
            "expected": {"criteria": len(carried) + len(needs), "met": sum(1 for c in carried if c["outcome"] == "met"),
                         "claimed": sum(1 for c in carried if c["claims"])}}


def _apply(principal: Principal, enrolment: Enrolment, plan: dict) -> None:
    # Moved first, and only from the version the plan was made on: of two concurrent migrations of one enrolment, the
    # second waits here for the first to commit, then finds the enrolment moved and writes nothing
    moved = (Enrolment.update(unit_version=uuid.UUID(plan["to_version_id"]), row_version=Enrolment.row_version + 1,
                              updated_at=utcnow())
             .where(Enrolment.id == enrolment.id, Enrolment.unit_version == enrolment.unit_version_id,
                    Enrolment.status == "active").execute())
    if moved != 1:
        raise Conflict("the enrolment was moved or changed by another request just now: GET it again")
    originals = {d.id: d for d in Decision.select().where(
        Decision.id.in_([uuid.UUID(c["decision_id"]) for c in plan["carried"]]))}
    for row in plan["carried"]:
        original = originals[uuid.UUID(row["decision_id"])]
        Decision.create(id=new_id(), enrolment=enrolment.id, criterion=uuid.UUID(row["criterion_id"]), sequence=1,
                        outcome=original.outcome, feedback=original.feedback,
                        reason=f"carried over from version {plan['from_version']}", assessor=original.assessor_id,
                        assessor_status=original.assessor_status, evidence_ids=original.evidence_ids,
                        carried_from=original.id)
    claims = [{"id": new_id(), "evidence": claim.evidence_id, "enrolment": enrolment.id,
               "criterion": uuid.UUID(row["criterion_id"])}
              for row in plan["carried"] + plan["needs_reassessment"] if row.get("from_criterion_id")
              for claim in Claim.select().where(Claim.enrolment == enrolment.id,
                                                Claim.criterion == uuid.UUID(row["from_criterion_id"]))]
    if claims:
        Claim.insert_many(claims).execute()
    completion = tallies.refresh(enrolment.id, audit.actor_of(principal))
    issuing.follow(completion)
    feed.append([feed.enrolment_event("enrolment.migrated", audit.actor_of(principal), enrolment), *completion])
    before = {"unit_version_id": str(enrolment.unit_version_id), "version": plan["from_version"]}
    audit.record(principal, "enrolment.migrated", "enrolment", enrolment.id, centre_id=enrolment.centre_id,
                 before=before, after={"unit_version_id": plan["to_version_id"], "version": plan["to_version"],
                                       "carried": len(plan["carried"]),
                                       "needs_reassessment": len(plan["needs_reassessment"])})


def _locked(enrolment: Enrolment) -> Enrolment:
    """``enrolment`` read again under a row lock held until commit: of two concurrent migrations, the second waits
    here and plans from what the first left (a plan made from a version that moved under it would not add up)."""
    return db.for_update(Enrolment.select().where(Enrolment.id == enrolment.id)).get()


def _migratable(principal: Principal, enrolment: Enrolment) -> None:
    require(can_manage_learners(principal, enrolment.centre_id), "only the centre's admins move learners")
    if enrolment.status != "active":
        raise Conflict(f"the enrolment is {enrolment.status}: only active enrolments move to a new version")


def migrate_enrolment(principal: Principal, enrolment_id: uuid.UUID, to_version: int | None, dry_run: bool) -> dict:
    """Plan (and unless ``dry_run``, carry out) moving one enrolment to a newer version of its unit."""
    enrolment = visible_enrolment(principal, enrolment_id)
    if not dry_run:
        enrolment = _locked(enrolment)
    _migratable(principal, enrolment)
    plan = plan_migration(enrolment, _target(enrolment, to_version))
    if not dry_run:
        _apply(principal, enrolment, plan)
    return {"dry_run": dry_run, "plan": plan,
            "enrolment": enrolment_body(Enrolment.get_by_id(enrolment.id))}


def migrate_cohort(principal: Principal, data: dict) -> dict:
    """Move every active enrolment on ``unit_id`` (at ``centre_id``, or just ``enrolment_ids``) that is on an
    older version than the target; all or nothing."""
    require_authenticated(principal)
    unit = visible_unit(principal, data["unit_id"])
    query = visible_learner_records(Enrolment.select().where(Enrolment.unit == unit.id), principal,
                                    Enrolment.centre, Enrolment.learner)
    if data.get("centre_id"):
        query = query.where(Enrolment.centre == data["centre_id"])
    wanted = data.get("enrolment_ids")
    if wanted:
        query = query.where(Enrolment.id.in_(wanted))
    enrolments = list(query.order_by(Enrolment.created_at, Enrolment.id))
    if wanted:
        missing = set(wanted) - {e.id for e in enrolments}
        if missing:
            raise NotFound(f"no enrolments on {unit.code} visible to you with ids {', '.join(map(str, missing))}")
    else:
        enrolments = [e for e in enrolments if e.status == "active"]
    results, current = [], []
    for enrolment in enrolments:
        if not data.get("dry_run"):
            enrolment = _locked(enrolment)
        _migratable(principal, enrolment)
        target = _target(enrolment, data.get("to_version"))
        if enrolment.unit_version_id == target.id:
            current.append(str(enrolment.id))
            continue
        plan = plan_migration(enrolment, target)
        if not data.get("dry_run"):
            _apply(principal, enrolment, plan)
        results.append(plan)
    return {"dry_run": bool(data.get("dry_run")), "unit_id": str(unit.id), "migrated": len(results),
            "already_current": current, "plans": results}
