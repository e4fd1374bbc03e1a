"""Reading the rows of a learner import file (CSV or NDJSON), before any check of what they say.

Columns (CSV header; NDJSON keys): uln, given_name, family_name (required); email, date_of_birth, external_system,
external_id, unit_code, version, qualification_code, start_date, planned_end_date, assessor_email. What a row means
is in api.services.imports.checking.

A row is (row number, values, problems): the numbers a person counts in the file, values stripped, a column the row
has but leaves empty as "" (a column it lacks is not in values). NDJSON values must have the JSON type of their
column: a string (``version``: a whole number, or its digits as a string, as in CSV); anything else is a problem
naming the field. A file that cannot be read as a whole (not UTF-8, no usable header) is ImportRejected.

This is the import's hot loop (every row passes through it once per pass), so it works on plain dicts and tuples
and reports problems as (row, field, message) triples.
"""

import csv
import io
from collections.abc import Iterator

from api.errors import ImportRejected

REQUIRED = ("uln", "given_name", "family_name")
OPTIONAL = ("email", "date_of_birth", "external_system", "external_id", "unit_code", "version", "qualification_code",
            "start_date", "planned_end_date", "assessor_email")
COLUMNS = REQUIRED + OPTIONAL
WHOLE_NUMBER_COLUMNS = ("version",)  # NDJSON may give these as JSON integers
# The example row of the template (GET /v1/imports/learners/template.csv): a learner enrolled on a unit at its current
# version; qualification_code (instead of unit_code), version and assessor_email are left empty.
TEMPLATE_EXAMPLE = {"uln": "9276308686", "given_name": "Ada", "family_name": "Lovelace",
                    "email": "ada.lovelace@example.org", "date_of_birth": "2004-12-10", "external_system": "mis",
                    "external_id": "STU-0001", "unit_code": "B13", "start_date": "2026-09-01",
                    "planned_end_date": "2027-07-31"}


def template_csv() -> str:
    """A CSV file to start an import from: every column, and one example row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerow([TEMPLATE_EXAMPLE.get(column, "") for column in COLUMNS])
    return out.getvalue()


def _text_lines(stream) -> Iterator[str]:
    """UTF-8 lines (a BOM is skipped); ImportRejected on anything that is not UTF-8."""
    reader = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        yield from reader
    except UnicodeDecodeError as error:
        raise not_utf8(error) from None


def not_utf8(error: UnicodeDecodeError) -> ImportRejected:
    return ImportRejected(f"the file is not UTF-8 text (byte {error.start} of a line cannot be decoded): save it "
                          "as UTF-8 and try again", errors={"_file": ["not UTF-8"]})


class UnreadableRow(Exception):
    """(row number, why): a CSV record the csv module cannot read (a field over its size limit)."""


def unreadable(number: int, reason: str) -> ImportRejected:
    return ImportRejected(f"row {number} cannot be read as CSV ({reason}): nothing was imported",
                          errors={"_file": [f"row {number}: {reason}"]})


def read_rows(stream, file_format: str) -> Iterator[tuple[int, dict, list]]:
    """(row number, values, problems) for each data row: the row numbers a person counts in the file (the CSV header
    is row 1; NDJSON lines count from 1), values stripped; a column the row has but leaves empty is "" (a column it
    lacks is not in values)."""
    if file_format == "ndjson":
        return ndjson_rows(_text_lines(stream))
    lines = _text_lines(stream)
    reader = csv.reader(lines)
    try:
        names = header_names(next(reader, None))
    except csv.Error as error:
        raise unreadable(1, str(error)) from None
    return _readable(csv_rows(reader, names, first=2))


def _readable(rows: Iterator) -> Iterator:
    try:
        yield from rows
    except UnreadableRow as error:
        raise unreadable(*error.args) from None


def csv_rows(reader, names: list[str], first: int) -> Iterator[tuple[int, dict, list]]:
    """read_rows for the records of a csv.reader (after the header), numbered from ``first``; empty records are
    skipped but counted. UnreadableRow if the csv module cannot read one."""
    width = len(names)
    number = first - 1
    try:
        for number, cells in enumerate(reader, start=first):  # noqa: B007 - number is read after the loop
            values = dict(zip(names, map(str.strip, cells), strict=False))
            if len(cells) > width:
                yield number, values, [(number, "_row", f"{len(cells)} cells for {width} columns")]
            elif any(values.values()):
                for name in names[len(cells):]:  # a short record: its missing cells are empty, their columns present
                    values[name] = ""
                yield number, values, []
    except csv.Error as error:
        raise UnreadableRow(number + 1, str(error)) from None


def header_names(header: list[str] | None) -> list[str]:
    """The column names of a CSV header row; ImportRejected if there is none or it is not usable."""
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
                             f"{', '.join(COLUMNS)}){_delimiter_hint(header)}", errors=errors)
    return names


def _delimiter_hint(header: list[str]) -> str:
    """A hint when the header is one cell that a delimiter other than the comma would have cut into columns (a
    spreadsheet saved with semicolons, as some locales do, or tab-separated)."""
    if len(header) != 1:
        return ""
    for delimiter, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars")):
        if sum(cell.strip().lower() in COLUMNS for cell in header[0].split(delimiter)) >= 2:
            return (f": the file seems to separate its columns with {name}; save it as comma-separated CSV (UTF-8), "
                    "or start from GET /v1/imports/learners/template.csv")
    return ""


def ndjson_rows(lines, first: int = 1) -> Iterator[tuple[int, dict, list]]:
    """read_rows for NDJSON lines, numbered from ``first``; blank lines are skipped but counted."""
    import orjson

    for number, line in enumerate(lines, start=first):
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
        yield number, *_typed_values(number, parsed)


def _typed_values(number: int, parsed: dict) -> tuple[dict, list]:
    """(values, problems) of an NDJSON object: strings stripped, null as an empty cell, a whole number where the
    column takes one as its digits; an unknown key, or a value of another JSON type, is a problem naming the field."""
    values: dict = {}
    problems: list = []
    for name, value in parsed.items():
        if name not in COLUMNS:
            problems.append((number, name, f"unknown field (the fields are: {', '.join(COLUMNS)})"))
        elif isinstance(value, str):
            values[name] = value.strip()
        elif value is None:
            values[name] = ""
        elif name in WHOLE_NUMBER_COLUMNS and type(value) is int:
            values[name] = str(value)
        else:
            wanted = "a whole number or a string" if name in WHOLE_NUMBER_COLUMNS else "a string"
            problems.append((number, name, f"must be {wanted}, not {_json_type(value)}"))
    return values, sorted(problems)


def _json_type(value) -> str:
    """How JSON names the type of a parsed value, with the value when short (for a problem's message)."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    return "an array" if isinstance(value, list) else "an object"


def in_batches(rows: Iterator, size: int) -> Iterator[list]:
    """``rows`` as lists of ``size`` (the last may be shorter)."""
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
