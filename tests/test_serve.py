"""`qualtrack serve` really serves: gunicorn (sync workers) over a database made by init-db and load-units."""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager

import pytest

from tests.test_cli import qualtrack


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_server(database_url: str, **env: str):
    """`qualtrack serve` (two workers, QUALTRACK_ENV=test unless ``env`` says otherwise) on a free 127.0.0.1 port over
    ``database_url``, after init-db and load-units, with ``env`` added to its environment; yields its base URL and
    stops it afterwards."""
    with running_server_process(database_url, **env) as (base, _):
        yield base


@contextmanager
def running_server_process(database_url: str, *, log_to_pipe: bool = False, **env: str):
    """As running_server, yielding (base URL, the server's process). The server's log goes to a file that is shown
    when it fails to start (a pipe nobody reads would fill and stall the workers), or, with ``log_to_pipe``, to
    ``process.stderr``, a pipe the caller must read or close."""
    qualtrack("init-db", database_url=database_url)
    qualtrack("load-units", database_url=database_url)
    port = free_port()
    env = {**os.environ, "QUALTRACK_DATABASE_URL": database_url, "QUALTRACK_PORT": str(port), "QUALTRACK_WORKERS": "2",
           "QUALTRACK_ENV": "test", **env}
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen([sys.executable, "-m", "api.cli", "serve"], env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE if log_to_pipe else log, start_new_session=True)

        def logged() -> str:
            log.seek(0)
            return (process.stderr.read() if log_to_pipe else log.read()).decode(errors="replace")

        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(f"{base}/v1/evidence-types", timeout=2)
                    break
                except OSError:  # refused, reset, or accepted but not answered in time (a slow first request)
                    assert process.poll() is None, logged()
                    assert time.monotonic() < deadline, "server did not start within 30 s"
                    time.sleep(0.2)
            yield base, process
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


@pytest.fixture
def server(fresh_url):
    """A running `qualtrack serve` on a free 127.0.0.1 port; yields its base URL and stops it afterwards."""
    with running_server(fresh_url) as base:
        yield base


def get(url, headers=None):
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {})) as response:
        return response.headers, json.load(response)


def test_author_signs_in_and_finds_the_draft_cs39_by_code(server, fresh_url):
    """The README's flow: create an author, get a token with the password grant, look CS 39 up by code."""
    qualtrack("create-user", "--email", "author@skillscfa.test", "--role", "author", "--awarding-body", "skills-cfa",
              database_url=fresh_url, env={"QUALTRACK_NEW_PASSWORD": "a long enough password"})
    form = urllib.parse.urlencode({"grant_type": "password", "username": "author@skillscfa.test",
                                   "password": "a long enough password"}).encode()
    with urllib.request.urlopen(f"{server}/v1/auth/token", data=form) as response:
        token = json.load(response)["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert get(f"{server}/v1/units?code=CS%2039")[1]["items"] == []  # anonymous callers do not see drafts
    headers, listing = get(f"{server}/v1/units?code=CS%2039", bearer)
    assert headers["Content-Type"] == "application/json"
    [unit] = listing["items"]
    assert (unit["code"], unit["status"]) == ("CS 39", "draft")
    headers, document = get(f"{server}/v1/units/{unit['id']}?status=draft", bearer)
    assert len(document["learning_outcomes"]) == 3
    request = urllib.request.Request(f"{server}/v1/units/{unit['id']}?status=draft",
                                     headers={**bearer, "If-None-Match": headers["ETag"]})
    with pytest.raises(urllib.error.HTTPError) as not_modified:
        urllib.request.urlopen(request)
    assert not_modified.value.code == 304


def test_published_unit_is_served_to_anonymous_callers(server):
    _, listing = get(f"{server}/v1/units?code=B13")
    headers, document = get(f"{server}/v1/units/{listing['items'][0]['id']}")
    assert document["glh"] == 67 and headers["Cache-Control"].startswith("public")


def test_served_errors_are_problem_json(server):
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(f"{server}/v1/units/not-an-id")
    assert error.value.code == 400
    assert error.value.headers["Content-Type"] == "application/problem+json"


def test_graphql_is_served_and_answers_what_rest_answers(server):
    _, listing = get(f"{server}/v1/units?code=B13")
    unit_id = listing["items"][0]["id"]
    _, document = get(f"{server}/v1/units/{unit_id}")
    body = json.dumps({"query": "query($id: UUID!) { unit(id: $id) { glh learningOutcomes { criteria { id } } } }",
                       "variables": {"id": unit_id}}).encode()
    request = urllib.request.Request(f"{server}/graphql", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        data = json.load(response)["data"]["unit"]
    assert data["glh"] == document["glh"]
    assert [c["id"] for o in data["learningOutcomes"] for c in o["criteria"]] == [
        c["id"] for o in document["learning_outcomes"] for c in o["criteria"]]
