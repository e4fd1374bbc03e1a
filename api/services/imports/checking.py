"""Checking the rows of a learner import file (from api.services.imports.reading), without writing anything: each row
on its own and against what it may refer to at the centre (References), and no ULN or external id on two rows.

A row with a unit_code enrols the learner on that unit (at ``version``, or its current published version); a row
with a qualification_code enrols them on every unit of the qualification's mandatory groups, each at its current
published version. Both may be given. Either needs a start_date.

Nothing is erased by omission: an optional learner field (email, date_of_birth) whose column the file lacks (an
NDJSON key left out), or whose cell is empty (NDJSON: "" or null), leaves the stored value as it is; only an import
asked to ``clear_empty`` clears a stored value with an empty cell. Each checked row says which fields it leaves
(``Checked.kept``).

Like reading, this is the import's hot loop: plain dicts and tuples, problems as (row, field, message) triples.
"""

import re
import uuid
from datetime import date
from typing import NamedTuple

from api.models import (
    Account,
    AccountCentre,
    Qualification,
    QualificationGroup,
    QualificationGroupUnit,
    Unit,
    UnitVersion,
)
from api.services.imports.first_rows import FirstRows
from api.services.imports.reading import REQUIRED
from api.services.tracking.uln import uln_problem

ENROLMENT_COLUMNS = ("version", "start_date", "planned_end_date", "assessor_email")
CLEARABLE = ("email", "date_of_birth")  # the optional learner fields: an import never erases them by omission
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_TEXT = 200


class Checked(NamedTuple):
    """A valid row, in the form it is written: ids as 32-digit hex, dates as ISO strings."""

    row: int
    uln: str
    given_name: str
    family_name: str
    email: str | None
    date_of_birth: str | None
    external_system: str | None
    external_id: str | None
    units: tuple  # ((unit id, unit version id), ...) to enrol on
    start_date: str | None
    planned_end_date: str | None
    assessor: str | None  # account id
    kept: tuple  # of CLEARABLE, the fields the row leaves as stored (column absent, or cell empty without clear_empty)


class References(NamedTuple):
    """What rows may refer to at one centre, loaded once per import; ids as hex."""

    units: dict  # code -> {"head": (unit, version) or None, "versions": {number: (unit, version)}}
    qualifications: dict  # code -> ((unit, version), ...) of its mandatory units, or a str saying what is wrong
    assessors: dict  # email (lower case) -> account id

    @classmethod
    def load(cls, centre_id) -> "References":
        units: dict = {}
        for version in (UnitVersion.select(UnitVersion.id, UnitVersion.number, UnitVersion.is_head, Unit.id, Unit.code)
                        .join(Unit).where(UnitVersion.status == "published")):
            entry = units.setdefault(version.unit.code, {"head": None, "versions": {}})
            pair = (version.unit.id.hex, version.id.hex)
            entry["versions"][version.number] = pair
            if version.is_head:
                entry["head"] = pair
        assessors = {a.email.lower(): a.id.hex for a in Account.select(Account.id, Account.email, Account.roles)
                     .join(AccountCentre).where(AccountCentre.centre == centre_id, Account.is_active)
                     if "assessor" in (a.roles or [])}
        return cls(units, _qualifications(), assessors)


def _qualifications() -> dict:
    """Each published qualification's mandatory units at their current published versions (or why it has none)."""
    heads = {v.unit_id: v.id.hex for v in UnitVersion.select(UnitVersion.id, UnitVersion.unit)
             .where(UnitVersion.status == "published", UnitVersion.is_head)}
    members: dict = {}
    for qualification_id, unit_id, unit_code in (
            QualificationGroupUnit.select(QualificationGroup.qualification, Unit.id, Unit.code)
            .join_from(QualificationGroupUnit, QualificationGroup).join_from(QualificationGroupUnit, Unit)
            .where(QualificationGroup.mandatory)
            .order_by(QualificationGroup.position, QualificationGroupUnit.position).tuples()):
        members.setdefault(str(qualification_id), []).append((uuid.UUID(str(unit_id)), unit_code))
    found: dict = {}
    for qualification in Qualification.select(Qualification.id, Qualification.code).where(
            Qualification.status == "published"):
        mandatory = members.get(str(qualification.id), [])
        unpublished = [code for unit_id, code in mandatory if unit_id not in heads]
        if qualification.code in found:
            found[qualification.code] = f"more than one published qualification has code {qualification.code!r}"
        elif unpublished:
            found[qualification.code] = (f"qualification {qualification.code} has mandatory units with no published "
                                         f"version: {', '.join(unpublished)}")
        else:
            found[qualification.code] = tuple((unit_id.hex, heads[unit_id]) for unit_id, _ in mandatory)
    return found


