"""Bulk import of learners (and their enrolments) from CSV or NDJSON: streamed, validated in batches, honest about
every row, never half-writing a batch, and safe to re-run.

Columns (CSV header; NDJSON keys): uln, given_name, family_name (required); email, date_of_birth, external_system,
external_id, unit_code, version, start_date, planned_end_date, assessor_email. A row with a unit_code also enrols
the learner on that unit (at ``version``, or its current published version; start_date required).

Rows are upserted by ULN at the centre: new learners are created (one audit event per batch lists them), changed
ones updated (and audited once each), identical ones left alone, so re-running a file writes nothing. Modes:
``all_or_nothing`` (default) validates every row first and writes nothing if any is wrong; ``valid_rows`` writes the
valid rows and reports the others.

Each batch of rows is written in its own transaction together with the job's progress (``rows_done``), so a crash
leaves every committed batch intact and the job still ``running``; importing the same file again resumes after the
last committed row.
"""

import csv
import hashlib
import io
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from peewee import Tuple

from api.db import insert_rows, write_transaction
from api.errors import NotFound, ValidationFailed
from api.models import (
    Account,
    AccountCentre,
    AuditEvent,
    Centre,
    Enrolment,
    EnrolmentStaff,
    Learner,
    LearnerExternalId,
    LearnerImport,
    LearnerImportProblem,
    Unit,
    UnitVersion,
)
from api.models.base import utcnow
from api.services import audit
from api.services.access import Principal, can_manage_learners, require, require_authenticated
from api.services.uln import uln_problem

REQUIRED = ("uln", "given_name", "family_name")
OPTIONAL = ("email", "date_of_birth", "external_system", "external_id", "unit_code", "version", "start_date",
            "planned_end_date", "assessor_email")
COLUMNS = REQUIRED + OPTIONAL
BATCH = 1000
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_TEXT = 200


class ImportRejected(ValidationFailed):
    """The file as a whole cannot be read (encoding, header): nothing is imported."""


@dataclass
class Row:
    number: int  # in the file: the CSV header is row 1; NDJSON lines are numbered from 1
    values: dict
    problems: list = field(default_factory=list)

    def problem(self, name: str, message: str) -> None:
        self.problems.append((name, message))


# -- reading -----------------------------------------------------------------------------------------------------

def _text_lines(stream) -> Iterator[str]:
    """UTF-8 lines (a BOM is skipped); ImportRejected on anything that is not UTF-8."""
    reader = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        yield from reader
    except UnicodeDecodeError as error:
        raise ImportRejected(f"the file is not UTF-8 text (byte {error.start} of a line cannot be decoded): save it "
                             "as UTF-8 and try again", errors={"_file": ["not UTF-8"]}) from None


def read_rows(stream, file_format: str) -> Iterator[Row]:
    """The data rows of a CSV or NDJSON stream, numbered as a person counts them in the file."""
    if file_format == "ndjson":
        for number, line in enumerate(_text_lines(stream), start=1):
            if not line.strip():
                continue
            try:
                values = json.loads(line)
            except json.JSONDecodeError as error:
                row = Row(number, {})
                row.problem("_row", f"not a JSON object: {error.msg}")
                yield row
                continue
            row = Row(number, values if isinstance(values, dict) else {})
            if not isinstance(values, dict):
                row.problem("_row", "each line must be one JSON object")
            for name in sorted(set(row.values) - set(COLUMNS)):
                row.problem(name, f"unknown field (the fields are: {', '.join(COLUMNS)})")
            yield row
        return
    reader = csv.reader(_text_lines(stream))
    header = next(reader, None)
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
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        row = Row(number, {n: c.strip() for n, c in zip(names, cells, strict=False) if c.strip()})
        if len(cells) > len(names):
            row.problem("_row", f"{len(cells)} cells for {len(names)} columns")
        yield row


# -- checking ------------------------------------------------------------------------------------------------------

