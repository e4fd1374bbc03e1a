"""Progress, always derived from the records and never typed in: per criterion, learning outcome, unit, and rolled up
per learner and per centre (and assessor). Any number of enrolments costs the same six queries.

Per criterion, the decision in effect is the latest one that has taken effect (by a qualified assessor, or
countersigned). It is *met* when that decision says met and no IQA verdict has not_confirmed it; *verified* when an IQA
confirmed it. A unit is complete when every criterion is met and no IQA sample of a decision in effect awaits a verdict.
"""

import uuid
from collections import defaultdict
from typing import NamedTuple

from api.db import fetch_in, fetch_rows, is_sqlite
from api.errors import NotFound
from api.models import (
    Enrolment,
    Qualification,
    QualificationGroup,
    QualificationGroupUnit,
    UnitVersion,
)
from api.services.common.access import (
    Principal,
    can_read_centre_progress,
    require_authenticated,
    visible_enrolment,
    visible_learner,
)
from api.services.tracking.queries import (
    CENTRE_TALLY_BY_ASSESSOR_SQL,
    CENTRE_TALLY_SQL,
    PROGRESS_CLAIMS_SQL,
    PROGRESS_CRITERIA_SQL,
    PROGRESS_DECISIONS_NEWEST_SQL,
    PROGRESS_DECISIONS_SQL,
    PROGRESS_ENROLMENTS_SQL,
    PROGRESS_OUTCOMES_SQL,
    PROGRESS_SAMPLES_SQL,
)


def _criterion_state(decisions: list, samples: dict, claim_count: int) -> dict:
    """The state of one criterion from its decisions (ordered tuples: id, outcome, status, countersigned, carried
    from; the newest, and the newest in effect, are enough), the verdicts of sampled decisions, and how often it is
    claimed."""
    in_effect = [d for d in decisions if d[2] == "qualified" or d[3] is not None or d[4] is not None]
    current = in_effect[-1] if in_effect else None
    sampled = current is not None and current[0] in samples
    verdict = samples.get(current[0]) if sampled else None
    reopened = verdict == "not_confirmed"
    return {
        "claimed": claim_count > 0, "claims": claim_count,
        "decision_id": _uuid(current[0]) if current else None,
        "outcome": current[1] if current else None,
        "met": bool(current and current[1] == "met" and not reopened),
        "verified": verdict == "confirmed",
        "reopened": reopened,
        "iqa_outstanding": sampled and verdict is None,
        "awaiting_countersignature": bool(decisions) and decisions[-1] is not (in_effect[-1] if in_effect else None),
    }


def _key(raw) -> str:
    """A raw id from the driver (hex on SQLite, a dashed string or UUID on PostgreSQL) as plain hex."""
    return str(raw).replace("-", "")


def _uuid(raw) -> str:
    """A raw id as the canonical dashed UUID string."""
    text = str(raw)
    if len(text) == 32:
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
    return text


class _Enrolment(NamedTuple):
    """What a progress document says of its enrolment, ids as plain hex."""

    id: str
    learner_id: str
    unit_id: str
    unit_code: str
    unit_version_id: str
    status: str


def _hex(value) -> str:
    """An enrolment id (uuid.UUID or its text) as plain hex."""
    return value.hex if isinstance(value, uuid.UUID) else uuid.UUID(str(value)).hex


def progress_for(enrolment_ids: list) -> dict:
    """Progress of each enrolment in ``enrolment_ids`` that exists: {enrolment id as uuid.UUID: progress document}.
    Six queries in all."""
    found = [_Enrolment(_key(enrolment), _key(learner), _key(unit), code, _key(version), status)
             for enrolment, learner, unit, code, version, status
             in fetch_in(PROGRESS_ENROLMENTS_SQL, [], [_hex(i) for i in enrolment_ids])]
    if not found:
        return {}
    version_ids = list({e.unit_version_id for e in found})
    enrolment_hexes = [e.id for e in found]
    outcomes = defaultdict(list)
    # Ids of one column type come back from the driver in one form (hex on SQLite, dashed on PostgreSQL), so raw ids
    # are compared with raw ids; only the enrolment ids are normalised to hex (through a cache), to match ``found``.
    for outcome_id, version_id, number in fetch_in(PROGRESS_OUTCOMES_SQL, [], version_ids):
        outcomes[_key(version_id)].append((outcome_id, number))
    criteria = defaultdict(list)
    for criterion_id, outcome_id, number in fetch_in(PROGRESS_CRITERIA_SQL, [], version_ids):
        criteria[outcome_id].append((criterion_id, number))
    enrolment_key: dict = {}

    def ekey(raw):
        found = enrolment_key.get(raw)
        return found if found is not None else enrolment_key.setdefault(raw, _key(raw))

    claims = {(ekey(e), c): n for e, c, n in fetch_in(PROGRESS_CLAIMS_SQL, [], enrolment_hexes)}
    decisions = defaultdict(list)
    decisions_sql = PROGRESS_DECISIONS_NEWEST_SQL if is_sqlite() else PROGRESS_DECISIONS_SQL
    for decision_id, enrolment_id, criterion_id, outcome, status, signed, carried in fetch_in(
            decisions_sql, [], enrolment_hexes):
        decisions[(ekey(enrolment_id), criterion_id)].append((decision_id, outcome, status, signed, carried))
    samples = dict(fetch_in(PROGRESS_SAMPLES_SQL, [], enrolment_hexes))
    return {uuid.UUID(e.id): _enrolment_document(e, outcomes[e.unit_version_id], criteria, claims, decisions, samples)
            for e in found}


