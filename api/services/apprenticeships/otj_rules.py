"""Planned off-the-job (OTJ) training hours, from the funding rule set that applies to an apprenticeship's start
date. Rule sets are data (table otj_rule_set, seeded from data/otj-rule-sets.json; `qualtrack load-otj-rules FILE`
replaces them), so an operator can follow a new year's funding rules without a release. docs/apprenticeships.md
cites the documents each default comes from.

Methods:
- percent_of_working_hours: ``percent`` of the weekly hours (counted up to ``full_time_weekly_hours``) for every
  planned week less statutory leave;
- weekly_minimum: ``weekly_hours`` a week, pro-rated for an apprentice contracted for fewer than
  ``full_time_weekly_hours``, for every planned week less statutory leave;
- standard_minimum: the minimum the standard version publishes (``minimumHoursForCompliance``).
Recognised prior learning (``prior_learning_hours``) is taken off the result. A plan under the rule set's
``minimum_hours`` is reported as below the minimum, not raised to it."""

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from api.config import PROJECT_ROOT
from api.errors import ValidationFailed
from api.models import Apprenticeship, ApprenticeshipStandardVersion, OtjRuleSet
from api.models.base import content_id, utcnow
from api.services.common import audit
from api.services.common.access import Principal

METHODS = ("percent_of_working_hours", "weekly_minimum", "standard_minimum")
DEFAULT_RULE_SETS = PROJECT_ROOT / "data" / "otj-rule-sets.json"


@dataclass
class Plan:
    """Planned OTJ hours (None when the rule set cannot give them: ``reason`` says why) and the rule set used."""

    hours: float | None
    rule_set: OtjRuleSet | None
    reason: str | None = None

    def to_dict(self) -> dict:
        rule = self.rule_set
        minimum = rule.minimum_hours if rule else None
        return {"planned_hours": self.hours, "reason": self.reason,
                "below_funding_minimum": self.hours is not None and minimum is not None and self.hours < minimum,
                "rule_set": None if rule is None else {
                    "id": rule.id, "title": rule.title, "method": rule.method,
                    "applies_from": rule.applies_from.isoformat(),
                    "applies_until": rule.applies_until.isoformat() if rule.applies_until else None,
                    "minimum_hours": minimum, "sources": rule.sources}}


def rule_set_for(start: date) -> OtjRuleSet | None:
    """The rule set for apprenticeships starting on ``start``."""
    for rule in OtjRuleSet.select().order_by(OtjRuleSet.applies_from.desc()):
        if rule.applies_from <= start and (rule.applies_until is None or start < rule.applies_until):
            return rule
    return None


def planned_hours(row: Apprenticeship, version: ApprenticeshipStandardVersion) -> Plan:
    """The apprenticeship's planned OTJ hours under the rule set for its start date."""
    rule = rule_set_for(row.start_date)
    if rule is None:
        return Plan(None, None, f"no off-the-job rule set covers starts on {row.start_date.isoformat()}")
    if rule.method == "standard_minimum":
        if version.minimum_otj_hours is None:
            return Plan(None, rule, "the standard version publishes no minimum off-the-job hours")
        base = float(version.minimum_otj_hours)
    else:
        weekly = _weekly_hours(rule, row.weekly_hours)
        if weekly is None:
            return Plan(None, rule, "this rule set needs the apprentice's contracted weekly_hours")
        weeks = (row.planned_end_date - row.start_date).days / 7
        working_weeks = weeks - weeks / 52 * (rule.statutory_leave_weeks_per_year or 0)
        base = working_weeks * weekly
    return Plan(round(max(base - (row.prior_learning_hours or 0), 0), 1), rule)


def _weekly_hours(rule: OtjRuleSet, contracted: float | None) -> float | None:
    full_time = rule.full_time_weekly_hours
    if rule.method == "percent_of_working_hours":
        if contracted is None:
            return None
        counted = min(contracted, full_time) if full_time else contracted
        return counted * (rule.percent or 0) / 100
    if contracted is None or not full_time or contracted >= full_time:
        return rule.weekly_hours
    return rule.weekly_hours * contracted / full_time


def load_rule_sets(path: Path, principal: Principal) -> dict:
    """Replace the rule sets with those of a JSON file shaped as data/otj-rule-sets.json (inside the caller's
    transaction; audited, with the sets before and after): {"loaded": n}. A malformed file is a 422 and changes
    nothing."""
    try:
        rules = json.loads(path.read_text(encoding="utf-8"))["rule_sets"]
        rows = [_row(rule) for rule in rules]
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ValidationFailed(f"{path}: not a rule-set file ({error})") from None
    before = [rule.id for rule in OtjRuleSet.select(OtjRuleSet.id).order_by(OtjRuleSet.id)]
    OtjRuleSet.delete().execute()
    if rows:
        OtjRuleSet.insert_many(rows).execute()
    audit.record(principal, "otj_rule_sets.loaded", "otj_rule_set", content_id("otj_rule_sets"),
                 before={"rule_sets": before}, after={"rule_sets": [row["id"] for row in rows], "file": str(path)})
    return {"loaded": len(rows)}


def _row(rule: dict) -> dict:
    if rule["method"] not in METHODS:
        raise ValueError(f"rule set {rule.get('id')}: method must be one of {', '.join(METHODS)}")
    until = rule.get("applies_until")
    return {"id": str(rule["id"]), "title": str(rule["title"]), "method": rule["method"],
            "applies_from": date.fromisoformat(rule["applies_from"]),
            "applies_until": date.fromisoformat(until) if until else None,
            **{name: rule.get(name) for name in ("percent", "weekly_hours", "full_time_weekly_hours",
                                                 "statutory_leave_weeks_per_year", "minimum_hours")},
            "sources": list(rule.get("sources", [])), "updated_at": utcnow()}