@dataclass
class References:
    """What rows may refer to at this centre, loaded once per import."""

    units: dict  # code -> {"unit": id, "head": version id or None, "versions": {number: id}}
    assessors: dict  # email (lower case) -> account id

    @classmethod
    def load(cls, centre_id) -> "References":
        units: dict = {}
        for version in (UnitVersion.select(UnitVersion.id, UnitVersion.number, UnitVersion.is_head, Unit.id, Unit.code)
                        .join(Unit).where(UnitVersion.status == "published")):
            entry = units.setdefault(version.unit.code, {"unit": version.unit.id, "head": None, "versions": {}})
            entry["versions"][version.number] = version.id
            if version.is_head:
                entry["head"] = version.id
        assessors = {a.email.lower(): a.id for a in Account.select(Account.id, Account.email, Account.roles)
                     .join(AccountCentre).where(AccountCentre.centre == centre_id, Account.is_active)
                     if "assessor" in (a.roles or [])}
        return cls(units, assessors)


def _date(row: Row, name: str) -> date | None:
    raw = row.values.get(name)
    if raw is None:
        return None
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        row.problem(name, f"{raw!r} is not a date: write YYYY-MM-DD")
        return None


def check(row: Row, refs: References, seen_ulns: dict) -> dict | None:
    """The row as values ready to write, or None (its problems recorded on it)."""
    values = {k: (str(v).strip() if v is not None else None) for k, v in row.values.items()}
    values = {k: v for k, v in values.items() if v}
    for name in REQUIRED:
        if name not in values:
            row.problem(name, "required")
    for name, value in values.items():
        if len(value) > MAX_TEXT or CONTROL.search(value):
            row.problem(name, f"must be at most {MAX_TEXT} characters, without control characters")
    uln = values.get("uln")
    if uln:
        problem = uln_problem(uln)
        if problem:
            row.problem("uln", problem)
        elif uln in seen_ulns:
            row.problem("uln", f"ULN {uln} is also on row {seen_ulns[uln]}")
        else:
            seen_ulns[uln] = row.number
    if "email" in values and not EMAIL.match(values["email"]):
        row.problem("email", f"{values['email']!r} is not an email address")
    born, start, end = _date(row, "date_of_birth"), _date(row, "start_date"), _date(row, "planned_end_date")
    if ("external_id" in values) != ("external_system" in values):
        row.problem("external_id", "external_id and external_system go together")
    elif "external_id" in values:
        key = ("external", values["external_system"], values["external_id"])
        if key in seen_ulns:
            row.problem("external_id", f"{key[1]} id {key[2]} is also on row {seen_ulns[key]}")
        else:
            seen_ulns[key] = row.number
    version_id = assessor = None
    code = values.get("unit_code")
    if code:
        unit = refs.units.get(code)
        if unit is None:
            row.problem("unit_code", f"no published unit with code {code!r}")
        else:
            number = values.get("version")
            if number is not None and not (number.isdigit() and int(number) in unit["versions"]):
                row.problem("version", f"unit {code} has no published version {number}")
            else:
                version_id = unit["versions"][int(number)] if number else unit["head"]
        if start is None and "start_date" not in values:
            row.problem("start_date", "required to enrol on a unit")
        if start and end and end < start:
            row.problem("planned_end_date", "before start_date")
    elif any(k in values for k in ("version", "start_date", "planned_end_date", "assessor_email")):
        row.problem("unit_code", "required when enrolment columns are given")
    if values.get("assessor_email"):
        assessor = refs.assessors.get(values["assessor_email"].lower())
        if assessor is None:
            row.problem("assessor_email", f"{values['assessor_email']} is not an assessor at this centre")
    if row.problems:
        return None
    return {"uln": uln, "given_name": values["given_name"], "family_name": values["family_name"],
            "email": values.get("email"), "date_of_birth": born, "external": (values.get("external_system"),
                                                                              values.get("external_id")),
            "unit": refs.units[code]["unit"] if code else None, "version": version_id, "start_date": start,
            "planned_end_date": end, "assessor": assessor}


