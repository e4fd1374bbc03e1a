"""Bulk import of learners (and their enrolments) from CSV or NDJSON: streamed, validated in batches, honest about
every row, never half-writing a batch, and safe to re-run.

The columns, and what a row means, are in api.services.import_rows (which reads and checks rows); this module runs
the job: its passes over the file, the database checks and the writes.

Rows are upserted by ULN at the centre: new learners are created (one audit event per batch lists them), changed
ones updated (and audited once each), identical ones left alone, so re-running a file writes nothing. Modes:
``all_or_nothing`` (default) validates every row first and writes nothing if any is wrong (the rows it checked are
kept on disk, api.services.checked_rows, so the write pass does not check them again; a large file can be checked
by several processes, api.services.import_chunks); ``valid_rows`` checks and writes in one pass, writing the valid
rows and reporting the others.

Each batch of rows is written in its own transaction together with the job's progress (``rows_done``), so a crash
leaves every committed batch intact and the job still ``running``; importing the same file again resumes after the
last committed row.
"""

import hashlib
import io
import tempfile
import uuid
from collections.abc import Iterator
from functools import partial

from api.db import checkpoints_beside, db_timestamp, fetch_in, insert_rows, insert_values, write_transaction
from api.errors import NotFound, ValidationFailed
from api.ids import new_bulk_id, new_id
from api.models import (
    AuditEvent,
    Centre,
    Enrolment,
    EnrolmentStaff,
    Learner,
    LearnerExternalId,
    LearnerImport,
    LearnerImportProblem,
)
from api.models.base import utcnow
from api.services import audit
from api.services.access import Principal, can_manage_learners, require, require_authenticated
from api.services.checked_rows import CheckedRows
from api.services.first_rows import FirstRows
from api.services.import_chunks import ChunksMisaligned, Report, reports_in_parallel
from api.services.import_rows import (
    COLUMNS,
    ImportRejected,
    References,
    check_batch,
    in_batches,
    precheck,
    read_rows,
    repeat_problems,
)

__all__ = ["COLUMNS", "ImportRejected", "run_import", "job_body", "problems_of", "problem_page", "visible_job"]

BATCH = 2000  # rows per transaction: large enough that per-batch queries and commits cost little per row
LEARNER_FIELDS = ["id", "centre", "uln", "given_name", "family_name", "email", "date_of_birth", "status",
                  "row_version", "created_at", "updated_at"]
ENROLMENT_FIELDS = ["id", "learner", "centre", "unit", "unit_version", "status", "start_date", "planned_end_date",
                    "row_version", "created_at", "updated_at"]


def run_import(principal: Principal, centre_id: uuid.UUID, stream, file_format: str, *, mode: str = "all_or_nothing",
               dry_run: bool = False, progress=None, processes: int = 1) -> LearnerImport:
    """Import a CSV or NDJSON stream into a centre; returns the finished job. ``progress(rows)`` is called after each
    batch (for a progress bar). ``processes`` > 1 lets a large file be checked on that many cores (all_or_nothing and
    dry runs; the command line uses this, a web worker keeps to its one process)."""
    require_authenticated(principal)
    centre = Centre.get_or_none(Centre.id == centre_id)
    if centre is None or not (principal.is_admin or centre.id in principal.centre_ids):
        raise NotFound(f"no centre {centre_id} visible to you")
    require(_may_import(principal, centre.id), "learners are imported by the centre's admins and its import clients")
    if mode not in ("all_or_nothing", "valid_rows") or file_format not in ("csv", "ndjson"):
        raise ValidationFailed("mode is all_or_nothing or valid_rows; format is csv or ndjson",
                               errors={"mode": [mode], "format": [file_format]})
    with tempfile.TemporaryFile() as spool, tempfile.TemporaryDirectory(prefix="qualtrack-import-") as work:
        digest = _hash_and_spool(stream, spool)
        return _run_spooled(principal, centre, _Source(spool, file_format), CheckedRows(work), digest, mode,
                            dry_run, progress, processes)


class _Source:
    """The spooled file, read from the start each time ``rows()`` is called."""

    def __init__(self, spool, file_format: str):
        self.spool, self.format = spool, file_format

    def rows(self) -> Iterator[tuple[int, dict, list]]:
        self.spool.seek(0)
        return read_rows(_Unclosable(self.spool), self.format)


