"""Bulk learner import (service and CLI): every error kind with its exact row, nothing written when all_or_nothing
refuses, idempotent re-runs, updates audited once, and a crashed import resumed without duplicates."""

import io
import subprocess
import sys

import pytest

from api import db
from api.config import PROJECT_ROOT
from api.errors import ValidationFailed
from api.models import AuditEvent, Enrolment, EnrolmentStaff, Learner, LearnerExternalId, LearnerImport
from api.services.common.access import Principal
from api.services.imports import learner_import, reading
from api.services.tracking import tallies
from tests.tracking_helpers import valid_uln

HEADER = "uln,given_name,family_name,email,date_of_birth,external_system,external_id,unit_code,start_date," \
         "assessor_email"


@pytest.fixture
def admin_a(identities) -> Principal:
    account = identities.accounts["centre_admin_a"]
    return Principal(kind="account", id=account.id, roles=frozenset({"centre_admin"}),
                     centre_ids=frozenset({identities.centres["A"].id}))


def run(principal, identities, text: str | bytes, file_format="csv", **options):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return learner_import.run_import(principal, identities.centres["A"].id, io.BytesIO(data), file_format, **options)


def rows(*lines: str) -> str:
    return "\n".join([HEADER, *lines]) + "\n"


def good_rows(count: int, start: int = 0, unit: str = "B13") -> list[str]:
    return [f"{valid_uln(500 + n)},Ada{n},Lovelace,ada{n}@example.test,2001-02-0{1 + n % 9},mis,M{n},{unit},"
            f"2026-09-01,assessor.a@example.test" for n in range(start, start + count)]


def counts(job) -> tuple:
    return job.received, job.created, job.updated, job.unchanged, job.rejected


def test_import_then_rerun_then_change(admin_a, identities):
    job = run(admin_a, identities, rows(*good_rows(3)))
    assert (job.status, counts(job)) == ("complete", (3, 3, 0, 0, 0))
    learners = list(Learner.select().where(Learner.uln.in_([valid_uln(500 + n) for n in range(3)])))
    assert len(learners) == 3
    enrolments = list(Enrolment.select().where(Enrolment.learner.in_([x.id for x in learners])))
    assert len(enrolments) == 3 and EnrolmentStaff.select().where(
        EnrolmentStaff.enrolment.in_([e.id for e in enrolments])).count() == 3
    assert LearnerExternalId.select().where(LearnerExternalId.system == "mis").count() == 3
    assert tallies.drift([e.id for e in enrolments]) == []  # each new enrolment has its tally (centre progress)

    audited = AuditEvent.select().count()
    again = run(admin_a, identities, rows(*good_rows(3)))
    assert counts(again) == (3, 0, 0, 3, 0) and AuditEvent.select().count() == audited  # nothing written

    changed = good_rows(3)
    changed[1] = changed[1].replace("Ada1,", "Augusta,")
    third = run(admin_a, identities, rows(*changed))
    assert counts(third) == (3, 0, 1, 2, 0)
    assert [e.action for e in AuditEvent.select().order_by(AuditEvent.occurred_at, AuditEvent.id)][audited:] == [
        "learner.updated"]  # once, for the one row that changed


def test_every_error_kind_with_its_row_and_nothing_written(admin_a, identities):
    first = valid_uln(600)
    text = rows(
        f"{first},Ada,Lovelace,,,,,B13,2026-09-01,",                          # row 2: fine
        "1234567890,Bad,Check,,,,,,,",                                         # row 3: check digit
        f"{first},Twice,Over,,,,,,,",                                          # row 4: duplicate ULN
        f"{valid_uln(601)},No,Unit,,,,,XX 99,2026-09-01,",                    # row 5: unknown unit
        f"{valid_uln(602)},No,Assessor,,,,,B13,2026-09-01,nobody@example.test",  # row 6: unknown assessor
        f"{valid_uln(603)},Bad,Dates,,1999-02-30,,,B13,01/09/2026,",          # row 7: two bad dates
        f"{valid_uln(604)},Too,Many,,,,,,,,extra",                             # row 8: an extra cell
    )
    before = Learner.select().count()
    job = run(admin_a, identities, text)
    assert job.status == "rejected" and counts(job) == (7, 0, 0, 0, 6)
    found = [(p["row"], p["field"]) for p in learner_import.problems_of(job)]
    assert found == [(3, "uln"), (4, "uln"), (5, "unit_code"), (6, "assessor_email"), (7, "date_of_birth"),
                     (7, "start_date"), (8, "_row")]
    messages = {(p["row"], p["field"]): p["message"] for p in learner_import.problems_of(job)}
    assert messages[(4, "uln")] == f"ULN {first} is also on row 2"
    assert "check digit" in messages[(3, "uln")]
    assert Learner.select().count() == before  # all or nothing


