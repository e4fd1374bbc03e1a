"""Bulk import of learners (and their enrolments) from CSV or NDJSON: streamed, validated in batches, honest about
every row, never half-writing a batch, safe to re-run, and safe to run twice at once.

The columns are in api.services.imports.reading, what a row means in api.services.imports.checking, what a batch
does to the database in api.services.imports.writing, and the job's record in api.services.imports.jobs; this module
runs the job: its passes over the file and its transactions.

Rows are upserted by ULN at the centre: new learners are created (one audit event per batch lists them), changed
ones updated (and audited once each), identical ones left alone, so re-running a file writes nothing. A field the
file leaves out, or leaves empty, is never erased (unless the import is asked to ``clear_empty``). Modes:
``all_or_nothing`` (default) validates every row first and writes nothing if any is wrong (the rows it checked are
kept on disk, api.services.imports.checked_rows, so the write pass does not check them again; a large file can be
checked by several processes, api.services.imports.chunks); ``valid_rows`` checks and writes in one pass, writing
the valid rows and reporting the others. A dry run makes every check and plans every write, so its counts (of
learners and of enrolments) are those the real run would report, and writes nothing.

Each batch of rows is written in its own transaction together with the job's progress (``rows_done``), so a crash
leaves every committed batch intact and the job still ``running``; importing the same file again resumes after the
last committed row (the job's lease, api.services.imports.leases, keeps two runs at once from sharing a job). Each
batch transaction first takes the centre's learner lock (learners.lock_centre_learners), so batches creating
learners at one centre, from any run or host, take turns, and each reads the learners that exist after the one
before it committed; the database's unique indexes are the last guard: a batch they refuse is written again after
reading again.
"""

import hashlib
import io
import tempfile
import uuid
from collections.abc import Iterator
from functools import partial

from peewee import IntegrityError

from api.db import checkpoints_beside, insert_rows, write_transaction
from api.errors import ValidationFailed
from api.models import LearnerImport, LearnerImportProblem
from api.models.base import utcnow
from api.services.common.access import Principal, can_import_learners, require, visible_centre
from api.services.imports.checked_rows import CheckedRows
from api.services.imports.checking import References, check_batch, precheck, repeat_problems
from api.services.imports.chunks import ChunksMisaligned, Report, reports_in_parallel
from api.services.imports.first_rows import FirstRows
from api.services.imports.jobs import add_counts, claim_job, finish_job, job_body, new_job, problems_of
from api.services.imports.reading import in_batches, read_rows
from api.services.imports.writing import (
    COUNTS,
    apply_plan,
    database_problems,
    existing_learners,
    external_id_problems,
    plan_batch,
    withdrawn_problems,
)
from api.services.tracking.learners import lock_centre_learners

__all__ = ["run_import", "job_body", "problems_of"]  # a run returns its job: how it is shown is in imports.jobs

BATCH = 2000  # rows per transaction: large enough that per-batch queries and commits cost little per row
ATTEMPTS = 4  # tries of a batch that a unique index refuses (another writer got there first); the last goes row by row
RACED = ("another writer created this learner or one of its enrolments while the row was written, and again when it "
         "was retried: nothing of the row was written; import the file again")


def run_import(principal: Principal, centre_id: uuid.UUID, stream, file_format: str, *, mode: str = "all_or_nothing",
               dry_run: bool = False, progress=None, processes: int = 1, clear_empty: bool = False) -> LearnerImport:
    """Import a CSV or NDJSON stream into a centre; returns the finished job. ``progress(rows)`` is called after each
    batch (for a progress bar). ``processes`` > 1 lets a large file be checked on that many cores (all_or_nothing and
    dry runs; the command line uses this, a web worker keeps to its one process). ``clear_empty``: an empty email or
    date_of_birth cell clears the stored value (by default an empty cell, like an absent column, leaves it)."""
    centre = visible_centre(principal, centre_id)
    require(can_import_learners(principal, centre.id),
            "learners are imported by the centre's admins and its import clients")
    if mode not in ("all_or_nothing", "valid_rows") or file_format not in ("csv", "ndjson"):
        raise ValidationFailed("mode is all_or_nothing or valid_rows; format is csv or ndjson",
                               errors={"mode": [mode], "format": [file_format]})
    with tempfile.TemporaryFile() as spool, tempfile.TemporaryDirectory(prefix="qualtrack-import-") as work:
        digest = _hash_and_spool(stream, spool)
        run = _Run(principal, centre.id.hex, _Source(spool, file_format), CheckedRows(work), References.load(centre.id),
                   processes, clear_empty)
        if dry_run:
            return run.dry(new_job(principal, centre, file_format, digest, mode, dry_run=True,
                                    clear_empty=clear_empty))
        job, new, lease = claim_job(principal, centre, file_format, digest, mode, clear_empty)
        try:
            run.real(job, new, progress)
        finally:  # a job that ended, or was never saved (the file was refused whole), will not be resumed
            lease.release(finished=job.status != "running" or not run.saved)
        return job


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
    spool.flush()  # the file is read through its descriptor too (imports.chunks)
    return digest.hexdigest()


