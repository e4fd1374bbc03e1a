"""The qualtrack command as a user runs it: real subprocesses against a fresh database of the backend under test."""

import os
import sqlite3
import subprocess
import sys
import uuid

from tests.conftest import UNITS_DIR


def qualtrack(*args, database_url, check=True, env=None):
    """Run `qualtrack ARGS` in a subprocess against ``database_url``."""
    env = {**os.environ, "QUALTRACK_DATABASE_URL": database_url, **(env or {})}
    result = subprocess.run([sys.executable, "-m", "api.cli", *args], env=env, capture_output=True, text=True,
                            timeout=120)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_init_db_is_repeatable_and_load_units_is_idempotent(fresh_url, unit_ids):
    assert "applied 001_initial" in qualtrack("init-db", database_url=fresh_url).stdout
    assert "schema is current" in qualtrack("init-db", database_url=fresh_url).stdout
    first = qualtrack("load-units", str(UNITS_DIR), database_url=fresh_url).stdout
    assert "0 invalid" in first and "0 unchanged" in first
    second = qualtrack("load-units", database_url=fresh_url).stdout
    files = len(list(UNITS_DIR.glob("*.yaml")))
    assert f"0 created, 0 updated, {files} unchanged, 0 invalid" in second


def test_fresh_database_gets_the_same_ids(fresh_url, unit_ids):
    """Ids come from natural keys: any fresh load gives integrators the same unit ids."""
    qualtrack("init-db", database_url=fresh_url)
    qualtrack("load-units", database_url=fresh_url)
    if fresh_url.startswith("sqlite"):
        rows = sqlite3.connect(fresh_url.removeprefix("sqlite:///")).execute("select code, id from unit").fetchall()
        fresh = {code: str(uuid.UUID(id_)) for code, id_ in rows}
    else:
        from api.db import make_database

        database = make_database(fresh_url)
        fresh = {code: str(id_) for code, id_ in database.execute_sql("select code, id from unit").fetchall()}
        database.close()
    assert fresh == unit_ids


def test_load_units_reports_problems_and_exits_1(fresh_url, tmp_path):
    qualtrack("init-db", database_url=fresh_url)
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: unit\nowner: ocr\n", encoding="utf-8")
    result = qualtrack("load-units", str(bad), database_url=fresh_url, check=False)
    assert result.returncode == 1
    assert f"{bad}: $: 'code' is a required property" in result.stderr


def test_create_centre_user_and_client(fresh_url):
    qualtrack("init-db", database_url=fresh_url)
    qualtrack("load-units", database_url=fresh_url)
    assert "centre ACME:" in qualtrack("create-centre", "--code", "ACME", "--name", "Acme Training",
                                       database_url=fresh_url).stdout
    password = "a long enough password"
    made = qualtrack("create-user", "--email", "Ann@Acme.test", "--role", "assessor", "--centre", "ACME",
                     "--assessor-status", "trainee", database_url=fresh_url, env={"QUALTRACK_NEW_PASSWORD": password})
    assert "account ann@acme.test:" in made.stdout and password not in made.stdout + made.stderr
    client = qualtrack("create-client", "--name", "Acme LMS", "--scope", "tracking:read", "--centre", "ACME",
                       database_url=fresh_url)
    lines = dict(line.split(":", 1) for line in client.stdout.strip().splitlines())
    assert lines["client_id"].strip().startswith("qtc_") and len(lines["client_secret"].strip()) >= 40
    assert "cannot be shown again" in client.stderr


def test_cli_refuses_bad_accounts_with_a_clear_message(fresh_url):
    qualtrack("init-db", database_url=fresh_url)
    result = qualtrack("create-user", "--email", "not-an-email", "--role", "author", database_url=fresh_url,
                       env={"QUALTRACK_NEW_PASSWORD": "short"}, check=False)
    assert result.returncode == 1
    assert "email: not an email address" in result.stderr and "password: at least 12 characters" in result.stderr
    assert "Traceback" not in result.stderr


def test_purge_expired_says_what_it_removed(fresh_url):
    qualtrack("init-db", database_url=fresh_url)
    assert "purged 0 expired token revocations and 0 expired sign-in family revocations" in qualtrack(
        "purge-expired", database_url=fresh_url).stdout


def test_check_progress_names_a_tally_that_differs_and_repairs_it(fresh_url):
    qualtrack("init-db", database_url=fresh_url)
    assert "matches its records" in qualtrack("check-progress", database_url=fresh_url).stdout
    assert "stored the tallies of 0 enrolments" in qualtrack("check-progress", "--repair",
                                                             database_url=fresh_url).stdout