@pytest.mark.parametrize(("data", "field"), [
    (b"", "_header"),
    (b"uln,given_name,family_name,shoe_size\n", "shoe_size"),
    (b"uln,given_name\n", "family_name"),
    (rows(*good_rows(1)).replace("Lovelace", "Lovel\u00e6ce").encode("latin-1"), "_file"),
    (rows(*good_rows(1), f'{valid_uln(1)},"{"x" * 200_000}",Long').encode(), "_file"),  # beyond the csv module
])
def test_unreadable_files_are_refused_whole(admin_a, identities, data, field):
    with pytest.raises(ValidationFailed) as refused:
        run(admin_a, identities, data)
    assert field in refused.value.errors
    assert LearnerImport.select().count() == 0


@pytest.mark.parametrize("delimiter, named", [(";", "semicolons"), ("\t", "tabs")])
def test_a_file_delimited_otherwise_is_refused_with_a_hint(admin_a, identities, delimiter, named):
    with pytest.raises(ValidationFailed) as refused:
        run(admin_a, identities, rows(*good_rows(2)).replace(",", delimiter))
    assert f"the file seems to separate its columns with {named}" in refused.value.detail
    with pytest.raises(ValidationFailed) as unhinted:  # a header that is simply wrong gets no such hint
        run(admin_a, identities, "name;surname\nAda;Lovelace\n")
    assert "seems to separate" not in unhinted.value.detail


def test_the_template_names_every_column_and_its_example_row_imports(client, auth, identities):
    template = client.get("/v1/imports/learners/template.csv")
    assert template.status_code == 200 and template.mimetype == "text/csv"
    assert "learners-template.csv" in template.headers["Content-Disposition"]
    header, example, *rest = template.get_data(as_text=True).split("\r\n")
    assert header.split(",") == list(reading.COLUMNS) and rest == [""] and example.count(",") == header.count(",")
    dry = client.post(f"/v1/imports/learners?centre_id={identities.centres['A'].id}&dry_run=true",
                      data=template.get_data(), content_type="text/csv", headers=auth("centre_admin_a"))
    assert dry.status_code == 200, dry.get_json()
    body = dry.get_json()
    assert (body["counts"]["received"], body["counts"]["rejected"], body["counts"]["created"],
            body["enrolments"]["created"]) == (1, 0, 1, 1)


def test_valid_rows_mode_dry_run_ndjson_and_bom(admin_a, identities):
    mixed = rows(*good_rows(2), "1234567890,Bad,Check,,,,,,,")
    dry = run(admin_a, identities, mixed, mode="valid_rows", dry_run=True)
    assert counts(dry) == (3, 2, 0, 0, 1) and [p["row"] for p in learner_import.problems_of(dry)] == [4]
    assert LearnerImport.select().count() == 0 and Learner.select().where(Learner.given_name == "Ada0").count() == 0
    job = run(admin_a, identities, mixed, mode="valid_rows")
    assert (job.status, counts(job)) == ("complete", (3, 2, 0, 0, 1))
    ndjson = "\ufeff" + "\n".join(
        f'{{"uln": "{valid_uln(700 + n)}", "given_name": "Émilie {n}", "family_name": "du Châtelet"}}'
        for n in range(2)) + "\n"
    assert counts(run(admin_a, identities, ndjson, file_format="ndjson")) == (2, 2, 0, 0, 0)


def test_other_centres_and_other_roles_cannot_import(identities):
    assessor = Principal(kind="account", id=identities.accounts["assessor_a"].id, roles=frozenset({"assessor"}),
                         centre_ids=frozenset({identities.centres["A"].id}))
    other = Principal(kind="account", id=identities.accounts["centre_admin_b"].id,
                      roles=frozenset({"centre_admin"}), centre_ids=frozenset({identities.centres["B"].id}))
    for principal, status in ((assessor, 403), (other, 404)):  # another centre does not exist for them
        with pytest.raises(Exception) as refused:
            run(principal, identities, rows(*good_rows(1)))
        assert refused.value.status == status


