"""SQLite lock waits are bounded, for real: gunicorn with four sync workers, SQLite's write lock held by another
process's connection, three writes sent at once. Each answers 503 with Retry-After when QUALTRACK_SQLITE_WRITE_WAIT_MS
has passed, all at about the same time (the wait for the writers' turn and for SQLite's lock is one), never one
after another; reads answer 200 all the while; once the lock is let go, the next write goes through at once."""

import json
import sqlite3
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.test_cli import qualtrack
from tests.test_serve import running_server
from tests.tracking_helpers import valid_uln

WAIT_MS = 1000
MARGIN_SECONDS = 1.5  # for a loaded machine; the previous code answered at 5, 10 and 15 s
WRITERS = 3  # one worker of the four stays free for reads


def call(url: str, *, body: dict | None = None, headers: dict | None = None, form: dict | None = None):
    """(status, headers, parsed body, seconds taken) of a GET, or of a POST with a JSON body or a form."""
    data, headers = None, dict(headers or {})
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
    started = time.monotonic()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=30) as answer:
            status, answer_headers, text = answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        status, answer_headers, text = error.code, error.headers, error.read()
    return status, answer_headers, json.loads(text) if text else None, time.monotonic() - started


@pytest.fixture
def sqlite_server(fresh_url):
    """A running server over a SQLite file, with the write wait set to WAIT_MS; yields (base URL, database path,
    an admin's headers, a centre id)."""
    if not fresh_url.startswith("sqlite"):
        pytest.skip("SQLite only: PostgreSQL writers take row locks, bounded by lock_timeout (test_faults_errors)")
    with running_server(fresh_url, QUALTRACK_WORKERS="4", QUALTRACK_SQLITE_WRITE_WAIT_MS=str(WAIT_MS),
                        QUALTRACK_ENV="test") as base:
        centre = qualtrack("create-centre", "--code", "W", "--name", "Waits", database_url=fresh_url)
        centre_id = centre.stdout.strip().rsplit(" ", 1)[-1]
        qualtrack("create-user", "--email", "admin@waits.test", "--role", "admin", database_url=fresh_url,
                  env={"QUALTRACK_NEW_PASSWORD": "a long enough password"})
        status, _, token, _ = call(f"{base}/v1/auth/token", form={
            "grant_type": "password", "username": "admin@waits.test", "password": "a long enough password"})
        assert status == 200, token
        yield base, fresh_url[len("sqlite:///"):], {"Authorization": f"Bearer {token['access_token']}"}, centre_id


def test_writes_behind_a_held_lock_each_answer_503_when_the_wait_ends_and_reads_go_on(sqlite_server):
    base, path, admin, centre_id = sqlite_server
    bodies = [{"centre_id": centre_id, "uln": valid_uln(40 + n), "given_name": "Ada", "family_name": "Lovelace"}
              for n in range(WRITERS + 1)]
    holder = sqlite3.connect(path, isolation_level=None)  # another process's writer, outside the app's queue
    holder.execute("BEGIN IMMEDIATE")
    answers: list = [None] * WRITERS
    try:
        def write(number: int) -> None:
            answers[number] = call(f"{base}/v1/learners", body=bodies[number], headers=admin)

        writers = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
        for writer in writers:
            writer.start()
        reads = []
        for _ in range(200):  # bounded: reads until every writer has its answer
            if not any(writer.is_alive() for writer in writers):
                break
            reads.append(call(f"{base}/v1/learners?centre_id={centre_id}", headers=admin))
        for writer in writers:
            writer.join(30)
    finally:
        holder.rollback()
        holder.close()
    assert all(answer is not None for answer in answers)
    for status, headers, problem, seconds in answers:
        assert status == 503, problem
        assert WAIT_MS / 1000 - 0.1 <= seconds < WAIT_MS / 1000 + MARGIN_SECONDS, seconds
        assert headers.get_content_type() == "application/problem+json" and int(headers["Retry-After"]) > 0
        assert problem["request_id"] == headers["X-Request-ID"]
    assert reads, "no read was answered while the writes waited"
    assert all(status == 200 and listing["total"] == 0 for status, _, listing, _ in reads)
    assert max(seconds for *_, seconds in reads) < WAIT_MS / 1000  # no read waited for the writers
    status, _, created, seconds = call(f"{base}/v1/learners", body=bodies[WRITERS], headers=admin)
    assert status == 201, created  # no turn or transaction was left behind by the writes that gave up
    assert seconds < WAIT_MS / 1000
    status, _, listing, _ = call(f"{base}/v1/learners?centre_id={centre_id}", headers=admin)
    assert [item["uln"] for item in listing["items"]] == [bodies[WRITERS]["uln"]]