def _enrolment_document(enrolment: _Enrolment, outcomes, criteria, claims, decisions, samples) -> dict:
    enrolment_key = enrolment.id
    outcome_docs, totals = [], defaultdict(int)
    for outcome_key, outcome_number in outcomes:
        rows = []
        for criterion_key, number in criteria[outcome_key]:
            state = _criterion_state(decisions.get((enrolment_key, criterion_key), []), samples,
                                     claims.get((enrolment_key, criterion_key), 0))
            rows.append({"criterion_id": _uuid(criterion_key), "number": number, **state})
        counts = _counts(rows)
        for name, value in counts.items():
            totals[name] += value
        outcome_docs.append({"outcome_id": _uuid(outcome_key), "number": outcome_number, **counts,
                             "complete": counts["criteria"] == counts["met"] and not counts["iqa_outstanding"],
                             "criteria": rows})
    complete = enrolment_complete(totals)
    return {"enrolment_id": _uuid(enrolment.id), "learner_id": _uuid(enrolment.learner_id),
            "unit_id": _uuid(enrolment.unit_id), "unit_code": enrolment.unit_code,
            "unit_version_id": _uuid(enrolment.unit_version_id), "status": enrolment.status,
            **{k: totals[k] for k in COUNT_KEYS}, "complete": complete,
            "percent_met": round(100 * totals["met"] / totals["criteria"], 1) if totals["criteria"] else 0.0,
            "learning_outcomes": outcome_docs}


COUNT_KEYS = ("criteria", "claimed", "met", "verified", "reopened", "iqa_outstanding", "awaiting_countersignature")


def enrolment_complete(counts: dict) -> bool:
    """Whether an enrolment whose criteria count ``counts`` (COUNT_KEYS) is complete: it has criteria, every one met,
    none reopened and no IQA sample of a decision in effect awaiting its verdict."""
    return counts["criteria"] > 0 and counts["met"] == counts["criteria"] and not counts["iqa_outstanding"] \
        and not counts["reopened"]


def criterion_states(rows: list) -> dict:
    """The state of each criterion in ``rows``, as its progress document derives it: {criterion id as given by the
    driver: state}. A row is (criterion id, how often it is claimed, then one of its decisions or NULLs: id, outcome,
    assessor status, countersigned, carried from, sampled, verdict), decisions in the order they were made; rows with
    no criterion are skipped."""
    claims, decisions, samples = {}, defaultdict(list), {}
    for criterion_id, claim_count, decision_id, outcome, status, signed, carried, sampled, verdict in rows:
        if criterion_id is None:
            continue
        claims[criterion_id] = int(claim_count)
        if decision_id is not None:
            decisions[criterion_id].append((decision_id, outcome, status, signed, carried))
            if sampled:
                samples[decision_id] = verdict
    return {criterion: _criterion_state(decisions[criterion], samples, count) for criterion, count in claims.items()}


def _counts(rows: list) -> dict:
    return {"criteria": len(rows), **{k: sum(1 for r in rows if r[k]) for k in COUNT_KEYS[1:]}}


def enrolment_progress(principal: Principal, enrolment_id: uuid.UUID) -> dict:
    visible_enrolment(principal, enrolment_id)
    return progress_for([enrolment_id])[enrolment_id]


def learner_progress(principal: Principal, learner_id: uuid.UUID) -> dict:
    learner = visible_learner(principal, learner_id)
    ids = [e.id for e in Enrolment.select(Enrolment.id).where(Enrolment.learner == learner.id)]
    documents = progress_for(ids)
    enrolments = [documents[i] for i in ids]
    return {"learner_id": str(learner.id), "enrolments": enrolments,
            "units_complete": sum(1 for e in enrolments if e["complete"]), "units": len(enrolments)}


