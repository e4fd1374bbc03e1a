"""Learner imports run at the same time: real `qualtrack import-learners` processes on one file end with exactly one
learner and one active enrolment per row, every job's counts true; and a batch that a unique index refuses (another
writer, not taking the centre's lock, got there first) is written again after reading again, not lost."""

import io
import os
import subprocess
import sys
import time
import uuid

import pytest

from api import db
from api.config import PROJECT_ROOT
from api.models import Enrolment, Learner, LearnerImport, LearnerImportProblem
from api.services import accounts
from api.services.common.access import Principal
from api.services.imports import learner_import
from tests.conftest import TEST_DATABASE_URL
from tests.tracking_helpers import valid_uln

ROWS = 8000  # four batches: a run is still writing when the others start


def _environment(database_url: str) -> dict:
    return {**os.environ, "QUALTRACK_DATABASE_URL": database_url, "QUALTRACK_ENV": "test",
            "PYTHONPATH": str(PROJECT_ROOT)}


def test_runs_of_one_file_at_once_make_each_learner_and_enrolment_once(fresh_url, tmp_path):
    """One run is part-way through its writes (its first batch committed) when two more start together: none takes
    over another's job, each ends complete with counts that add up, and the database holds every row exactly
    once."""
    env = _environment(fresh_url)
    command = [sys.executable, "-m", "api.cli"]
    for args in (["init-db"], ["load-units"], ["create-centre", "--code", "C2", "--name", "Concurrent"]):
        subprocess.run(command + args, cwd=PROJECT_ROOT, env=env, check=True, capture_output=True, timeout=300)
    cohort = tmp_path / "cohort.csv"
    cohort.write_text("uln,given_name,family_name,email,unit_code,start_date\n" + "".join(
        f"{valid_uln(40000 + n)},G{n},F{n},g{n}@example.test,B13,2026-09-01\n" for n in range(ROWS)),
        encoding="utf-8")
    run = [*command, "import-learners", str(cohort), "--centre", "C2", "--processes", "1"]
    watcher = db.make_database(fresh_url)
    processes = []
    try:
        processes.append(subprocess.Popen(run, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True))
        deadline = time.monotonic() + 120
        while processes[0].poll() is None and time.monotonic() < deadline and (watcher.execute_sql(
                "SELECT MAX(rows_done) FROM learner_import").fetchone()[0] or 0) < learner_import.BATCH:
            time.sleep(0.01)  # polling the first run's committed progress
        assert processes[0].poll() is None, "the first run ended before the others started: make the file larger"
        processes += [subprocess.Popen(run, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outputs = [process.communicate(timeout=300) for process in processes]
        assert [process.returncode for process in processes] == [0, 0, 0], outputs

        learners = watcher.execute_sql("SELECT COUNT(*), COUNT(DISTINCT uln) FROM learner").fetchone()
        enrolments = watcher.execute_sql(
            "SELECT COUNT(*), COUNT(DISTINCT learner_id) FROM enrolment WHERE status = 'active'").fetchone()
        jobs = watcher.execute_sql(
            "SELECT status, received, created, updated, unchanged, rejected, enrolments_created, "
            "enrolments_unchanged, rows_done FROM learner_import").fetchall()
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(30)
        watcher.close()
    assert tuple(learners) == (ROWS, ROWS) and tuple(enrolments) == (ROWS, ROWS)
    assert len(jobs) == 3, jobs  # each run its own job: none took over one that another run was writing
    for status, received, created, updated, unchanged, rejected, enrolled, already, done in jobs:
        assert (status, received, rejected, updated, done) == ("complete", ROWS, 0, 0, ROWS)
        assert created + unchanged == ROWS and enrolled + already == ROWS
    assert sum(job[2] for job in jobs) == ROWS and sum(job[6] for job in jobs) == ROWS


@pytest.fixture
def centre_and_admin(separate_database):
    centre = accounts.create_centre("R1", "Raced")
    return centre, Principal(kind="account", id=uuid.UUID(int=0), roles=frozenset({"admin"}))


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="SQLite: one writer holds the whole database from a batch's first "
                                                  "read to its commit, so no other write can come between them")
@pytest.mark.parametrize("last_try", [False, True])
def test_a_learner_created_by_another_writer_during_a_batch_is_not_duplicated_nor_the_batch_lost(
        centre_and_admin, fresh_url, monkeypatch, last_try):
    """Another writer that does not take the centre's lock (here: a second connection, committing at once) creates
    the learner of one row after the batch has read the centre's learners and before it writes. The unique index
    refuses the batch; it is written again after reading again, and the row updates the other writer's learner.
    On the last try (row by row), a row refused once more is reported, and the rest of the batch still goes in."""
    centre, admin = centre_and_admin
    raced = valid_uln(70001)
    other_writer = db.make_database(fresh_url)
    real_existing = learner_import.existing_learners
    injected = []

    def existing_then_raced(centre_hex, rows):
        found = real_existing(centre_hex, rows)
        wanted = len(rows) == 1 if last_try else len(rows) > 1
        if wanted and not injected and raced in {row[1] for row in rows}:
            injected.append(raced)
            other_writer.execute_sql(
                "INSERT INTO learner (id, centre_id, uln, given_name, family_name, status, row_version, created_at, "
                "updated_at) VALUES (%s, %s, %s, 'Other', 'Writer', 'active', 1, now(), now())",
                (str(uuid.uuid4()), str(centre.id), raced))
        return found

    monkeypatch.setattr(learner_import, "existing_learners", existing_then_raced)
    if last_try:
        monkeypatch.setattr(learner_import, "ATTEMPTS", 1)
    text = "uln,given_name,family_name,unit_code,start_date\n" + "".join(
        f"{valid_uln(70000 + n)},R{n},S{n},B13,2026-09-01\n" for n in range(3))
    try:
        job = learner_import.run_import(admin, centre.id, io.BytesIO(text.encode()), "csv", mode="valid_rows")
    finally:
        other_writer.close()
    assert injected == [raced] and job.status == "complete"
    assert Learner.select().where(Learner.uln == raced).count() == 1
    if last_try:  # the raced row's own savepoint was refused again: reported, the others written
        assert (job.received, job.created, job.updated, job.rejected, job.enrolments_created) == (3, 2, 0, 1, 2)
        [problem] = LearnerImportProblem.select().where(LearnerImportProblem.job == job.id)
        assert (problem.row, problem.field) == (3, "_row") and "import the file again" in problem.message
        assert Learner.get(Learner.uln == raced).given_name == "Other"
    else:  # written again after reading again: the other writer's learner is updated and enrolled
        assert (job.received, job.created, job.updated, job.rejected, job.enrolments_created) == (3, 2, 1, 0, 3)
        assert Learner.get(Learner.uln == raced).given_name == "R1"
    assert Enrolment.select().join(Learner).where(Learner.centre == centre.id).count() == job.enrolments_created
    assert LearnerImport.select().count() == 1


def test_a_run_started_while_another_is_writing_the_same_file_makes_its_own_job(centre_and_admin, monkeypatch):
    """A second run of a file starts (in another thread, on its own connection) while the first, having committed
    its first batch, is still going: it does not take over the first run's job (it would look interrupted), but
    runs its own; both jobs end complete with counts that add up, and each learner exists once."""
    import threading

    centre, admin = centre_and_admin
    monkeypatch.setattr(learner_import, "BATCH", 2)
    text = "uln,given_name,family_name,unit_code,start_date\n" + "".join(
        f"{valid_uln(71000 + n)},T{n},U{n},B13,2026-09-01\n" for n in range(6))
    second: list = []

    def second_run() -> None:
        try:
            second.append(learner_import.run_import(admin, centre.id, io.BytesIO(text.encode()), "csv"))
        finally:
            db.release_connection()

    def start_second_run_once(rows_done: int) -> None:
        if rows_done == 2 and not second:
            thread = threading.Thread(target=second_run)
            thread.start()
            thread.join(120)

    first = learner_import.run_import(admin, centre.id, io.BytesIO(text.encode()), "csv",
                                      progress=start_second_run_once)
    [other] = second
    assert first.id != other.id and (first.status, other.status) == ("complete", "complete")
    assert [(job.received, job.created, job.unchanged, job.enrolments_created, job.enrolments_unchanged)
            for job in (first, other)] == [(6, 2, 4, 2, 4), (6, 4, 2, 4, 2)]
    stored = {(job.id, job.created, job.unchanged) for job in LearnerImport.select()}
    assert stored == {(first.id, 2, 4), (other.id, 4, 2)}
    assert Learner.select().where(Learner.centre == centre.id).count() == 6
    assert Enrolment.select().where(Enrolment.centre == centre.id, Enrolment.status == "active").count() == 6


def test_no_job_lease_outlives_its_run(identities, database):
    """Whatever way a run ends (complete, refused by all_or_nothing, or its file refused whole before any job is
    saved), it gives its job's lease back, and on SQLite leaves no lock file beside the database."""
    from api.errors import ValidationFailed
    from api.services.imports import leases as import_leases

    admin = Principal(kind="account", id=uuid.UUID(int=0), roles=frozenset({"admin"}))

    def run(text: str) -> None:
        learner_import.run_import(admin, identities.centres["A"].id, io.BytesIO(text.encode()), "csv")

    run(f"uln,given_name,family_name\n{valid_uln(72000)},L,M\n")
    run("uln,given_name,family_name\n1234567890,Bad,Check\n")
    with pytest.raises(ValidationFailed):
        run("uln,given_name,shoe_size\n")
    if db.is_sqlite():
        folder, name = os.path.split(database.database)
        assert [entry for entry in os.listdir(folder) if entry.startswith(f"{name}.import-")] == []
    else:
        held = database.execute_sql(
            "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
            "AND (classid::bigint >> 16) = %s", (import_leases.JOB_LOCK_SPACE,)).fetchone()[0]
        assert held == 0
    assert LearnerImport.select().count() == 2