class _Run:
    """One run over a spooled file at a centre: its passes."""

    def __init__(self, principal, centre_hex: str, source: _Source, checked: CheckedRows, refs: References,
                 processes: int, clear_empty: bool):
        self.principal, self.centre_hex, self.source, self.checked = principal, centre_hex, source, checked
        self.refs, self.processes, self.clear_empty = refs, processes, clear_empty
        self.saved = False  # whether the real run's job is in the database

    def dry(self, job: LearnerImport) -> LearnerImport:
        """A report only: every check, and the counts of the writes the real run would make; nothing is written, not
        even the job. Its problems are kept on the job object (problems_of reads them there)."""
        received, problems = self.validate_all()
        refused = {row for row, _, _ in problems}
        job.received, job.rejected = received, len(refused)
        job.report = [{"row": r, "field": f, "message": m} for r, f, m in problems]
        if not (problems and job.mode == "all_or_nothing"):  # else the real run would write nothing: counts stay 0
            for _, rows in self.checked.batches():
                rows = [row for row in rows if row[0] not in refused]
                add_counts(job, plan_batch(self.centre_hex, rows, existing_learners(self.centre_hex, rows)).counts)
        job.status = "complete"  # the dry run ran (REST answers it 200); rejected > 0 says the real run refuses rows
        job.finished_at = utcnow()
        return job

    def real(self, job: LearnerImport, new: bool, progress) -> None:
        """Write the file into ``job`` (new, or an interrupted one resumed after its committed rows)."""
        self.saved = not new
        if job.mode == "all_or_nothing":
            received, problems = self.validate_all()
            if problems:  # all or nothing: nothing is written but the job and its report
                with write_transaction():
                    finish_job(job, "rejected", received=received, rejected=len({row for row, _, _ in problems}),
                            problems=problems, created=new)
                self.saved = True
                return
            batches = ((index, rows, []) for index, rows in self.checked.batches(job.rows_done))
        else:
            batches = self.checked_batches(job.rows_done)
        if new:
            with write_transaction():
                job.save(force_insert=True)
            self.saved = True
        with checkpoints_beside() as committed:
            for index, rows, problems in batches:
                _write_one(self.principal, self.centre_hex, job, index, rows, problems)
                committed()
                if progress:
                    progress(index)
        with write_transaction():
            finish_job(job, "complete")

    def validate_all(self) -> tuple[int, list]:
        """(rows received, [(row, field, message)]) over the whole file, a batch at a time, by ``processes``
        processes when the file is large enough (see imports.chunks). The valid rows are kept in ``checked``, for the
        write pass."""
        problems_in_database = partial(database_problems, self.centre_hex)
        if self.processes > 1:
            try:
                reports = reports_in_parallel(self.source.spool, self.source.format, self.refs, problems_in_database,
                                              self.checked, self.processes, BATCH, self.clear_empty)
                if reports is not None:
                    return _settle_all(reports)
            except ChunksMisaligned:  # a CSV whose quotes the cuts cannot follow: read in one process below
                self.checked.clear()
        return _settle_all(self.reports(problems_in_database))

    def reports(self, problems_in_database) -> Iterator[Report]:
        """What checking each batch found, in one process; the valid rows go to ``checked``."""
        for raw in in_batches(self.source.rows(), BATCH):
            valid, problems, claims = precheck(raw, self.refs, self.clear_empty)
            self.checked.append(valid)
            yield Report(len(raw), problems + problems_in_database(valid), claims, 0)

    def checked_batches(self, skip: int) -> Iterator[tuple[int, list, list]]:
        """(rows read so far, valid rows, problems of the others) a batch at a time, in one pass (valid_rows mode).
        The first ``skip`` rows (committed by an earlier run of the file) are checked, for repeated ULNs, but not
        returned."""
        index = 0
        with FirstRows() as first_rows:
            for raw in in_batches(self.source.rows(), BATCH):
                index += len(raw)
                valid, problems = check_batch(raw, self.refs, first_rows, self.clear_empty)
                if index <= skip:
                    continue
                if index - len(raw) < skip:  # the batch where the earlier run stopped
                    last_done = raw[skip - (index - len(raw)) - 1][0]
                    valid = [row for row in valid if row.row > last_done]
                    problems = [problem for problem in problems if problem[0] > last_done]
                yield index, valid, sorted(map(_storable, problems))