def test_a_crashed_import_resumes_without_duplicates(admin_a, identities, monkeypatch):
    monkeypatch.setattr(learner_import, "BATCH", 2)
    text = rows(*good_rows(5, start=20))

    def crash_after_first_batch(rows_done):
        raise KeyboardInterrupt  # stands in for a kill: the first batch is committed, the rest is not

    with pytest.raises(KeyboardInterrupt):
        run(admin_a, identities, text, progress=crash_after_first_batch)
    [job] = LearnerImport.select()
    assert (job.status, job.rows_done, job.created) == ("running", 2, 2)
    finished = run(admin_a, identities, text)
    assert finished.id == job.id and finished.status == "complete"
    assert counts(finished) == (5, 5, 0, 0, 0)
    assert Learner.select().where(Learner.uln.in_([valid_uln(500 + n) for n in range(20, 25)])).count() == 5


def test_the_cli_imports_with_a_summary(fresh_url, tmp_path):
    env = {"QUALTRACK_DATABASE_URL": fresh_url, "QUALTRACK_ENV": "test", "PYTHONPATH": str(PROJECT_ROOT)}

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "api.cli", *args], cwd=PROJECT_ROOT, env=env,
                              capture_output=True, text=True)

    assert cli("init-db").returncode == 0 and cli("load-units").returncode == 0
    assert cli("create-centre", "--code", "C1", "--name", "Centre one").returncode == 0
    csv_file = tmp_path / "cohort.csv"
    csv_file.write_text("uln,given_name,family_name,unit_code,start_date\n" + "".join(
        f"{valid_uln(800 + n)},Grace{n},Hopper,B13,2026-09-01\n" for n in range(3)), encoding="utf-8")
    first = cli("import-learners", str(csv_file), "--centre", "C1")
    assert first.returncode == 0, first.stderr
    assert "complete" in first.stdout and "│        3 │       3 │" in first.stdout
    again = cli("import-learners", str(csv_file), "--centre", "C1")
    assert again.returncode == 0 and "│        3 │       0 │       0 │         3 │" in again.stdout


def test_the_rest_endpoint(client, auth, identities):
    centre = identities.centres["A"].id
    url = f"/v1/imports/learners?centre_id={centre}"
    body = rows(*good_rows(2, start=40)).encode()
    made = client.post(url, data=body, content_type="text/csv", headers=auth("centre_admin_a"))
    assert made.status_code == 201, made.get_json()
    job = made.get_json()
    assert (job["status"], job["counts"]["created"]) == ("complete", 2) and made.headers["Location"] == job["href"]
    read = client.get(job["href"], headers=auth("centre_admin_a")).get_json()
    assert read["counts"] == job["counts"] and read["problems"] == []

    bad = rows("1234567890,Bad,Check,,,,,,,", *good_rows(1, start=42)).encode()
    refused = client.post(url, data=bad, content_type="text/csv", headers=auth("lms_client_a"))
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    report = refused.get_json()
    assert list(report["errors"]) == ["row 2: uln"] and report["job"]["status"] == "rejected"
    paged = client.get(f"{report['job']['href']}?limit=1", headers=auth("centre_admin_a")).get_json()
    assert paged["problems"] == [{"row": 2, "field": "uln", "message": report["errors"]["row 2: uln"][0]}]

    dry = client.post(f"{url}&dry_run=true", data=body, content_type="text/csv", headers=auth("centre_admin_a"))
    assert dry.status_code == 200 and dry.get_json()["counts"]["received"] == 2
    assert client.post(url, data=body, content_type="text/plain", headers=auth("centre_admin_a")).status_code == 415
    assert client.post(url, data=body, content_type="text/csv").status_code == 401
    assert client.post(url, data=body, content_type="text/csv", headers=auth("centre_admin_b")).status_code == 404
    assert client.post(url, data=body, content_type="text/csv", headers=auth("assessor_a")).status_code == 403
    assert client.get(job["href"], headers=auth("centre_admin_b")).status_code == 404


