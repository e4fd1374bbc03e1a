"""A log sink that fails (stderr closed, a broken pipe, a full disk) never fails a request: every answer is the one it
would have been, and each line lost is counted in /metrics (qualtrack_log_write_failures_total). In-process with
sys.stderr replaced by a stream that fails, and for real: gunicorn workers whose stderr pipe nobody reads any more."""

import errno
import io
import json
import logging
import sys
import urllib.error
import urllib.request
from contextlib import contextmanager

import pytest
from prometheus_client import REGISTRY

from api import create_app
from api.config import Settings
from api.observability import configure_logging
from tests.test_serve import running_server_process
from tests.tracking_helpers import valid_uln


class FullDisk(io.TextIOBase):
    """A text stream every write to which fails as a full disk does."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    def flush(self) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")


def closed_stream() -> io.StringIO:
    stream = io.StringIO()
    stream.close()
    return stream


def lost_lines(sink: str) -> float:
    return REGISTRY.get_sample_value("qualtrack_log_write_failures_total", {"sink": sink}) or 0.0


@pytest.mark.parametrize("stderr", [FullDisk, closed_stream], ids=["full disk", "closed"])
def test_requests_are_answered_as_usual_when_the_access_log_cannot_be_written(client, auth, identities, monkeypatch,
                                                                                stderr):
    before = lost_lines("access")
    monkeypatch.setattr(sys, "stderr", stderr())
    admin = auth("centre_admin_a")
    body = {"centre_id": str(identities.centres["A"].id), "uln": valid_uln(31), "given_name": "Ada",
            "family_name": "Lovelace"}
    read = client.get("/v1/evidence-types")
    created = client.post("/v1/learners", json=body, headers=admin)
    missing = client.get("/v1/no-such-thing")
    listed = client.get(f"/v1/learners?uln={body['uln']}", headers=admin)
    monkeypatch.undo()
    assert [read.status_code, created.status_code, missing.status_code, listed.status_code] == [200, 201, 404, 200]
    assert missing.mimetype == "application/problem+json"
    assert listed.get_json()["total"] == 1  # written once, answered once
    assert lost_lines("access") == before + 4


@contextmanager
def logging_into(stream):
    """The app's logging set up as in production, onto ``stream`` (as stderr); the test's own afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stderr, sys.stderr = sys.stderr, stream
    try:
        configure_logging(Settings(env="test", log_format="text"))
        yield
    finally:
        sys.stderr = stderr
        root.handlers, root.level = handlers, level


def test_logged_records_that_cannot_be_written_are_counted_and_fail_nothing(database, database_url, monkeypatch):
    """In text format the access line goes through logging, whose handler reports its own failure on stderr: when
    stderr is closed that report failed too, and the request with it."""
    settings = Settings(database_url=database_url, env="test", log_format="text", token_rate_limit="10000 per minute")
    app = create_app(settings, database=database)
    app.config["TESTING"] = True
    before = lost_lines("logging")
    with logging_into(closed_stream()):
        response = app.test_client().get("/v1/evidence-types")
        logging.getLogger("qualtrack.test").error("a record the sink cannot take: %s", "lost")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert lost_lines("logging") == before + 2


# -- for real: gunicorn workers writing to a pipe whose reader has gone ------------------------------------------------


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def metric(base: str, name: str) -> float:
    with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:
        text = response.read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))


def test_gunicorn_workers_answer_as_usual_after_their_stderr_pipe_breaks(fresh_url):
    with running_server_process(fresh_url, log_to_pipe=True) as (base, process):
        assert status_of(f"{base}/v1/evidence-types") == 200  # written to the pipe as usual
        process.stderr.close()  # nobody reads the log any more: every write to it is EPIPE
        statuses = [status_of(f"{base}/v1/evidence-types") for _ in range(6)] + [status_of(f"{base}/v1/nothing")]
        assert statuses == [200] * 6 + [404]
        assert metric(base, 'qualtrack_log_write_failures_total{sink="access"}') >= 7
        health = json.loads(urllib.request.urlopen(f"{base}/readyz", timeout=10).read())
        assert health["status"] == "ready"  # still serves: the logs, not the host, need attention