def _hash_and_spool(stream, spool) -> str:
    """Copy the stream to ``spool`` (it is read more than once) and return its SHA-256."""
    digest = hashlib.sha256()
    while chunk := stream.read(1 << 16):
        digest.update(chunk)
        spool.write(chunk)
    spool.flush()  # the file is read through its descriptor too (import_chunks)
    return digest.hexdigest()


def _run_spooled(principal, centre, source: _Source, checked: CheckedRows, digest, mode, dry_run, progress,
                 processes) -> LearnerImport:
    resumed = None if dry_run else (LearnerImport.select().where(
        LearnerImport.centre == centre.id, LearnerImport.file_sha256 == digest, LearnerImport.status == "running",
        LearnerImport.mode == mode).order_by(LearnerImport.started_at.desc()).first())
    job = resumed or LearnerImport(id=new_id(), centre=centre.id, actor=audit.actor_of(principal),
                                   file_sha256=digest, file_format=source.format, mode=mode, dry_run=dry_run)
    refs = References.load(centre.id)
    if dry_run or mode == "all_or_nothing":
        received, problems = _validate_all(source, refs, centre.id.hex, checked, processes)
        rejected = len({row for row, _, _ in problems})
        if dry_run:  # a report only: nothing is written, not even the job
            job.received, job.rejected, job.status, job.finished_at = received, rejected, "complete", utcnow()
            job.report = [{"row": r, "field": f, "message": m} for r, f, m in problems]
            return job
        if problems:  # all or nothing: nothing is written but the job and its report
            with write_transaction():
                _finish(job, "rejected", received=received, rejected=rejected, problems=problems,
                        created=resumed is None)
            return job
        batches = ((index, rows, []) for index, rows in checked.batches(job.rows_done))
    else:
        batches = _checked_batches(source, refs, job.rows_done)
    if resumed is None:
        with write_transaction():
            job.save(force_insert=True)
    _write_all(principal, centre.id.hex, job, batches, progress)
    return job


# -- the passes ----------------------------------------------------------------------------------------------------

def _validate_all(source: _Source, refs: References, centre_hex: str, checked: CheckedRows,
                  processes: int) -> tuple[int, list]:
    """(rows received, [(row, field, message)]) over the whole file, a batch at a time, by ``processes`` processes
    when the file is large enough (see import_chunks). The valid rows are kept in ``checked``, for the write pass."""
    problems_in_database = partial(database_problems, centre_hex)
    if processes > 1:
        try:
            reports = reports_in_parallel(source.spool, source.format, refs, problems_in_database, checked, processes,
                                          BATCH)
            if reports is not None:
                return _settle_all(reports)
        except ChunksMisaligned:  # a CSV whose quotes the cuts cannot follow: read in one process below
            checked.clear()
    return _settle_all(_reports(source, refs, problems_in_database, checked))


def _reports(source: _Source, refs: References, problems_in_database, checked: CheckedRows) -> Iterator[Report]:
    """What checking each batch found, in one process; the valid rows go to ``checked``."""
    for raw in in_batches(source.rows(), BATCH):
        valid, problems, claims = precheck(raw, refs)
        checked.append(valid)
        yield Report(len(raw), problems + problems_in_database(valid), claims, 0)


def _settle_all(reports: Iterator[Report]) -> tuple[int, list]:
    """_validate_all's result from the batches' reports, in file order: a ULN or external id given on an earlier
    row is a problem (in all_or_nothing mode any problem keeps every row out, so no valid row need be dropped)."""
    problems, received = [], 0
    with FirstRows() as first_rows:
        for report in reports:
            received += report.rows
            problems += report.problems + repeat_problems(report.claims, first_rows, report.offset)
    return received, sorted(problems)


