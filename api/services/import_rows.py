"""Reading and checking the rows of a learner import file (CSV or NDJSON), without touching the database.

Columns (CSV header; NDJSON keys): uln, given_name, family_name (required); email, date_of_birth, external_system,
external_id, unit_code, version, qualification_code, start_date, planned_end_date, assessor_email.

A row with a unit_code enrols the learner on that unit (at ``version``, or its current published version); a row
with a qualification_code enrols them on every unit of the qualification's mandatory groups, each at its current
published version. Both may be given. Either needs a start_date.

This is the import's hot loop (every row passes through it once per pass), so it works on plain dicts and tuples
and reports problems as (row, field, message) triples.
"""

import csv
import io
import re
import uuid
from collections.abc import Iterator
from datetime import date
from typing import NamedTuple

from api.errors import ValidationFailed
from api.models import (
    Account,
    AccountCentre,
    Qualification,
    QualificationGroup,
    QualificationGroupUnit,
    Unit,
    UnitVersion,
)
from api.services.first_rows import FirstRows
from api.services.uln import uln_problem

REQUIRED = ("uln", "given_name", "family_name")
OPTIONAL = ("email", "date_of_birth", "external_system", "external_id", "unit_code", "version", "qualification_code",
            "start_date", "planned_end_date", "assessor_email")
COLUMNS = REQUIRED + OPTIONAL
ENROLMENT_COLUMNS = ("version", "start_date", "planned_end_date", "assessor_email")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_TEXT = 200


class ImportRejected(ValidationFailed):
    """The file as a whole cannot be read (encoding, header): nothing is imported."""


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


# -- reading -------------------------------------------------------------------------------------------------------

def _text_lines(stream) -> Iterator[str]:
    """UTF-8 lines (a BOM is skipped); ImportRejected on anything that is not UTF-8."""
    reader = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        yield from reader
    except UnicodeDecodeError as error:
        raise ImportRejected(f"the file is not UTF-8 text (byte {error.start} of a line cannot be decoded): save it "
                             "as UTF-8 and try again", errors={"_file": ["not UTF-8"]}) from None


def read_rows(stream, file_format: str) -> Iterator[tuple[int, dict, list]]:
    """(row number, values, problems) for each data row: the row numbers a person counts in the file (the CSV header
    is row 1; NDJSON lines count from 1), values stripped with empty ones left out."""
    if file_format == "ndjson":
        yield from _ndjson_rows(stream)
        return
    reader = csv.reader(_text_lines(stream))
    names = _header(next(reader, None))
    width = len(names)
    for number, cells in enumerate(reader, start=2):
        values = {name: cell for name, cell in zip(names, map(str.strip, cells), strict=False) if cell}
        if len(cells) > width:
            yield number, values, [(number, "_row", f"{len(cells)} cells for {width} columns")]
        elif values:
            yield number, values, []


def _header(header: list[str] | None) -> list[str]:
    if not header or not any(h.strip() for h in header):
        raise ImportRejected("the file has no header row: the first line names the columns, e.g. "
                             f"{','.join(COLUMNS[:5])}", errors={"_header": ["missing"]})
    names = [h.strip().lower() for h in header]
    unknown = [n for n in names if n not in COLUMNS]
    missing = [n for n in REQUIRED if n not in names]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if unknown or missing or duplicated:
        errors = {**{n: ["unknown column"] for n in unknown}, **{n: ["missing column"] for n in missing},
                  **{n: ["column given twice"] for n in duplicated}}
        raise ImportRejected(f"the header row is not usable: {', '.join(sorted(errors))} (the columns are: "
                             f"{', '.join(COLUMNS)})", errors=errors)
    return names


def _ndjson_rows(stream) -> Iterator[tuple[int, dict, list]]:
    import orjson

    for number, line in enumerate(_text_lines(stream), start=1):
        if not line.strip():
            continue
        try:
            parsed = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            yield number, {}, [(number, "_row", f"not a JSON object: {error.args[0].split(':', 1)[0]}")]
            continue
        if not isinstance(parsed, dict):
            yield number, {}, [(number, "_row", "each line must be one JSON object")]
            continue
        values = {k: str(v).strip() for k, v in parsed.items() if v is not None}
        problems = [(number, name, f"unknown field (the fields are: {', '.join(COLUMNS)})")
                    for name in sorted(set(values) - set(COLUMNS))]
        yield number, {k: v for k, v in values.items() if v}, problems


# -- what rows may refer to ----------------------------------------------------------------------------------------

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


# -- checking ------------------------------------------------------------------------------------------------------

def _iso_date(values: dict, name: str, number: int, problems: list) -> str | None:
    raw = values.get(name)
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw).isoformat()
    except ValueError:
        problems.append((number, name, f"{raw!r} is not a date: write YYYY-MM-DD"))
        return None


def check_batch(rows: list[tuple[int, dict, list]], refs: References, first_rows: FirstRows) -> tuple[list, list]:
    """(valid rows as Checked, problems as (row, field, message)) of a batch from read_rows. A ULN or external id
    given on an earlier row (of this batch, or of an earlier one that ``first_rows`` remembers) is a problem."""
    seen: dict = {}
    valid, problems = [], []
    for number, values, row_problems in rows:
        row, row_problems = (None, row_problems) if row_problems else check(number, values, refs, seen)
        if row is None:
            problems += row_problems
        else:
            valid.append(row)
    earlier = first_rows.earlier({_key_text(key): number for key, number in seen.items()})
    if earlier:
        repeated = [(seen[key], key, earlier[text]) for key in seen if (text := _key_text(key)) in earlier]
        problems += [(number, "uln", f"ULN {key} is also on row {first}") if isinstance(key, str) else
                     (number, "external_id", f"{key[0]} id {key[1]} is also on row {first}")
                     for number, key, first in repeated]
        refused = {number for number, _, _ in repeated}
        valid = [row for row in valid if row.row not in refused]
    return valid, problems


def _key_text(key: str | tuple[str, str]) -> str:
    """A ULN as it is; an external id as system and id joined by a control character (which no value may hold)."""
    return key if isinstance(key, str) else f"{key[0]}\x1f{key[1]}"


def check(number: int, values: dict, refs: References, seen: dict) -> tuple[Checked | None, list]:
    """The row ready to write (or None) and its problems as (row, field, message). ``seen`` remembers the ULNs and
    external ids of earlier rows of the batch (and on which row), to report one given twice."""
    problems: list = []
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
        elif uln in seen:
            problems.append((number, "uln", f"ULN {uln} is also on row {seen[uln]}"))
        else:
            seen[uln] = number
    email = get("email")
    if email and not EMAIL.fullmatch(email):
        problems.append((number, "email", f"{email!r} is not an email address"))
    born = _iso_date(values, "date_of_birth", number, problems)
    system, external = get("external_system"), get("external_id")
    if (system is None) != (external is None):
        problems.append((number, "external_id", "external_id and external_system go together"))
    elif system is not None:
        key = (system, external)
        if key in seen:
            problems.append((number, "external_id", f"{system} id {external} is also on row {seen[key]}"))
        else:
            seen[key] = number
    units, start, end, assessor = _enrolment(number, values, refs, problems)
    if problems:
        return None, problems
    return Checked(number, uln, values["given_name"], values["family_name"], email, born, system, external, units,
                   start, end, assessor), problems


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
