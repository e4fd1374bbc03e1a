"""Bulk import of off-the-job training logs as CSV: one activity a row, for any apprenticeships the caller may record
training for. Every row is checked before anything is written; one bad row refuses the file (422 listing each bad
row's fields) and nothing is recorded. Each row carries the recording system's own id (``external_ref``), so the same
file imported again records nothing twice: a row whose activity is already recorded, with the same content, is
``unchanged``; with different content it is an error. Two imports of the same rows at once: one records them, the
other is a 409 that records nothing (sent again, its rows are unchanged)."""

import csv
import re
import uuid

import peewee
from marshmallow import ValidationError

from api import db
from api.errors import Conflict, ImportRejected, NotFound, ValidationFailed
from api.ids import new_id
from api.inputs.bodies import OtjActivityCreate
from api.models import OtjActivity
from api.models.base import utcnow
from api.services.apprenticeships import otj
from api.services.common import audit
from api.services.common.access import Principal, can_submit_evidence, require_authenticated, visible_apprenticeship
from api.services.imports.reading import UnreadableRow, _text_lines, csv_rows, unreadable

COLUMNS = ("apprenticeship_id", "activity_date", "hours", "kind", "description", "ksb_codes", "evidence_id",
           "external_ref")
REQUIRED = ("apprenticeship_id", "activity_date", "hours", "kind", "description", "external_ref")
MAX_ROWS = 10_000
MAX_ERRORS = 100
LOOKUP_CHUNK = 500  # external refs per query, well under either backend's limit on parameters
HOURS = re.compile(r"[0-9]{1,3}(\.[0-9]{1,4})?")  # plain ASCII digits: "1_0", "1e3" or "٣" are not hours
SCHEMA = OtjActivityCreate()


def import_csv(principal: Principal, stream) -> dict:
    """Record the activities of a CSV file (inside the caller's transaction): counts and the ids recorded."""
    require_authenticated(principal)
    reader = csv.reader(_text_lines(stream))
    try:
        names = _header(next(reader, None))
        rows = list(_rows(reader, names))
    except csv.Error as error:
        raise unreadable(1, str(error)) from None
    except UnreadableRow as error:
        raise unreadable(*error.args) from None
    checked, errors = _checked(principal, rows)
    if errors:
        shown = dict(list(errors.items())[:MAX_ERRORS])
        raise ImportRejected(f"{len(errors)} field(s) of the file are not valid: nothing was recorded",
                             errors=shown)
    rows, by_apprenticeship, now = [], {}, utcnow()
    for apprenticeship, columns, existing in checked:
        if existing is None:
            rows.append({"id": new_id(), "apprenticeship": apprenticeship.id, "centre": apprenticeship.centre_id,
                         "learner": apprenticeship.learner_id, "recorded_by": audit.actor_of(principal),
                         "created_at": now, **columns})
            by_apprenticeship.setdefault(apprenticeship.id, (apprenticeship, []))[1].append(rows[-1]["id"])
    try:
        with db.savepoint():
            db.insert_rows(OtjActivity, rows)
    except peewee.IntegrityError:  # a concurrent import committed some of the same external refs after our look
        raise Conflict("another import recorded some of these activities at the same moment: nothing was recorded "
                       "from this file; send it again, and the rows already recorded will be unchanged") from None
    recorded = [str(row["id"]) for row in rows]
    unchanged = len(checked) - len(rows)
    for apprenticeship, ids in by_apprenticeship.values():
        otj.record_written(principal, apprenticeship, ids, "otj_activity.recorded")
    return {"rows": len(checked), "recorded": len(recorded), "unchanged": unchanged, "activity_ids": recorded}


def _header(header: list[str] | None) -> list[str]:
    names = [h.strip().lower() for h in header or []]
    unknown = [n for n in names if n not in COLUMNS]
    missing = [n for n in REQUIRED if n not in names]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if not names or unknown or missing or duplicated:
        errors = {**{n: ["unknown column"] for n in unknown}, **{n: ["missing column"] for n in missing},
                  **{n: ["column given twice"] for n in duplicated}}
        raise ImportRejected(f"the header row is not usable (the columns are: {', '.join(COLUMNS)}; required: "
                             f"{', '.join(REQUIRED)})", errors=errors or {"_header": ["missing"]})
    return names


def _rows(reader, names: list[str]):
    for count, row in enumerate(csv_rows(reader, names, first=2), start=1):
        if count > MAX_ROWS:
            raise ImportRejected(f"the file has more than {MAX_ROWS} rows: split it", errors={"_file": ["too long"]})
        yield row


