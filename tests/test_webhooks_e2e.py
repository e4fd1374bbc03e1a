"""Webhooks end to end, as deployed: `qualtrack serve` (gunicorn), `qualtrack worker` processes and a real HTTP
receiver. A unit's worth of decisions is recorded over HTTP; every event arrives, verified with the Standard
Webhooks reference library, in feed order; a receiver that is down gets them late; a worker killed with SIGKILL in the
middle of a delivery loses nothing (the event comes again, with the same webhook-id); two workers sharing the
endpoints never send one attempt twice."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager

import pytest
from pytest_httpserver import HTTPServer
from standardwebhooks import Webhook
from werkzeug import Response

from tests.test_cli import qualtrack
from tests.test_serve import free_port, running_server

PASSWORD = "a long enough password"
PATIENCE = 60  # seconds to wait for what must happen (a delivery, a retry after a lease lapses)
WORKER_ENV = {"QUALTRACK_WEBHOOK_ALLOW_PRIVATE": "1", "QUALTRACK_WEBHOOK_LEASE_SECONDS": "2",
              "QUALTRACK_WEBHOOK_POLL_MS": "100", "QUALTRACK_ENV": "test"}


class Receiver:
    """An HTTP receiver on a fixed port that can be stopped and started again; it keeps every request it answered
    (path, headers, body), and can hold one request (``hold``) until released."""

    def __init__(self):
        self.port = free_port()
        self.server = HTTPServer(host="127.0.0.1", port=self.port, threaded=True)
        self.received: list[tuple[str, dict, bytes]] = []
        self.lock = threading.Lock()
        self.holding = None  # (message type to hold, threading.Event set when held)
        self.released = threading.Event()
        for path in ("/a", "/b", "/c"):
            self.server.expect_request(path, method="POST").respond_with_handler(self.answer)
        self.server.start()

    def url(self, path="/a") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self, request):
        body = request.get_data()
        with self.lock:
            self.received.append((request.path, {k.lower(): v for k, v in request.headers.items()}, body))
        if self.holding and json.loads(body)["type"] == self.holding[0] and not self.holding[1].is_set():
            self.holding[1].set()
            self.released.wait(PATIENCE)  # held: the worker sending it is killed meanwhile, the answer goes nowhere
        return Response("ok", status=200)

    def stop(self):
        self.released.set()  # a held request answers now (into a closed connection)
        self.server.stop()

    def start(self):
        self.released.clear()  # from now on a held request is held again
        self.server.start()  # the same port: the workers' retries find it again

    def messages(self, path="/a") -> list[tuple[dict, bytes]]:
        with self.lock:
            return [(headers, body) for p, headers, body in self.received if p == path]


@contextmanager
def workers(database_url: str, count: int = 1):
    """``count`` `qualtrack worker` processes; yields the list (of Popen) and stops those still running."""
    env = {**os.environ, "QUALTRACK_DATABASE_URL": database_url, **WORKER_ENV}
    with tempfile.TemporaryFile() as log:
        started = [start_worker(env, log) for _ in range(count)]
        try:
            yield started, lambda: start_worker(env, log)
        finally:
            for process in started:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
                    process.wait(timeout=30)
            for process in started:  # a worker that died of anything but the test's SIGKILL is a failure
                if process.returncode not in (0, -signal.SIGKILL, -signal.SIGTERM):
                    log.seek(0)
                    pytest.fail(f"a worker exited {process.returncode}: {log.read().decode(errors='replace')}")


def start_worker(env: dict, log) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "api.cli", "worker"], env=env, stdout=subprocess.DEVNULL,
                            stderr=log)


def call(base: str, method: str, path: str, token: str | None = None, body=None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if data else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(f"{base}{path}", data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read()
    return json.loads(text) if text else {}


def token(base: str, email: str) -> str:
    form = urllib.parse.urlencode({"grant_type": "password", "username": email, "password": PASSWORD}).encode()
    with urllib.request.urlopen(f"{base}/v1/auth/token", data=form) as response:
        return json.load(response)["access_token"]


def wait_for(condition, what: str):
    deadline = time.monotonic() + PATIENCE
    while not (found := condition()):
        assert time.monotonic() < deadline, f"waited {PATIENCE} s for {what}"
        time.sleep(0.1)
    return found


def lms_acting_for(base: str, database_url: str, email: str) -> str:
    """An access token that an LMS client of centre C1, made by the CLI, gets by token exchange to act for the
    account with ``email``."""
    printed = qualtrack("create-client", "--name", "Acme LMS", "--scope", "act_for_accounts", "--centre", "C1",
                        database_url=database_url).stdout
    client_id, secret = (line.split(":", 1)[1].strip() for line in printed.splitlines()[:2])
    form = urllib.parse.urlencode({
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange", "client_id": client_id,
        "client_secret": secret, "subject_token": email,
        "subject_token_type": "urn:qualtrack:params:oauth:token-type:email"}).encode()
    with urllib.request.urlopen(f"{base}/v1/auth/token", data=form) as response:
        return json.load(response)["access_token"]


@pytest.fixture
def deployment(fresh_url):
    """A served database with a centre, its admin (a token) and a qualified assessor (a token an LMS holds to act
    for them), and a receiver."""
    receiver = Receiver()
    with running_server(fresh_url, **WORKER_ENV) as base:
        qualtrack("create-centre", "--code", "C1", "--name", "Centre One", database_url=fresh_url)
        for email, role in (("admin@c1.test", "centre_admin"), ("assessor@c1.test", "assessor")):
            extra = ["--assessor-status", "qualified"] if role == "assessor" else []
            qualtrack("create-user", "--email", email, "--role", role, "--centre", "C1", *extra,
                      database_url=fresh_url, env={"QUALTRACK_NEW_PASSWORD": PASSWORD})
        yield {"base": base, "url": fresh_url, "receiver": receiver, "admin": token(base, "admin@c1.test"),
               "assessor": lms_acting_for(base, fresh_url, "assessor@c1.test")}
    receiver.stop()


def enrolment_on_b13(d: dict) -> tuple[str, list[str]]:
    base, admin = d["base"], d["admin"]
    centre = call(base, "GET", "/v1/centres", admin)["items"][0]["id"]
    learner = call(base, "POST", "/v1/learners", admin, {"centre_id": centre, "uln": "9276308686",
                                                         "given_name": "Ada", "family_name": "Lovelace"})
    unit = call(base, "GET", "/v1/units?code=B13")["items"][0]["id"]
    assessor = call(base, "GET", "/v1/auth/me", d["assessor"])["id"]
    enrolment = call(base, "POST", "/v1/enrolments", admin, {"learner_id": learner["id"], "unit_id": unit,
                                                             "start_date": "2026-09-01", "assessor_ids": [assessor]})
    document = call(base, "GET", f"/v1/units/{unit}")
    return enrolment["id"], [c["id"] for o in document["learning_outcomes"] for c in o["criteria"]]


def sign_off(d: dict, enrolment: str, criteria: list[str]) -> None:
    """The LMS records decisions for the assessor: a batch of them, met."""
    call(d["base"], "POST", f"/v1/enrolments/{enrolment}/decisions/batch", d["assessor"],
         {"decisions": [{"criterion_id": c, "outcome": "met", "feedback": "seen"} for c in criteria]})


def unique_ids(receiver: Receiver, path="/a") -> set[str]:
    return {headers["webhook-id"] for headers, _ in receiver.messages(path)}


def verified(receiver: Receiver, secret: str, path="/a") -> list[tuple[str, dict]]:
    """(webhook-id, message) of each request received at ``path``, each verified by the reference library."""
    return [(headers["webhook-id"], Webhook(secret).verify(body, headers))
            for headers, body in receiver.messages(path)]


def test_decisions_reach_the_receiver_in_order_through_outages_and_a_killed_worker(deployment):
    d, receiver = deployment, deployment["receiver"]
    endpoint = call(d["base"], "POST", "/v1/webhooks/endpoints", d["admin"],
                    {"url": receiver.url(), "types": ["decision.recorded", "criterion.met", "enrolment.*"]})
    enrolment, criteria = enrolment_on_b13(d)
    third = len(criteria) // 3
    with workers(d["url"]) as (running, start_another):
        sign_off(d, enrolment, criteria[:third])
        expected = 1 + 2 * third  # enrolment.created, then a decision and a criterion met each
        wait_for(lambda: len(unique_ids(receiver)) >= expected, "the first events")

        receiver.stop()  # down: the next events wait, and are retried
        sign_off(d, enrolment, criteria[third:2 * third])
        wait_for(lambda: any(a["outcome"] == "retrying" for a in call(
            d["base"], "GET", f"{endpoint['href']}/attempts?limit=500", d["admin"])["items"]), "a failed attempt")
        receiver.start()
        expected += 2 * third
        wait_for(lambda: len(unique_ids(receiver)) >= expected, "the events sent while the receiver was down")

        held = threading.Event()
        receiver.holding = ("enrolment.completed", held)
        sign_off(d, enrolment, criteria[2 * third:])
        assert held.wait(PATIENCE), "the completion was never sent"
        running[0].send_signal(signal.SIGKILL)  # mid-delivery: the receiver is holding its request
        running[0].wait(timeout=30)
        running.append(start_another())
        expected += 2 * (len(criteria) - 2 * third) + 1
        completions = lambda: [b for _, b in receiver.messages() if json.loads(b)["type"] == "enrolment.completed"]  # noqa: E731
        wait_for(lambda: len(completions()) == 2, "the completion again, from the next worker")
        wait_for(lambda: len(unique_ids(receiver)) >= expected, "every event, after the worker was killed")

    messages = verified(receiver, endpoint["secret"])
    first = {}  # webhook-id: the message first received with it
    for message_id, message in messages:
        assert first.setdefault(message_id, message) == message  # a repeat is the same message under the same id
    assert len(first) == expected  # every event, at least once
    types = [m["type"] for m in first.values()]
    assert types[0] == "enrolment.created" and types[-1] == "enrolment.completed"
    assert [m["data"]["subject_id"] for m in first.values() if m["type"] == "criterion.met"] == criteria
    me = call(d["base"], "GET", "/v1/auth/me", d["assessor"])  # the LMS recorded them, as the assessor
    assert me["acting_client"]["name"] == "Acme LMS"
    assert {m["data"]["actor"] for m in first.values() if m["type"] == "decision.recorded"} == {f"account:{me['id']}"}
    seqs = [int(i.removeprefix("msg_")) for i in first]
    assert seqs == sorted(seqs)  # first arrivals in feed order
    completed = next(i for i, m in first.items() if m["type"] == "enrolment.completed")
    assert [i for i, _ in messages].count(completed) == 2  # held by the receiver when its worker was killed: sent again
    log = call(d["base"], "GET", f"{endpoint['href']}/attempts?limit=500", d["admin"])["items"]
    held_attempts = [a for a in log if a["message_id"] == completed]
    assert [(a["attempt"], a["outcome"]) for a in held_attempts] == [(1, "sending"), (2, "delivered")]


def test_two_workers_share_the_endpoints_and_never_send_an_attempt_twice(deployment):
    d, receiver = deployment, deployment["receiver"]
    endpoints = {path: call(d["base"], "POST", "/v1/webhooks/endpoints", d["admin"], {"url": receiver.url(path)})
                 for path in ("/a", "/b", "/c")}
    enrolment, criteria = enrolment_on_b13(d)
    with workers(d["url"], count=2):
        for start in range(0, len(criteria), 4):
            sign_off(d, enrolment, criteria[start:start + 4])
        events = call(d["base"], "GET", "/v1/changes?limit=500", d["admin"])["items"]
        mine = [e for e in events if e["centre_id"] is not None]
        for path in endpoints:
            wait_for(lambda p=path: len(receiver.messages(p)) >= len(mine), f"every event at {path}")
    for path, endpoint in endpoints.items():
        messages = verified(receiver, endpoint["secret"], path)
        assert [m["data"]["cursor"] for _, m in messages] == [e["cursor"] for e in mine], path  # once each, in order
        log = call(d["base"], "GET", f"{endpoint['href']}/attempts?limit=500", d["admin"])["items"]
        assert sorted((a["message_id"], a["attempt"]) for a in log) == sorted(
            (message_id, 1) for message_id, _ in messages)


def test_the_cli_registers_rotates_replays_and_deletes_endpoints(fresh_url):
    qualtrack("init-db", database_url=fresh_url)
    qualtrack("create-centre", "--code", "C1", "--name", "Centre One", database_url=fresh_url)
    env = {"QUALTRACK_WEBHOOK_ALLOW_PRIVATE": "1"}

    def run(*args) -> dict | list:
        return json.loads(qualtrack("webhooks", *args, database_url=fresh_url, env=env).stdout)

    made = run("add", "--centre", "C1", "--url", "http://127.0.0.1:9/hooks", "--type", "decision.*")
    assert made["secret"].startswith("whsec_") and made["types"] == ["decision.*"]
    assert [e["id"] for e in run("list")] == [made["id"]]
    rotated = run("rotate-secret", made["id"])
    assert rotated["secret"] != made["secret"] and rotated["previous_secret_expires_at"]
    assert run("set-status", made["id"], "disabled")["status"] == "disabled"
    assert run("recover", made["id"], "--since", "2026-01-01")["id"] == made["id"]
    refused = qualtrack("webhooks", "add", "--centre", "C1", "--url", "http://127.0.0.1:9/x", database_url=fresh_url,
                        check=False)  # without QUALTRACK_WEBHOOK_ALLOW_PRIVATE: a loopback address is refused
    assert refused.returncode != 0 and "private" in refused.stderr
    assert "deleted" in qualtrack("webhooks", "delete", made["id"], database_url=fresh_url).stdout
    assert run("list") == []