def _checked_batches(source: _Source, refs: References, skip: int) -> Iterator[tuple[int, list, list]]:
    """(rows read so far, valid rows, problems of the others) a batch at a time, in one pass (valid_rows mode).
    The first ``skip`` rows (committed by an earlier run of the file) are checked, for repeated ULNs, but not
    returned."""
    index = 0
    with FirstRows() as first_rows:
        for raw in in_batches(source.rows(), BATCH):
            index += len(raw)
            valid, problems = check_batch(raw, refs, first_rows)
            if index <= skip:
                continue
            if index - len(raw) < skip:  # the batch where the earlier run stopped
                last_done = raw[skip - (index - len(raw)) - 1][0]
                valid = [row for row in valid if row.row > last_done]
                problems = [problem for problem in problems if problem[0] > last_done]
            yield index, valid, problems


def _write_all(principal, centre_hex: str, job: LearnerImport, batches, progress) -> None:
    """Write each batch in its own transaction, with the job's progress, so a crash leaves whole batches."""
    with checkpoints_beside() as committed:
        for index, rows, problems in batches:
            _write_one(principal, centre_hex, job, index, rows, problems)
            committed()
            if progress:
                progress(index)
    with write_transaction():
        _finish(job, "complete")


def _write_one(principal, centre_hex: str, job: LearnerImport, index: int, rows: list, problems: list) -> None:
    """Write one batch, and the job's progress, in one transaction. The database checks are made again inside it
    (another import may have run since validation), so on SQLite they and the writes are one atomic step."""
    with write_transaction():
        existing = _existing_learners(centre_hex, rows)
        conflicts = _external_id_problems(centre_hex, rows) + _withdrawn_problems(
            rows, {uln for uln, (_, _, status) in existing.items() if status != "active"})
        if conflicts:
            refused = {number for number, _, _ in conflicts}
            rows = [row for row in rows if row[0] not in refused]
            problems = problems + conflicts
        counts = _write_batch(principal, centre_hex, rows, existing)
        for name in ("created", "updated", "unchanged"):
            setattr(job, name, getattr(job, name) + counts[name])
        job.rejected += len({number for number, _, _ in problems})
        if problems:
            insert_rows(LearnerImportProblem, [{"job": job.id, "row": r, "field": f, "message": m}
                                               for r, f, m in problems])
        job.rows_done = job.received = index
        job.save()


# -- database checks and writes ------------------------------------------------------------------------------------

def database_problems(centre_hex: str, rows: list) -> list[tuple[int, str, str]]:
    """Problems only the database can show, as (row, field, message): an external id that belongs to another
    learner at the centre, and enrolling a withdrawn learner."""
    if not rows:
        return []
    withdrawn = {uln for (uln,) in fetch_in(
        "SELECT uln FROM learner WHERE centre_id = {p} AND status <> {p} AND uln IN ({values})",
        [centre_hex, "active"], [row[1] for row in rows if row[8]])}
    return _external_id_problems(centre_hex, rows) + _withdrawn_problems(rows, withdrawn)


def _external_id_problems(centre_hex: str, rows: list) -> list[tuple[int, str, str]]:
    problems = []
    by_system: dict = {}
    for row in rows:
        if row[6] is not None:
            by_system.setdefault(row[6], {})[row[7]] = row
    for system, wanted in by_system.items():
        for external_id, owner in fetch_in(
                "SELECT e.external_id, l.uln FROM learner_external_id AS e JOIN learner AS l ON l.id = e.learner_id "
                "WHERE e.centre_id = {p} AND e.system = {p} AND e.external_id IN ({values})",
                [centre_hex, system], list(wanted)):
            row = wanted[external_id]
            if owner != row[1]:
                problems.append((row[0], "external_id",
                                 f"{system} id {external_id} belongs to the learner with ULN {owner}"))
    return problems


def _withdrawn_problems(rows: list, withdrawn: set) -> list[tuple[int, str, str]]:
    """A problem for each row that would enrol a learner whose ULN is in ``withdrawn``."""
    if not withdrawn:
        return []
    return [(row[0], "unit_code", f"the learner with ULN {row[1]} is withdrawn: a withdrawn learner cannot be "
                                  "enrolled") for row in rows if row[8] and row[1] in withdrawn]


def _existing_learners(centre_hex: str, rows: list) -> dict:
    """ULN -> (learner id as hex, (given_name, family_name, email, date_of_birth), status) of the rows' learners who
    are already at the centre."""
    if not rows:
        return {}
    return {uln: (_hex(str(learner_id)), (given, family, email, None if born is None else str(born)), status)
            for learner_id, uln, given, family, email, born, status in fetch_in(
                "SELECT id, uln, given_name, family_name, email, date_of_birth, status FROM learner "
                "WHERE centre_id = {p} AND uln IN ({values})", [centre_hex], [row[1] for row in rows])}