def _checked(principal: Principal, rows: list) -> tuple[list, dict]:
    """(apprenticeship, columns, the activity already recorded under the row's external_ref or None) for each row,
    and the errors found, keyed ``row N.field``."""
    errors: dict = {}
    checked, seen, apprenticeships, today = [], {}, {}, utcnow().date()
    for number, values, problems in rows:
        prefix = f"row {number}."
        for _, field, message in problems:
            errors.setdefault(f"{prefix}{field}", []).append(message)
        try:
            data = SCHEMA.load(_typed(values))
            apprenticeship = _apprenticeship(principal, values.get("apprenticeship_id", ""), apprenticeships)
            columns = otj.checked_activity(apprenticeship, data, apprenticeships[apprenticeship.id][1], today=today,
                                           prefix=prefix)
        except ValidationError as error:
            for field, messages in error.normalized_messages().items():
                errors.setdefault(f"{prefix}{field}", []).extend(_flat(messages))
            continue
        except ValidationFailed as error:  # the rules of an activity, its fields already named with the row
            for field, messages in (error.errors or {f"{prefix}_row": [error.detail]}).items():
                errors.setdefault(field, []).extend(messages)
            continue
        key = (apprenticeship.id, columns["external_ref"])
        if key in seen:
            errors.setdefault(f"{prefix}external_ref", []).append(f"also on row {seen[key]}")
            continue
        seen[key] = number
        checked.append((number, apprenticeship, columns))
    recorded = _recorded(list(seen))
    kept = []
    for number, apprenticeship, columns in checked:
        existing = recorded.get((apprenticeship.id, columns["external_ref"]))
        if existing is not None and not _same(existing, columns):
            errors.setdefault(f"row {number}.external_ref", []).append(
                f"already records a different activity ({existing.id})")
            continue
        kept.append((apprenticeship, columns, existing))
    return kept, errors


def _recorded(keys: list[tuple]) -> dict:
    """{(apprenticeship id, external_ref): the activity already recorded under it} for ``keys``, a chunk of
    references per query."""
    found: dict = {}
    apprenticeships = list({apprenticeship for apprenticeship, _ in keys})
    for start in range(0, len(keys), LOOKUP_CHUNK):
        refs = [ref for _, ref in keys[start:start + LOOKUP_CHUNK]]
        for activity in OtjActivity.select().where(OtjActivity.apprenticeship.in_(apprenticeships),
                                                   OtjActivity.external_ref.in_(refs)):
            found[(activity.apprenticeship_id, activity.external_ref)] = activity
    return found


def _typed(values: dict) -> dict:
    """A CSV row as the JSON body OtjActivityCreate reads (numbers as numbers, KSB codes as a list, empties left
    out)."""
    data = {k: v for k, v in values.items() if v != "" and k != "apprenticeship_id"}
    if "hours" in data:
        if not HOURS.fullmatch(data["hours"]):
            raise ValidationError({"hours": ["not a number of hours such as 2 or 1.5"]})
        data["hours"] = float(data["hours"])
    if "ksb_codes" in data:
        data["ksb_codes"] = [code for code in data["ksb_codes"].replace(";", " ").split() if code]
    return data


def _apprenticeship(principal: Principal, text: str, cache: dict):
    try:
        apprenticeship_id = uuid.UUID(text)
    except ValueError:
        raise ValidationError({"apprenticeship_id": ["not an id"]}) from None
    if apprenticeship_id in cache:
        return cache[apprenticeship_id][0]
    try:
        row = visible_apprenticeship(principal, apprenticeship_id)
    except NotFound:
        raise ValidationError({"apprenticeship_id": [f"no apprenticeship {apprenticeship_id} visible to you"]}) \
            from None
    if not can_submit_evidence(principal, row.centre_id, row.learner_id) or row.status == "withdrawn":
        raise ValidationError({"apprenticeship_id": ["you may not record training for this apprenticeship"]})
    cache[row.id] = (row, otj.ksb_codes_of(row))
    return row


def _same(existing: OtjActivity, columns: dict) -> bool:
    return (existing.activity_date, existing.minutes, existing.kind, existing.description,
            list(existing.ksb_codes), str(existing.evidence_id or "") or None) == (
        columns["activity_date"], columns["minutes"], columns["kind"], columns["description"],
        columns["ksb_codes"], str(columns["evidence"]) if columns["evidence"] else None)


def _flat(messages) -> list[str]:
    if isinstance(messages, dict):
        return [f"{key}: {m}" for key, value in messages.items() for m in _flat(value)]
    return [str(m) for m in messages]