def _iso_date(values: dict, name: str, number: int, problems: list) -> str | None:
    raw = values.get(name)
    if raw is None:
        return None
    try:
        parsed = date.fromisoformat(raw)  # also takes other ISO 8601 forms (20260901, 2026-W01-1): stored as YYYY-MM-DD
        return raw if len(raw) == 10 and raw[4] == raw[7] == "-" else parsed.isoformat()
    except ValueError:
        problems.append((number, name, f"{raw!r} is not a date: write YYYY-MM-DD"))
        return None


def check_batch(rows: list[tuple[int, dict, list]], refs: References, first_rows: FirstRows,
                clear_empty: bool = False) -> tuple[list, list]:
    """(valid rows as Checked, problems as (row, field, message)) of a batch from read_rows. A ULN or external id
    given on an earlier row (of this batch, or of an earlier one that ``first_rows`` remembers) is a problem."""
    return settle_repeats(*precheck(rows, refs, clear_empty), first_rows)


def precheck(rows: list[tuple[int, dict, list]], refs: References,
             clear_empty: bool = False) -> tuple[list, list, list]:
    """Each row checked on its own: (valid rows as Checked, problems, claims), where claims are (row, key) for each
    ULN and external id the rows give (see check), in row order, for settle_repeats."""
    valid, problems, claims = [], [], []
    for number, values, row_problems in rows:
        if row_problems:
            problems += row_problems
            continue
        row, row_problems, keys = check(number, values, refs, clear_empty)
        claims += [(number, key) for key in keys]
        if row is None:
            problems += row_problems
        else:
            valid.append(row)
    return valid, problems, claims


def settle_repeats(valid: list, problems: list, claims: list, first_rows: FirstRows) -> tuple[list, list]:
    """Refuse each row (of valid) that claims a ULN or external id an earlier row claimed, in this batch or in an
    earlier one (which ``first_rows`` remembers); (valid rows, problems) of the batch."""
    repeats = repeat_problems(claims, first_rows, 0)
    if not repeats:
        return valid, problems
    refused = {number for number, _, _ in repeats}
    return [row for row in valid if row[0] not in refused], problems + repeats


def repeat_problems(claims: list, first_rows: FirstRows, offset: int) -> list[tuple[int, str, str]]:
    """A problem for each claim (row - offset, key) of a batch, in row order, whose key an earlier row claimed: in
    the batch, or in an earlier one (which ``first_rows`` remembers; the batch's first claims are remembered from now
    on)."""
    seen: dict = {}
    repeated = []
    for number, key in claims:
        if key in seen:
            repeated.append((number + offset, key, seen[key]))
        else:
            seen[key] = number + offset
    earlier = first_rows.earlier(seen)
    if earlier:
        repeated += [(number, key, earlier[key]) for key, number in seen.items() if key in earlier]
    return [_repeat_problem(number, key, first) for number, key, first in repeated]


def _repeat_problem(number: int, key: str, first: int) -> tuple[int, str, str]:
    if "\x1f" in key:
        system, external_id = key.split("\x1f", 1)
        return number, "external_id", f"{system} id {external_id} is also on row {first}"
    return number, "uln", f"ULN {key} is also on row {first}"