def centre_progress(principal: Principal, centre_id: uuid.UUID) -> dict:
    """Cohort roll-up for a centre: totals, and per assigned assessor. For the centre's staff and admins. Two queries
    over the enrolments' stored tallies (tallies.py), whatever the number of enrolments."""
    require_authenticated(principal)
    if not can_read_centre_progress(principal, centre_id):
        raise NotFound(f"no centre {centre_id} visible to you")
    [totals] = fetch_rows(CENTRE_TALLY_SQL, [centre_id.hex])
    by_assessor = sorted((_uuid(row[0]), _rollup(row[1:])) for row in fetch_rows(
        CENTRE_TALLY_BY_ASSESSOR_SQL, [centre_id.hex] * 2))
    return {"centre_id": str(centre_id), **_rollup(totals),
            "by_assessor": [{"assessor_id": a, **counts} for a, counts in by_assessor]}


def _rollup(sums) -> dict:
    """Sums of enrolments, complete and COUNT_KEYS, in that order, as counts (sums over no rows are NULL: zero)."""
    return dict(zip(("enrolments", "complete", *COUNT_KEYS), (int(value or 0) for value in sums), strict=True))


def qualification_progress(principal: Principal, learner_id: uuid.UUID, qualification_id: uuid.UUID) -> dict:
    """A learner's progress towards a qualification under its rules of combination, from their unit enrolments:
    a mandatory group needs every unit complete, another group its minimum number of units and of credits."""
    learner = visible_learner(principal, learner_id)
    qualification = Qualification.get_or_none(Qualification.id == qualification_id,
                                               Qualification.status == "published")
    if qualification is None:
        raise NotFound(f"no published qualification {qualification_id}")
    enrolled = {e.unit_id: e.id for e in Enrolment.select(Enrolment.id, Enrolment.unit)
                .where(Enrolment.learner == learner.id, Enrolment.status != "withdrawn")}
    documents = progress_for(list(enrolled.values()))
    units = {unit: (str(enrolment), documents[enrolment]["complete"]) for unit, enrolment in enrolled.items()}
    return {"learner_id": str(learner.id), **qualification_document(qualification, units)}


def qualification_rules(qualification: Qualification) -> tuple[list, dict]:
    """A qualification's rules of combination: its group members in order, and each member unit's credit value."""
    members = list(QualificationGroupUnit.select(QualificationGroupUnit, QualificationGroup)
                   .join(QualificationGroup).where(QualificationGroup.qualification == qualification.id)
                   .order_by(QualificationGroup.position, QualificationGroupUnit.position))
    credits = {u: c for u, c in UnitVersion.select(UnitVersion.unit, UnitVersion.credit_value)
               .where(UnitVersion.unit.in_([m.unit_id for m in members]), UnitVersion.status == "published",
                      UnitVersion.is_head).tuples()}
    return members, credits


def qualification_document(qualification: Qualification, units: dict, rules: tuple | None = None) -> dict:
    """Progress towards ``qualification`` given the learner's enrolments: {unit id: (enrolment id, complete)} for each
    unit they are enrolled on (withdrawn enrolments left out); ``rules`` as qualification_rules gives them (read if
    not given)."""
    members, credits = rules or qualification_rules(qualification)
    groups: dict = {}
    for member in members:
        group = groups.setdefault(member.group.id, {"group": member.group, "units": []})
        enrolment_id, complete = units.get(member.unit_id, (None, False))
        group["units"].append({"unit_id": str(member.unit_id), "enrolment_id": enrolment_id,
                               "complete": bool(complete), "credit_value": credits.get(member.unit_id)})
    group_docs = [_group_document(g["group"], g["units"]) for g in groups.values()]
    earned = sum(u["credit_value"] or 0 for g in group_docs for u in g["units"] if u["complete"])
    min_credits = qualification.source.get("min_credits")
    return {"qualification_id": str(qualification.id), "groups": group_docs,
            "credits_earned": earned, "min_credits": min_credits,
            "achieved": all(g["satisfied"] for g in group_docs) and earned >= (min_credits or 0)}


def _group_document(group, units: list) -> dict:
    done = [u for u in units if u["complete"]]
    credits = sum(u["credit_value"] or 0 for u in done)
    if group.mandatory:
        satisfied = len(done) == len(units)
    else:
        satisfied = len(done) >= (group.min_units or 0) and credits >= (group.min_credits or 0)
    return {"group_id": str(group.id), "name": group.name, "mandatory": group.mandatory,
            "min_units": group.min_units, "min_credits": group.min_credits, "units_complete": len(done),
            "credits_complete": credits, "satisfied": satisfied, "units": units}