# -- writing -------------------------------------------------------------------------------------------------------

def _write_batch(principal: Principal, centre_id, rows: list[tuple[int, dict]]) -> dict:
    """Upsert one batch of checked rows; counts of created, updated and unchanged learners."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    existing = {learner.uln: learner for learner in Learner.select().where(
        Learner.centre == centre_id, Learner.uln.in_([v["uln"] for _, v in rows]))}
    new_learners, new_external, new_enrolments, new_staff, events = [], [], [], [], []
    enrolled = {(e.learner_id, e.unit_id) for e in Enrolment.select(Enrolment.learner, Enrolment.unit).where(
        Enrolment.learner.in_([learner.id for learner in existing.values()]))}
    now = utcnow()
    for _, values in rows:
        learner = existing.get(values["uln"])
        fields_now = {k: values[k] for k in ("given_name", "family_name", "email", "date_of_birth")}
        if learner is None:
            learner_id = uuid.uuid4()
            new_learners.append({"id": learner_id, "centre": centre_id, "uln": values["uln"], **fields_now,
                                 "created_at": now, "updated_at": now})
            counts["created"] += 1
        else:
            learner_id = learner.id
            before = {k: getattr(learner, k) for k in fields_now}
            if before == fields_now:
                counts["unchanged"] += 1
            else:
                Learner.update(**fields_now, row_version=Learner.row_version + 1, updated_at=now).where(
                    Learner.id == learner_id).execute()
                events.append(audit.event_row(
                    principal, "learner.updated", "learner", learner_id, centre_id=centre_id,
                    after={"fields": sorted(k for k in fields_now if before[k] != fields_now[k]), "imported": True}))
                counts["updated"] += 1
        system, external = values["external"]
        if system:
            new_external.append({"learner": learner_id, "centre": centre_id, "system": system,
                                 "external_id": external})
        if values["unit"] and (learner_id, values["unit"]) not in enrolled:
            enrolment_id = uuid.uuid4()
            enrolled.add((learner_id, values["unit"]))
            new_enrolments.append({"id": enrolment_id, "learner": learner_id, "centre": centre_id,
                                   "unit": values["unit"], "unit_version": values["version"],
                                   "start_date": values["start_date"],
                                   "planned_end_date": values["planned_end_date"], "created_at": now,
                                   "updated_at": now})
            if values["assessor"]:
                new_staff.append({"enrolment": enrolment_id, "account": values["assessor"], "role": "assessor"})
    if new_learners:  # one event per batch of new learners (with their ids); changes are audited row by row
        events.append(audit.event_row(principal, "learners.imported", "centre", centre_id, centre_id=centre_id,
                                      after={"created": [str(row["id"]) for row in new_learners]}))
    insert_rows(Learner, new_learners)
    insert_rows(LearnerExternalId, new_external, ignore_conflicts=True)
    insert_rows(Enrolment, new_enrolments)
    insert_rows(EnrolmentStaff, new_staff)
    insert_rows(AuditEvent, events)
    return counts


def _hash_and_spool(stream) -> tuple[io.BufferedRandom, str]:
    """Copy the stream to a temporary file (it is read twice) and hash it."""
    import tempfile

    spool = tempfile.TemporaryFile()  # noqa: SIM115 - returned open: run_import reads it twice, then closes it
    digest = hashlib.sha256()
    while chunk := stream.read(1 << 16):
        digest.update(chunk)
        spool.write(chunk)
    spool.seek(0)
    return spool, digest.hexdigest()


def run_import(principal: Principal, centre_id: uuid.UUID, stream, file_format: str, *, mode: str = "all_or_nothing",
               dry_run: bool = False, progress=None) -> LearnerImport:
    """Import a CSV or NDJSON stream into a centre; returns the finished job. ``progress(rows)`` is called after each
    batch (for a progress bar)."""
    require_authenticated(principal)
    centre = Centre.get_or_none(Centre.id == centre_id)
    if centre is None or not (principal.is_admin or centre.id in principal.centre_ids):
        raise NotFound(f"no centre {centre_id} visible to you")
    require(_may_import(principal, centre.id), "learners are imported by the centre's admins and its import clients")
    if mode not in ("all_or_nothing", "valid_rows") or file_format not in ("csv", "ndjson"):
        raise ValidationFailed("mode is all_or_nothing or valid_rows; format is csv or ndjson",
                               errors={"mode": [mode], "format": [file_format]})
    spool, digest = _hash_and_spool(stream)
    with spool:
        return _run_spooled(principal, centre, spool, digest, file_format, mode, dry_run, progress)


def _run_spooled(principal, centre, spool, digest, file_format, mode, dry_run, progress) -> LearnerImport:
    resumed = None if dry_run else (LearnerImport.select().where(
        LearnerImport.centre == centre.id, LearnerImport.file_sha256 == digest, LearnerImport.status == "running",
        LearnerImport.mode == mode).order_by(LearnerImport.started_at.desc()).first())
    job = resumed or LearnerImport(id=uuid.uuid4(), centre=centre.id, actor=audit.actor_of(principal),
                                   file_sha256=digest, file_format=file_format, mode=mode, dry_run=dry_run)
    refs = References.load(centre.id)
    if dry_run or mode == "all_or_nothing":
        received, problems = _validate_all(spool, file_format, refs, centre.id)
        rejected = len({r for r, _, _ in problems})
        if dry_run:  # a report only: nothing is written, not even the job
            job.received, job.rejected, job.status, job.finished_at = received, rejected, "complete", utcnow()
            job.report = [{"row": r, "field": f, "message": m} for r, f, m in problems]
            return job
        if problems:  # all or nothing: nothing is written but the job and its report
            with write_transaction():
                _finish(job, "rejected", received=received, rejected=rejected, problems=problems,
                        created=resumed is None)
            return job
    if resumed is None:
        with write_transaction():
            job.save(force_insert=True)
    spool.seek(0)
    _write_all(principal, centre.id, job, spool, file_format, refs, progress)
    return job


def external_id_conflicts(centre_id, rows: list[tuple[int, dict]]) -> list[tuple[int, str, str]]:
    """Rows whose external id already belongs to another learner at the centre: [(row, field, message)]."""
    pairs = {values["external"] for _, values in rows if values["external"][0]}
    if not pairs:
        return []
    owners = {(e.system, e.external_id): e.learner.uln for e in LearnerExternalId.select(
        LearnerExternalId.system, LearnerExternalId.external_id, Learner.uln).join(Learner)
        .where(LearnerExternalId.centre == centre_id,
               Tuple(LearnerExternalId.system, LearnerExternalId.external_id).in_(list(pairs)))}
    return [(number, "external_id", f"{values['external'][0]} id {values['external'][1]} belongs to the learner "
                                    f"with ULN {owners[values['external']]}")
            for number, values in rows if owners.get(values["external"], values["uln"]) != values["uln"]]


def _validate_all(spool, file_format: str, refs: References, centre_id) -> tuple[int, list]:
    """(rows received, [(row, field, message)]) over the whole file, in one streaming pass (database checks in
    batches)."""
    seen: dict = {}
    problems, received, pending = [], 0, []
    spool.seek(0)
    for row in read_rows(_Unclosable(spool), file_format):
        received += 1
        values = None if row.problems else check(row, refs, seen)
        if values is None:
            problems += [(row.number, name, message) for name, message in row.problems]
        else:
            pending.append((row.number, values))
        if len(pending) >= BATCH:
            problems += external_id_conflicts(centre_id, pending)
            pending = []
    problems += external_id_conflicts(centre_id, pending)
    return received, sorted(problems)


def _write_all(principal, centre_id, job: LearnerImport, spool, file_format, refs, progress) -> None:
    seen: dict = {}
    batch, rejected, index = [], [], 0
    skip = job.rows_done

    def flush():
        nonlocal batch, rejected
        conflicts = external_id_conflicts(centre_id, batch)
        if conflicts:
            refused = {number for number, _, _ in conflicts}
            batch = [(number, values) for number, values in batch if number not in refused]
            rejected += conflicts
        with write_transaction():
            counts = _write_batch(principal, centre_id, batch) if batch else {}
            for name in ("created", "updated", "unchanged"):
                setattr(job, name, getattr(job, name) + counts.get(name, 0))
            job.rejected += len({r for r, _, _ in rejected})
            if rejected:
                LearnerImportProblem.insert_many([{"job": job.id, "row": r, "field": f, "message": m}
                                                  for r, f, m in rejected]).execute()
            job.rows_done, job.received = index, index
            job.save()
        if progress:
            progress(index)
        batch, rejected = [], []

    for row in read_rows(_Unclosable(spool), file_format):
        index += 1
        values = None if row.problems else check(row, refs, seen)
        if index <= skip:
            continue  # committed by an earlier run of this file
        if values is None:
            rejected += [(row.number, name, message) for name, message in row.problems]
        else:
            batch.append((row.number, values))
        if len(batch) + len(rejected) >= BATCH:
            flush()
    flush()
    with write_transaction():
        _finish(job, "complete")


def _finish(job: LearnerImport, status: str, *, received=None, rejected=None, problems=(), created=False) -> None:
    job.status, job.finished_at = status, utcnow()
    if received is not None:
        job.received = received
    if rejected is not None:
        job.rejected = rejected
    job.save(force_insert=created)
    if problems:
        LearnerImportProblem.insert_many([{"job": job.id, "row": r, "field": f, "message": m}
                                          for r, f, m in problems]).execute()


class _Unclosable(io.RawIOBase):
    """Lets a TextIOWrapper read the spool without closing it when the wrapper is collected."""

    def __init__(self, raw):
        self.raw = raw

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.raw.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


def job_body(job: LearnerImport) -> dict:
    return {"id": str(job.id), "centre_id": str(job.centre_id), "format": job.file_format, "mode": job.mode,
            "dry_run": job.dry_run, "status": job.status,
            "counts": {k: getattr(job, k) for k in ("received", "created", "updated", "unchanged", "rejected")},
            "file_sha256": job.file_sha256}


def problems_of(job: LearnerImport, limit: int = 100) -> list[dict]:
    """The rows a job refused, by row number (a dry run's are kept on the job object only)."""
    if getattr(job, "report", None) is not None:
        return job.report[:limit]
    return [{"row": p.row, "field": p.field, "message": p.message}
            for p in LearnerImportProblem.select().where(LearnerImportProblem.job == job.id)
            .order_by(LearnerImportProblem.row, LearnerImportProblem.id).limit(limit)]


def visible_job(principal: Principal, job_id: uuid.UUID) -> LearnerImport:
    """A job, for those who may import into its centre (NotFound for anyone else)."""
    require_authenticated(principal)
    job = LearnerImport.get_or_none(LearnerImport.id == job_id)
    if job is None or not _may_import(principal, job.centre_id):
        raise NotFound(f"no import {job_id} visible to you")
    return job


def _may_import(principal: Principal, centre_id) -> bool:
    return can_manage_learners(principal, centre_id) or (
        principal.kind == "client" and "import" in principal.scopes and centre_id in principal.centre_ids)


def problem_page(job: LearnerImport, cursor: str | None, limit: int):
    """The job's refused rows, by row, a page at a time (keyset: row, id)."""
    from api.services.pagination import keyset_page

    query = LearnerImportProblem.select().where(LearnerImportProblem.job == job.id)
    page = keyset_page(query, [LearnerImportProblem.row, LearnerImportProblem.id], cursor, limit,
                       key_of=lambda p: [p.row, p.id])
    page.items = [{"row": p.row, "field": p.field, "message": p.message} for p in page.items]
    return page