def test_a_killed_import_process_resumes_to_exact_counts(fresh_url, tmp_path):
    """A real `qualtrack import-learners` is killed (SIGKILL) after its first committed batch; running it again
    completes the same job, and the database ends with every row exactly once."""
    import os
    import signal

    from api import db

    env = {**os.environ, "QUALTRACK_DATABASE_URL": fresh_url, "QUALTRACK_ENV": "test",
           "PYTHONPATH": str(PROJECT_ROOT)}
    command = [sys.executable, "-m", "api.cli"]
    for args in (["init-db"], ["load-units"], ["create-centre", "--code", "K1", "--name", "Killed"]):
        subprocess.run(command + args, cwd=PROJECT_ROOT, env=env, check=True, capture_output=True)
    total = 8000
    csv_file = tmp_path / "big.csv"
    csv_file.write_text("uln,given_name,family_name,unit_code,start_date\n" + "".join(
        f"{valid_uln(20000 + n)},G{n},F{n},B13,2026-09-01\n" for n in range(total)), encoding="utf-8")
    watcher = db.make_database(fresh_url)

    def job_state():
        row = watcher.execute_sql("SELECT status, rows_done FROM learner_import").fetchone()
        return row if row else (None, 0)

    process = subprocess.Popen(command + ["import-learners", str(csv_file), "--centre", "K1"], cwd=PROJECT_ROOT,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines = []  # stderr is no terminal, so the CLI prints a line as each batch is committed
    while not (lines and lines[-1].endswith(" committed\n")) and (line := process.stderr.readline()):
        lines.append(line)
    assert lines and lines[-1] == f"rows {learner_import.BATCH} of {total} committed\n", lines
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    status, done = job_state()
    assert status == "running" and learner_import.BATCH <= done < total, (status, done)
    learners = watcher.execute_sql("SELECT COUNT(*) FROM learner").fetchone()[0]
    assert learners == done  # every committed batch intact, nothing half-written

    finished = subprocess.run(command + ["import-learners", str(csv_file), "--centre", "K1"], cwd=PROJECT_ROOT,
                              env=env, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    counts_now = watcher.execute_sql(
        "SELECT COUNT(*), COUNT(DISTINCT uln) FROM learner").fetchone()
    enrolments = watcher.execute_sql("SELECT COUNT(*) FROM enrolment").fetchone()[0]
    jobs = watcher.execute_sql("SELECT status, received, created, rows_done FROM learner_import").fetchall()
    watcher.close()
    assert tuple(counts_now) == (total, total) and enrolments == total
    assert [tuple(j) for j in jobs] == [("complete", total, total, total)]  # the same job, resumed


def test_an_external_id_cannot_move_to_another_learner(admin_a, identities):
    assert run(admin_a, identities, rows(*good_rows(1, start=60))).status == "complete"  # mis/M60 is taken
    taken = f"{valid_uln(661)},Other,Person,,,mis,M60,,,"
    twice = [f"{valid_uln(662)},A,B,,,mis,X1,,,", f"{valid_uln(663)},C,D,,,mis,X1,,,"]
    job = run(admin_a, identities, rows(taken, *twice))
    assert job.status == "rejected"
    assert [(p["row"], p["field"]) for p in learner_import.problems_of(job)] == [(2, "external_id"),
                                                                                 (4, "external_id")]
    messages = [p["message"] for p in learner_import.problems_of(job)]
    assert f"belongs to the learner with ULN {valid_uln(560)}" in messages[0] and "also on row 3" in messages[1]
    partial = run(admin_a, identities, rows(taken, *twice), mode="valid_rows")
    assert counts(partial) == (3, 1, 0, 0, 2)
    assert LearnerExternalId.select().where(LearnerExternalId.external_id == "M60").count() == 1


def test_a_qualification_code_enrols_on_its_mandatory_units(admin_a, identities):
    from api.models import Unit
    from api.services.content.loader import load_path

    assert load_path(PROJECT_ROOT / "tests" / "fixtures" / "qualification.yaml").ok  # B13 mandatory, CS 34 optional
    header = "uln,given_name,family_name,unit_code,qualification_code,start_date"
    text = "\n".join([header, f"{valid_uln(900)},Q,Only,,TEST/0001/1,2026-09-01",
                      f"{valid_uln(901)},Q,Plus,CS 34,TEST/0001/1,2026-09-01"]) + "\n"
    job = run(admin_a, identities, text)
    assert (job.status, counts(job)) == ("complete", (2, 2, 0, 0, 0)), learner_import.problems_of(job)

    def units_of(uln):
        return sorted(Unit.get_by_id(e.unit_id).code for e in Enrolment.select().join(Learner).where(
            Learner.uln == uln, Learner.centre == identities.centres["A"].id))

    assert units_of(valid_uln(900)) == ["B13"] and units_of(valid_uln(901)) == ["B13", "CS 34"]
    enrolments = Enrolment.select().count()
    assert counts(run(admin_a, identities, text)) == (2, 0, 0, 2, 0) and Enrolment.select().count() == enrolments

    wrong = "\n".join([header + ",version", f"{valid_uln(902)},No,Such,,NOPE/1,2026-09-01,",
                       f"{valid_uln(903)},No,Start,,TEST/0001/1,,", f"{valid_uln(904)},Bad,Version,,TEST/0001/1,"
                                                                     "2026-09-01,1"]) + "\n"
    refused = run(admin_a, identities, wrong)
    assert refused.status == "rejected"
    assert [(p["row"], p["field"]) for p in learner_import.problems_of(refused)] == [
        (2, "qualification_code"), (3, "start_date"), (4, "version")]


def test_a_withdrawn_learner_is_not_enrolled_again(admin_a, identities):
    assert run(admin_a, identities, rows(f"{valid_uln(950)},Wendy,Withdrawn,,,,,,,")).status == "complete"
    Learner.update(status="withdrawn").where(Learner.uln == valid_uln(950)).execute()
    job = run(admin_a, identities, rows(f"{valid_uln(950)},Wendy,Withdrawn,,,,,B13,2026-09-01,"), mode="valid_rows")
    assert counts(job) == (1, 0, 0, 0, 1)
    assert learner_import.problems_of(job)[0]["message"] == (f"the learner with ULN {valid_uln(950)} is withdrawn: a "
                                                             "withdrawn learner cannot be enrolled")
    assert Enrolment.select().join(Learner).where(Learner.uln == valid_uln(950)).count() == 0


@pytest.mark.parametrize("mode", ["all_or_nothing", "valid_rows"])
def test_a_uln_or_external_id_repeated_in_a_later_batch_is_reported(admin_a, identities, monkeypatch, mode):
    monkeypatch.setattr(learner_import, "BATCH", 2)  # batches: rows 2-3, 4-5, 6
    lines = [*good_rows(3, start=70), good_rows(1, start=70)[0].replace(",M70,", ",M99,"),
             f"{valid_uln(980)},New,Person,,,mis,M71,,,"]
    job = run(admin_a, identities, rows(*lines), mode=mode)
    problems = [(p["row"], p["field"], p["message"]) for p in learner_import.problems_of(job)]
    assert problems == [(5, "uln", f"ULN {valid_uln(570)} is also on row 2"),
                        (6, "external_id", "mis id M71 is also on row 3")]
    assert counts(job) == ((5, 0, 0, 0, 2) if mode == "all_or_nothing" else (5, 3, 0, 0, 2))


def test_an_import_leaves_the_connection_checkpointing_as_before(admin_a, identities, database):
    """The write pass copies the SQLite log into the database from a second thread (db.checkpoints_beside); the
    connection it borrowed goes back to checkpointing itself, or its log would grow without bound."""
    if "sqlite" not in type(database).__name__.lower():
        pytest.skip("SQLite only: PostgreSQL checkpoints on its own")
    assert run(admin_a, identities, rows(*good_rows(3, start=90))).status == "complete"
    configured = db.SQLITE_PRAGMAS["wal_autocheckpoint"]
    assert database.execute_sql("PRAGMA wal_autocheckpoint").fetchone()[0] == configured


def test_what_changed_since_validation_is_checked_again_as_each_batch_is_written(admin_a, identities, monkeypatch):
    """Between checking the file and writing a batch, someone else takes one of its external ids and withdraws one
    of its learners: those two rows are refused when their batch is written, the rest go in, nothing twice."""
    monkeypatch.setattr(learner_import, "BATCH", 2)
    lines = [f"{valid_uln(1100 + n)},N{n},M{n},,,mis,Q{n},B13,2026-09-01," for n in range(4)]
    run(admin_a, identities, rows(lines[3].replace(",Q3,", ",Q33,").replace(",B13,2026-09-01,", ",,,")))

    def meanwhile(rows_done):
        if rows_done == 2:  # after the first batch: another import takes Q2, and learner 3 is withdrawn
            run(admin_a, identities, rows(f"{valid_uln(1200)},Other,Person,,,mis,Q2,,,"))
            Learner.update(status="withdrawn").where(Learner.uln == valid_uln(1103)).execute()

    job = run(admin_a, identities, rows(*lines), progress=meanwhile)
    assert (job.status, counts(job)) == ("complete", (4, 2, 0, 0, 2))
    assert [(p["row"], p["field"]) for p in learner_import.problems_of(job)] == [(4, "external_id"),
                                                                                 (5, "unit_code")]
    assert LearnerExternalId.select().where(LearnerExternalId.external_id == "Q2").count() == 1
    assert Enrolment.select().join(Learner).where(Learner.uln == valid_uln(1103)).count() == 0