def _hex(value) -> str:
    """An id read with raw SQL (hex text on SQLite, a UUID string on PostgreSQL) as hex."""
    return value if len(value) == 32 else uuid.UUID(str(value)).hex


def _write_batch(principal: Principal, centre_hex: str, rows: list, existing: dict) -> dict:
    """Upsert one batch of checked rows, given their learners already at the centre (_existing_learners); counts of
    created, updated and unchanged learners."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    if not rows:
        return counts
    enrolled = {(_hex(str(learner)), _hex(str(unit))) for learner, unit in fetch_in(
        "SELECT learner_id, unit_id FROM enrolment WHERE learner_id IN ({values})", [],
        [learner_id for learner_id, _, _ in existing.values()])}
    now = utcnow()
    stamp = db_timestamp(now)
    learners, external_ids, enrolments, staff, events, created = [], [], [], [], [], []
    for _row, uln, given, family, email, born, system, external, units, start, end, assessor in rows:
        known = existing.get(uln)
        if known is None:
            new = new_bulk_id()
            learner_id = new.hex
            learners.append((learner_id, centre_hex, uln, given, family, email, born, "active", 1, stamp, stamp))
            created.append(str(new))
        else:
            learner_id, before, _ = known
            after = (given, family, email, born)
            if before == after:
                counts["unchanged"] += 1
            else:
                events.append(_update_learner(principal, learner_id, centre_hex, before, after, now))
                counts["updated"] += 1
        if system is not None:
            external_ids.append((learner_id, centre_hex, system, external))
        for unit_id, version_id in units:  # distinct units (import_rows); a new learner has no enrolments yet
            if known is not None:
                if (learner_id, unit_id) in enrolled:
                    continue
                enrolled.add((learner_id, unit_id))
            enrolment_id = new_bulk_id().hex
            enrolments.append((enrolment_id, learner_id, centre_hex, unit_id, version_id, "active", start, end, 1,
                               stamp, stamp))
            if assessor is not None:
                staff.append((enrolment_id, assessor, "assessor"))
    counts["created"] = len(created)
    if created:  # one event per batch of new learners (with their ids); changes are audited row by row
        centre_id = uuid.UUID(centre_hex)
        events.append(audit.event_row(principal, "learners.imported", "centre", centre_id, centre_id=centre_id,
                                      after={"created": created}))
    insert_values(Learner, LEARNER_FIELDS, learners)
    insert_values(LearnerExternalId, ["learner", "centre", "system", "external_id"], external_ids,
                  ignore_conflicts=True)
    insert_values(Enrolment, ENROLMENT_FIELDS, enrolments)
    insert_values(EnrolmentStaff, ["enrolment", "account", "role"], staff)
    insert_rows(AuditEvent, events)
    return counts


def _update_learner(principal, learner_hex: str, centre_hex: str, before: tuple, after: tuple, now) -> dict:
    """Apply a row's changed fields to an existing learner; the audit event (as a row) that records it."""
    names = ("given_name", "family_name", "email", "date_of_birth")
    learner_id = uuid.UUID(learner_hex)
    Learner.update(**dict(zip(names, after, strict=True)), row_version=Learner.row_version + 1, updated_at=now).where(
        Learner.id == learner_id).execute()
    changed = sorted(name for name, old, new in zip(names, before, after, strict=True) if old != new)
    return audit.event_row(principal, "learner.updated", "learner", learner_id, centre_id=uuid.UUID(centre_hex),
                           after={"fields": changed, "imported": True})


def _finish(job: LearnerImport, status: str, *, received=None, rejected=None, problems=(), created=False) -> None:
    job.status, job.finished_at = status, utcnow()
    if received is not None:
        job.received = received
    if rejected is not None:
        job.rejected = rejected
    job.save(force_insert=created)
    if problems:
        insert_rows(LearnerImportProblem, [{"job": job.id, "row": r, "field": f, "message": m}
                                           for r, f, m in problems])


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
