"""What changed between two versions of a unit: outcomes and criteria added, removed, changed and moved.

Criteria are matched by identity (api.models.AssessmentCriterion): the same identity is the same criterion, in the
same place or moved (renumbered or under another outcome). A criterion that declares it ``replaces`` an old one is
that one changed; so, undeclared, is a criterion with new text at a number the old version used for a criterion that
is gone (``replaces_declared`` says which, and only declared links carry decisions over when learners migrate).
Outcomes are matched by title, then by number (same number, new title: changed).
"""

import uuid

from api.errors import NotFound
from api.models import AssessmentCriterion, LearningOutcome, Unit, UnitVersion
from api.services.common.access import Principal, can_read_content, visible_unit
from api.services.content.catalog import MAX_VERSION_NUMBER


def _version(principal: Principal, unit: Unit, number: int) -> UnitVersion:
    version = None
    if 1 <= number <= MAX_VERSION_NUMBER:
        version = UnitVersion.get_or_none(UnitVersion.unit == unit.id, UnitVersion.number == number)
    if version is None or not can_read_content(principal, version.status, unit.owner_id):
        raise NotFound(f"unit {unit.id} has no version {number} visible to you")
    return version


def _criteria(version: UnitVersion) -> list[dict]:
    outcomes = {o.id: o.number for o in LearningOutcome.select().where(LearningOutcome.version == version.id)}
    return [{"id": str(c.id), "identity": str(c.identity or c.id), "replaces": str(c.replaces) if c.replaces else None,
             "number": c.number, "outcome": outcomes[c.outcome_id], "text": c.text}
            for c in AssessmentCriterion.select().where(AssessmentCriterion.version == version.id)
            .order_by(AssessmentCriterion.position)]


def _outcomes(version: UnitVersion) -> list[dict]:
    return [{"id": str(o.id), "number": o.number, "title": o.title}
            for o in LearningOutcome.select().where(LearningOutcome.version == version.id)
            .order_by(LearningOutcome.position)]


def _diff_outcomes(old: list[dict], new: list[dict]) -> dict:
    result = {"added": [], "removed": [], "changed": [], "moved": []}
    unmatched_old = list(old)
    pending = []
    for outcome in new:
        same = next((o for o in unmatched_old if o["title"] == outcome["title"]), None)
        if same is None:
            pending.append(outcome)
            continue
        unmatched_old.remove(same)
        if same["number"] != outcome["number"]:
            result["moved"].append({"old": same, "new": outcome})
    for outcome in pending:
        same_number = next((o for o in unmatched_old if o["number"] == outcome["number"]), None)
        if same_number is None:
            result["added"].append(outcome)
        else:
            unmatched_old.remove(same_number)
            result["changed"].append({"old": same_number, "new": outcome})
    result["removed"] = unmatched_old
    return result


def _diff_criteria(old: list[dict], new: list[dict]) -> dict:
    result = {"added": [], "removed": [], "changed": [], "moved": [], "unchanged": 0}
    old_by_identity = {c["identity"]: c for c in old}
    matched: set[str] = set()
    pending = []
    for criterion in new:
        same = old_by_identity.get(criterion["identity"])
        if same is not None:
            matched.add(same["identity"])
            if (same["number"], same["outcome"]) == (criterion["number"], criterion["outcome"]):
                result["unchanged"] += 1
            else:
                result["moved"].append({"old": same, "new": criterion})
        elif criterion["replaces"] in old_by_identity:
            replaced = old_by_identity[criterion["replaces"]]
            matched.add(replaced["identity"])
            result["changed"].append({"old": replaced, "new": criterion, "replaces_declared": True})
        else:
            pending.append(criterion)
    for criterion in pending:
        same_number = next((c for c in old if c["number"] == criterion["number"] and c["identity"] not in matched),
                           None)
        if same_number is None:
            result["added"].append(criterion)
        else:
            matched.add(same_number["identity"])
            result["changed"].append({"old": same_number, "new": criterion, "replaces_declared": False})
    result["removed"] = [c for c in old if c["identity"] not in matched]
    return result


def diff_versions(principal: Principal, unit_id: uuid.UUID, a: int, b: int) -> dict:
    """The changes from version ``a`` to version ``b`` of a unit (both visible to the principal)."""
    unit = visible_unit(principal, unit_id)
    old, new = _version(principal, unit, a), _version(principal, unit, b)
    return {
        "unit_id": str(unit.id), "code": unit.code,
        "from": {"version": old.number, "status": old.status, "version_id": str(old.id)},
        "to": {"version": new.number, "status": new.status, "version_id": str(new.id)},
        "outcomes": _diff_outcomes(_outcomes(old), _outcomes(new)),
        "criteria": _diff_criteria(_criteria(old), _criteria(new)),
    }