def _settle_all(reports: Iterator[Report]) -> tuple[int, list]:
    """validate_all's result from the batches' reports, in file order: a ULN or external id given on an earlier
    row is a problem (in all_or_nothing mode any problem keeps every row out, so no valid row need be dropped)."""
    problems, received = [], 0
    with FirstRows() as first_rows:
        for report in reports:
            received += report.rows
            problems += report.problems + repeat_problems(report.claims, first_rows, report.offset)
    return received, sorted(map(_storable, problems))


FIELD_LENGTH = LearnerImportProblem.field.max_length


def _storable(problem: tuple[int, str, str]) -> tuple[int, str, str]:
    """A problem as it can be stored and shown: a field name (an NDJSON key may be anything) cut to the column's
    length, and NUL, which the file may hold but PostgreSQL text cannot, written as \\x00."""
    row, field, message = problem
    if "\x00" in field or "\x00" in message or len(field) > FIELD_LENGTH:
        field, message = field.replace("\x00", "\\x00")[:FIELD_LENGTH], message.replace("\x00", "\\x00")
    return row, field, message


def _write_one(principal, centre_hex: str, job: LearnerImport, index: int, rows: list, problems: list) -> None:
    """Write one batch, and the job's progress, in one transaction, after taking the centre's learner lock. The
    database checks are made again inside it (another import may have run since validation). If a unique index
    refuses the batch (a writer that does not take the lock got there first), it is written again, after reading
    again; the last try writes row by row, and reports a row refused yet again rather than fail the batch."""
    before = dict(job.__data__)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with write_transaction():
                lock_centre_learners(centre_hex)
                counts, conflicts = _write_rows(principal, centre_hex, rows, one_by_one=attempt == ATTEMPTS)
                add_counts(job, counts)
                problems_now = problems + conflicts
                job.rejected += len({number for number, _, _ in problems_now})
                insert_rows(LearnerImportProblem, [{"job": job.id, "row": r, "field": f, "message": m}
                                                   for r, f, m in problems_now])
                job.rows_done = job.received = index
                job.save()
            return
        except IntegrityError:
            job.__data__ = dict(before)
            if attempt == ATTEMPTS:
                raise


def _write_rows(principal, centre_hex: str, rows: list, one_by_one: bool) -> tuple[dict, list]:
    """Inside the batch's transaction: write the rows that still pass the database checks; (counts, problems of
    the others). ``one_by_one``: each row in a savepoint of its own, a row that a unique index still refuses being
    reported (RACED) instead of failing the batch."""
    existing = existing_learners(centre_hex, rows)
    conflicts = external_id_problems(centre_hex, rows) + withdrawn_problems(
        rows, {uln for uln, (_, _, status) in existing.items() if status != "active"})
    if conflicts:
        refused = {number for number, _, _ in conflicts}
        rows = [row for row in rows if row[0] not in refused]
    if not one_by_one:
        return apply_plan(principal, centre_hex, plan_batch(centre_hex, rows, existing)), conflicts
    counts = dict.fromkeys(COUNTS, 0)
    for row in rows:
        try:
            with write_transaction():  # a savepoint
                done = apply_plan(principal, centre_hex,
                                  plan_batch(centre_hex, [row], existing_learners(centre_hex, [row])))
        except IntegrityError:
            conflicts.append((row[0], "_row", RACED))
            continue
        for name in COUNTS:
            counts[name] += done[name]
    return counts, conflicts


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


