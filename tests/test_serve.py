"""`qualtrack serve` really serves: gunicorn (sync workers) over a database made by init-db and load-units."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.test_cli import qualtrack


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(fresh_url):
    """A running `qualtrack serve` on a free 127.0.0.1 port; yields its base URL and stops it afterwards."""
    qualtrack("init-db", database_url=fresh_url)
    qualtrack("load-units", database_url=fresh_url)
    port = free_port()
    env = {**os.environ, "QUALTRACK_DATABASE_URL": fresh_url, "QUALTRACK_PORT": str(port), "QUALTRACK_WORKERS": "2"}
    process = subprocess.Popen([sys.executable, "-m", "api.cli", "serve"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/v1/evidence-types", timeout=2)
                break
            except (urllib.error.URLError, ConnectionError):
                assert process.poll() is None, process.stderr.read().decode()
                assert time.monotonic() < deadline, "server did not start within 30 s"
                time.sleep(0.2)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_served_api_finds_cs39_by_code_and_answers_conditional_gets(server):
    with urllib.request.urlopen(f"{server}/v1/units?code=CS%2039") as response:
        assert response.headers["Content-Type"] == "application/json"
        [unit] = json.load(response)["items"]
    assert (unit["code"], unit["status"]) == ("CS 39", "draft")
    with urllib.request.urlopen(f"{server}/v1/units/{unit['id']}?status=draft") as response:
        etag = response.headers["ETag"]
        assert len(json.load(response)["learning_outcomes"]) == 3
    request = urllib.request.Request(f"{server}/v1/units/{unit['id']}?status=draft", headers={"If-None-Match": etag})
    with pytest.raises(urllib.error.HTTPError) as not_modified:
        urllib.request.urlopen(request)
    assert not_modified.value.code == 304


def test_served_errors_are_problem_json(server):
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(f"{server}/v1/units/not-an-id")
    assert error.value.code == 400
    assert error.value.headers["Content-Type"] == "application/problem+json"
