"""An import job's record: which job a run works on (a new one, or an interrupted one it holds the lease of), its
counts as batches commit, how it ends, and how the API shows it (its body, its refused rows, who may see it)."""

import uuid

from api import db
from api.db import insert_rows
from api.errors import NotFound
from api.ids import new_id
from api.models import LearnerImport, LearnerImportProblem
from api.models.base import utcnow
from api.services.common import audit
from api.services.common.access import Principal, can_import_learners, require_authenticated
from api.services.common.pagination import keyset_page
from api.services.imports.leases import job_lease
from api.services.imports.writing import COUNTS


def new_job(principal, centre, file_format, digest, mode, *, dry_run, clear_empty) -> LearnerImport:
    """A job for a run of the file with SHA-256 ``digest`` at ``centre`` (not saved yet)."""
    return LearnerImport(id=new_id(), centre=centre.id, actor=audit.actor_of(principal), file_sha256=digest,
                         file_format=file_format, mode=mode, dry_run=dry_run, clear_empty=clear_empty)


def claim_job(principal, centre, file_format, digest, mode, clear_empty) -> tuple[LearnerImport, bool, db.Lease]:
    """(the job this run works on, whether it is new, its lease, held): the newest interrupted job of the same file,
    centre, mode and clear_empty that no other run holds, or else a new job (not saved yet)."""
    interrupted = list(LearnerImport.select(LearnerImport.id).where(
        LearnerImport.centre == centre.id, LearnerImport.file_sha256 == digest, LearnerImport.status == "running",
        LearnerImport.mode == mode, LearnerImport.clear_empty == clear_empty, ~LearnerImport.dry_run)
        .order_by(LearnerImport.started_at.desc()))
    for candidate in interrupted:
        lease = job_lease(candidate.id)
        if lease.try_take():
            job = LearnerImport.get_or_none(LearnerImport.id == candidate.id)  # read again, now that it is ours
            if job is not None and job.status == "running":
                return job, False, lease
            lease.release(finished=True)
    job = new_job(principal, centre, file_format, digest, mode, dry_run=False, clear_empty=clear_empty)
    lease = job_lease(job.id)
    if not lease.try_take():  # a new id: no one else can know it yet
        raise RuntimeError(f"the lease of new import job {job.id} is taken")
    return job, True, lease


def add_counts(job: LearnerImport, counts: dict) -> None:
    """Add a batch's counts (keyed by api.services.imports.writing.COUNTS) to the job's."""
    for name in COUNTS:
        setattr(job, name, getattr(job, name) + counts[name])


def finish_job(job: LearnerImport, status: str, *, received=None, rejected=None, problems=(),
               created=False) -> None:
    """Save the job as ended with ``status`` (and its problems, as (row, field, message)); ``created``: it is not
    in the database yet."""
    job.status, job.finished_at = status, utcnow()
    if received is not None:
        job.received = received
    if rejected is not None:
        job.rejected = rejected
    job.save(force_insert=created)
    if problems:
        insert_rows(LearnerImportProblem, [{"job": job.id, "row": r, "field": f, "message": m}
                                           for r, f, m in problems])


def job_body(job: LearnerImport) -> dict:
    """A job as the API shows it. ``counts`` are of rows (received, rejected) and of their learners; ``enrolments``
    counts the enrolments the rows named: created, or already there and left as they are."""
    return {"id": str(job.id), "centre_id": str(job.centre_id), "format": job.file_format, "mode": job.mode,
            "dry_run": job.dry_run, "clear_empty": job.clear_empty, "status": job.status,
            "counts": {k: getattr(job, k) for k in ("received", "created", "updated", "unchanged", "rejected")},
            "enrolments": {"created": job.enrolments_created, "unchanged": job.enrolments_unchanged},
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
    if job is None or not can_import_learners(principal, job.centre_id):
        raise NotFound(f"no import {job_id} visible to you")
    return job


def problem_page(job: LearnerImport, cursor: str | None, limit: int):
    """The job's refused rows, by row, a page at a time (keyset: row, id)."""
    query = LearnerImportProblem.select().where(LearnerImportProblem.job == job.id)
    page = keyset_page(query, [LearnerImportProblem.row, LearnerImportProblem.id], cursor, limit,
                       key_of=lambda p: [p.row, p.id])
    page.items = [{"row": p.row, "field": p.field, "message": p.message} for p in page.items]
    return page
