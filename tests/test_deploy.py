"""The deployable unit, run as the Dockerfile runs it: `qualtrack start` (migrations, content, then gunicorn) outside
Docker, since CI has no Docker engine. Health checks, metrics added up over the workers, JSON logs with request ids
and no secrets or personal data, graceful reload and stop; and two hosts against one database agree on everything
that must be shared (idempotent replays, the token rate limit through Redis)."""

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from api.config import PROJECT_ROOT
from tests.test_cli import qualtrack
from tests.test_serve import free_port
from tests.tracking_helpers import valid_uln

SECRET = secrets.token_urlsafe(48)
PASSWORD = "a long enough password for deploy tests"


@dataclass
class Host:
    process: subprocess.Popen
    base: str
    log: Path

    def records(self) -> list[dict]:
        """Every line the host has logged, parsed (each must be one JSON object)."""
        return [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines() if line.strip()]


def start_host(database_url: str, log: Path, **env) -> Host:
    """`qualtrack start` (the Dockerfile's CMD) in production mode on a free port; returns once /readyz is 200."""
    port = free_port()
    environment = {**os.environ, "QUALTRACK_DATABASE_URL": database_url, "QUALTRACK_ENV": "production",
                   "QUALTRACK_JWT_SECRET": SECRET, "QUALTRACK_PORT": str(port), "QUALTRACK_WORKERS": "2", **env}
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with log.open("w") as sink:
        process = subprocess.Popen([sys.executable, "-m", "api.cli", "start"], cwd=PROJECT_ROOT, env=environment,
                                   stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    host = Host(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 90
    while True:
        try:
            if call(host, "GET", "/readyz")[0] == 200:
                return host
        except OSError:  # refused, reset, or accepted but not answered in time (workers still starting)
            pass
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "the host was not ready within 90 s:\n" + log.read_text()
        time.sleep(0.2)


def stop_host(host: Host) -> int:
    """SIGTERM to gunicorn's master (what `docker stop` sends); its exit status."""
    if host.process.poll() is None:
        host.process.send_signal(signal.SIGTERM)
    try:
        return host.process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        os.killpg(host.process.pid, signal.SIGKILL)
        raise


def call(host: Host, method: str, path: str, body=None, headers=None, form=None):
    """(status, headers, parsed body) of one request."""
    data = json.dumps(body).encode() if body is not None else (urllib.parse.urlencode(form).encode() if form else None)
    request = urllib.request.Request(host.base + path, data=data, method=method, headers={
        **({"Content-Type": "application/json"} if body is not None else {}), **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw, status, response_headers = response.read(), response.status, response.headers
    except urllib.error.HTTPError as error:
        raw, status, response_headers = error.read(), error.code, error.headers
    text = raw.decode()
    parsed = json.loads(text) if "json" in (response_headers.get("Content-Type") or "") and text else text
    return status, response_headers, parsed


def token(host: Host, email: str) -> str:
    status, _, body = call(host, "POST", "/v1/auth/token", form={"grant_type": "password", "username": email,
                                                                   "password": PASSWORD})
    assert status == 200, body
    return body["access_token"]


def make_centre_admin(database_url: str, code: str) -> tuple[str, str]:
    """A centre and its admin (created with the CLI, as an operator would); (centre id, admin email)."""
    centre = qualtrack("create-centre", "--code", code, "--name", f"Centre {code}", database_url=database_url)
    email = f"admin.{code.lower()}@deploy.test"
    qualtrack("create-user", "--email", email, "--role", "centre_admin", "--centre", code, database_url=database_url,
              env={"QUALTRACK_NEW_PASSWORD": PASSWORD})
    return centre.stdout.strip().rsplit(" ", 1)[-1], email


def dockerfile_healthcheck() -> list[str]:
    """The argv of the Dockerfile's HEALTHCHECK (exec form)."""
    text = (PROJECT_ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    [line] = [line for line in text.splitlines() if line.startswith("HEALTHCHECK")]
    return json.loads(line.split(" CMD ", 1)[1])


def test_the_dockerfile_runs_a_slim_non_root_gunicorn_with_a_health_check():
    text = (PROJECT_ROOT / "Dockerfile").read_text(encoding="utf-8")
    instructions = [line.split(" ", 1) for line in text.replace("\\\n", " ").splitlines()
                    if line and not line.startswith("#")]
    first = {name: value for name, value in reversed(instructions)}  # the first of each instruction
    last = dict(instructions)
    assert first["FROM"].strip() == "python:3.11-slim"
    assert last["USER"].strip() not in ("root", "0")
    assert json.loads(last["CMD"]) == ["qualtrack", "start"]
    assert dockerfile_healthcheck()[-1].endswith("/healthz' % os.environ['QUALTRACK_PORT'], timeout=2)")
    installs = [value for name, value in instructions if name == "RUN" and "pip install" in value]
    assert installs and not any("[test]" in value or "pytest" in value for value in installs)  # no dev deps


def test_the_entry_point_serves_observably_and_reloads_and_stops_gracefully(fresh_url, tmp_path):
    host = start_host(fresh_url, tmp_path / "host.log")
    try:
        assert call(host, "GET", "/healthz")[::2] == (200, {"status": "ok"})
        assert call(host, "GET", "/readyz")[2]["checks"] == {"database": "ok", "migrations": "current"}
        port = str(urllib.parse.urlsplit(host.base).port)
        check = subprocess.run(dockerfile_healthcheck(), env={**os.environ, "QUALTRACK_PORT": port},
                               capture_output=True, timeout=10)
        assert check.returncode == 0, check.stderr  # the container's own HEALTHCHECK command
        status, _, units = call(host, "GET", "/v1/units?code=B13")
        assert status == 200 and [u["code"] for u in units["items"]] == ["B13"]  # content loaded on start

        # personal data and secrets go through the API, and must not reach the logs
        centre_id, email = make_centre_admin(fresh_url, "DEP1")
        access = token(host, email)
        uln, family_name = valid_uln(4242), f"Zebedee{uuid.uuid4().hex[:8]}"
        created = call(host, "POST", "/v1/learners", {"centre_id": centre_id, "uln": uln, "given_name": "Private",
                                                      "family_name": family_name},
                       {"Authorization": f"Bearer {access}", "X-Request-ID": "deploy-learner-1"})
        assert created[0] == 201 and created[1]["X-Request-ID"] == "deploy-learner-1"

        ids = [f"deploy-{n}" for n in range(24)]
        threads = [threading.Thread(target=lambda i=i: call(host, "GET", "/v1/units", headers={"X-Request-ID": i}))
                   for i in ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        metrics = call(host, "GET", "/metrics")[2]
        served = re.search(r'qualtrack_http_requests_total\{method="GET",route="/v1/units",status="200"\} (\S+)',
                           metrics)
        assert served and float(served.group(1)) == 25.0, metrics  # every worker's count (24 + the B13 look-up)
        assert 'qualtrack_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/v1/units"}' in metrics

        lines = host.log.read_text(encoding="utf-8")
        for secret in (PASSWORD, access, email, uln, family_name, SECRET, "Bearer"):
            assert secret not in lines, f"{secret[:12]}... is in the logs"
        records = host.records()  # every line is JSON
        served_by = {r["request_id"]: r["process"] for r in records if r.get("route") == "/v1/units"}
        assert set(ids) <= set(served_by) and len({served_by[i] for i in ids}) == 2  # both workers answered
        assert {r["route"] for r in records if r.get("request_id") == "deploy-learner-1"} == {"/v1/learners"}

        workers_before = {r["process"] for r in records if r.get("logger") == "qualtrack.access"}
        failures, done = [], threading.Event()
        calls, enough_calls = [0, None], threading.Event()  # calls made, and the count that sets enough_calls

        def keep_calling():
            while not done.is_set():
                try:
                    if call(host, "GET", "/v1/evidence-types")[0] != 200:
                        failures.append("status")
                except (urllib.error.URLError, ConnectionError) as error:
                    failures.append(repr(error))
                calls[0] += 1
                if calls[1] is not None and calls[0] >= calls[1]:
                    enough_calls.set()

        caller = threading.Thread(target=keep_calling)
        caller.start()
        host.process.send_signal(signal.SIGHUP)  # graceful reload: new workers, old ones finish their requests
        deadline = time.monotonic() + 30
        while sum("Booting worker" in r.get("message", "") for r in host.records()) < 4:
            assert time.monotonic() < deadline, "no new workers after SIGHUP"
            time.sleep(0.1)
        calls[1] = calls[0] + 20  # and 20 more calls while the old workers wind down
        assert enough_calls.wait(30), "the caller stalled after the reload"
        done.set()
        caller.join()
        assert failures == []
        ids_after = [f"after-reload-{n}" for n in range(8)]
        for request_id in ids_after:
            call(host, "GET", "/v1/units", headers={"X-Request-ID": request_id})
        after = {r["process"] for r in host.records() if r.get("request_id") in ids_after}
        assert after and not after & workers_before  # served by the new workers
    finally:
        assert stop_host(host) == 0
    assert "Shutting down: Master" in host.log.read_text(encoding="utf-8")


def redis_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def test_a_starting_host_closes_its_connection_before_the_next_host_s_turn(fresh_url):
    """Closing SQLite's last connection checkpoints the log and removes it: that must not overlap the next host
    opening the database, so the startup lock closes the connection before letting go."""
    from api import db

    database = db.make_database(fresh_url)
    with db.startup_lock(database):
        database.connect(reuse_if_open=True)
        database.execute_sql("SELECT 1")
    assert database.is_closed()


def test_a_token_revoked_through_one_host_is_refused_by_another_at_once(fresh_url, tmp_path):
    """A worker keeps the tokens it has verified, but a revocation anywhere reaches it at once: it asks the database
    on every request whether the token still works."""
    hosts = [start_host(fresh_url, tmp_path / f"{name}.log", QUALTRACK_WORKERS="1") for name in ("a", "b")]
    try:
        first, second = hosts
        _, email = make_centre_admin(fresh_url, "REV")
        bearer = {"Authorization": f"Bearer {token(first, email)}"}
        assert [call(second, "GET", "/v1/auth/me", headers=bearer)[0] for _ in range(2)] == [200, 200]
        assert call(first, "POST", "/v1/auth/revoke", headers=bearer)[0] == 204
        status, _, body = call(second, "GET", "/v1/auth/me", headers=bearer)
        assert status == 401 and "revoked" in body["detail"], body
    finally:
        for host in hosts:
            assert stop_host(host) == 0


def test_two_hosts_on_one_database_share_replays_and_rate_limits(fresh_url, tmp_path):
    """Started together, the two hosts take turns to migrate; a retried write is replayed whichever host gets it;
    the token endpoint's limit counts the requests of both (through Redis)."""
    if not redis_available():
        pytest.skip("Redis is not running on 127.0.0.1:6379 (start it with `redis-server --daemonize yes`)")
    shared = {"QUALTRACK_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
              "QUALTRACK_RATELIMIT_KEY_PREFIX": f"qualtrack-test-{uuid.uuid4().hex}",
              "QUALTRACK_TOKEN_RATE_LIMIT": "5 per minute"}
    hosts, failures = [], []

    def start(name):
        try:
            hosts.append(start_host(fresh_url, tmp_path / f"{name}.log", **shared))
        except AssertionError as failure:
            failures.append(str(failure))

    starting = [threading.Thread(target=start, args=(name,)) for name in ("a", "b")]
    for thread in starting:
        thread.start()
    for thread in starting:
        thread.join()
    try:
        assert not failures, "\n\n".join(failures)
        first, second = hosts
        centre_id, email = make_centre_admin(fresh_url, "DEP2")
        bearer = {"Authorization": f"Bearer {token(first, email)}", "Idempotency-Key": f"deploy-{uuid.uuid4().hex}"}
        body = {"centre_id": centre_id, "uln": valid_uln(4343), "given_name": "Retried", "family_name": "Write"}
        made = call(first, "POST", "/v1/learners", body, bearer)
        replayed = call(second, "POST", "/v1/learners", body, bearer)
        assert made[0] == replayed[0] == 201 and made[2] == replayed[2]
        assert replayed[1]["Idempotent-Replayed"] == "true"
        listing = call(second, "GET", f"/v1/learners?centre_id={centre_id}", headers=bearer)[2]
        assert [learner["uln"] for learner in listing["items"]] == [body["uln"]]  # written once

        statuses = [call(host, "POST", "/v1/auth/token", form={"grant_type": "password", "username": email,
                                                               "password": "wrong password!"})[0]
                    for host in (first, second, first, second)]  # with the token() call above: 5 in the minute
        assert statuses == [400, 400, 400, 400], statuses
        assert call(second, "POST", "/v1/auth/token", form={"grant_type": "password", "username": email,
                                                            "password": PASSWORD})[0] == 429
    finally:
        for host in hosts:
            assert stop_host(host) == 0
    migrations = sorted(r["message"] for host in hosts for r in host.records()
                        if r.get("message", "").startswith("migrations:"))
    assert len(migrations) == 2 and migrations[0].startswith("migrations: applied 001_initial")
    assert migrations[1] == "migrations: schema is current"  # the second host waited for the first