def check(number: int, given: dict, refs: References, clear_empty: bool = False) -> tuple[Checked | None, list, list]:
    """The row ready to write (or None), its problems as (row, field, message), and the keys it claims (its ULN, if
    well formed, and its external id as system and id joined by a control character, which no value may hold):
    no other row of the file may give them. ``given`` is a row's values from read_rows (an empty cell is "");
    ``clear_empty``: an empty cell clears the stored value instead of leaving it (see the module's docstring)."""
    problems: list = []
    keys: list = []
    values = {name: value for name, value in given.items() if value}
    kept = tuple(name for name in CLEARABLE if name not in values and not (clear_empty and name in given))
    get = values.get
    for name in REQUIRED:
        if name not in values:
            problems.append((number, name, "required"))
    if max(map(len, values.values()), default=0) > MAX_TEXT or CONTROL.search("".join(values.values())):
        problems += [(number, name, f"must be at most {MAX_TEXT} characters, without control characters")
                     for name, value in values.items() if len(value) > MAX_TEXT or CONTROL.search(value)]
    uln = get("uln")
    if uln:
        problem = uln_problem(uln)
        if problem:
            problems.append((number, "uln", problem))
        else:
            keys.append(uln)
    email = get("email")
    if email and not EMAIL.fullmatch(email):
        problems.append((number, "email", f"{email!r} is not an email address"))
    born = _iso_date(values, "date_of_birth", number, problems)
    system, external = get("external_system"), get("external_id")
    if (system is None) != (external is None):
        problems.append((number, "external_id", "external_id and external_system go together"))
    elif system is not None:
        keys.append(f"{system}\x1f{external}")
    units, start, end, assessor = _enrolment(number, values, refs, problems)
    if problems:
        return None, problems, keys
    return Checked(number, uln, values["given_name"], values["family_name"], email, born, system, external, units,
                   start, end, assessor, kept), problems, keys


def _enrolment(number: int, values: dict, refs: References, problems: list) -> tuple:
    """(units, start_date, planned_end_date, assessor) of the row's enrolment columns."""
    code, qualification = values.get("unit_code"), values.get("qualification_code")
    if code is None and qualification is None:
        if any(name in values for name in ENROLMENT_COLUMNS):
            problems.append((number, "unit_code", "unit_code or qualification_code is required when enrolment "
                                                  "columns are given"))
        return (), None, None, None
    units: list = []
    if code is not None:
        unit, wanted = refs.units.get(code), values.get("version")
        if unit is None:
            problems.append((number, "unit_code", f"no published unit with code {code!r}"))
        elif wanted is None:
            if unit["head"] is None:
                problems.append((number, "unit_code", f"unit {code} is withdrawn: it takes no new enrolments"))
            else:
                units.append(unit["head"])
        elif wanted.isdigit() and int(wanted) in unit["versions"]:
            units.append(unit["versions"][int(wanted)])
        else:
            problems.append((number, "version", f"unit {code} has no published version {wanted}"))
    elif "version" in values:
        problems.append((number, "version", "version goes with unit_code (a qualification enrols on the current "
                                            "published version of each unit)"))
    if qualification is not None:
        mandatory = refs.qualifications.get(qualification)
        if mandatory is None:
            problems.append((number, "qualification_code", f"no published qualification with code {qualification!r}"))
        elif isinstance(mandatory, str):
            problems.append((number, "qualification_code", mandatory))
        else:
            units += [pair for pair in mandatory if pair not in units]
    start = _iso_date(values, "start_date", number, problems)
    end = _iso_date(values, "planned_end_date", number, problems)
    if "start_date" not in values:
        problems.append((number, "start_date", "required to enrol on a unit"))
    if start and end and end < start:
        problems.append((number, "planned_end_date", "before start_date"))
    assessor = None
    if "assessor_email" in values:
        assessor = refs.assessors.get(values["assessor_email"].lower())
        if assessor is None:
            problems.append((number, "assessor_email", f"{values['assessor_email']} is not an assessor at this centre"))
    return tuple(units), start, end, assessor
