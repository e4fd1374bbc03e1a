"""Webhooks, in process: endpoints registered through the API, the feed delivered to a real HTTP receiver by the
worker's own functions (claim, then work on an endpoint), signed as Standard Webhooks and verified with the
specification's reference library. The same code run as separate processes: tests/test_webhooks_e2e.py."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import time_machine
from standardwebhooks import Webhook
from werkzeug import Response

from api.models import WebhookAttempt, WebhookEndpoint
from api.services.webhooks import delivery, signing
from tests.tracking_helpers import criteria_of, enrol, make_learner, post


class Receiver:
    """What a receiver was sent (headers, body), answering with the next of ``answers`` (then 200s)."""

    def __init__(self, httpserver, answers=()):
        self.received: list[tuple[dict, bytes]] = []
        self.answers = list(answers)
        self.url = httpserver.url_for("/hooks")
        httpserver.expect_request("/hooks", method="POST").respond_with_handler(self.answer)

    def answer(self, request):
        self.received.append(({k.lower(): v for k, v in request.headers.items()}, request.get_data()))
        return self.answers.pop(0) if self.answers else Response("ok", status=200)

    def verified(self, secret: str) -> list[dict]:
        """Every message, verified with ``secret`` by the reference library (which raises on a bad signature)."""
        return [Webhook(secret).verify(body, headers) for headers, body in self.received]


def deliver(app) -> int:
    """What a worker would do now: every endpoint that is due, until none is; the number of events delivered."""
    delivered = 0
    with app.app_context(), httpx.Client(follow_redirects=False) as client:
        while (endpoint_id := delivery.claim("test-worker", 60)) is not None:
            delivered += delivery.work_on(endpoint_id, "test-worker", client)
    return delivered


def register(client, auth, caller, url, **extra) -> dict:
    return post(client, auth, caller, "/v1/webhooks/endpoints", {"url": url, **extra})


def sign_off(client, auth, enrolment_id, criteria, outcome="met", reason=None):
    body = {"decisions": [{"criterion_id": c, "outcome": outcome, "feedback": "seen",
                           **({"reason": reason} if reason else {})} for c in criteria]}
    return post(client, auth, "assessor_a", f"/v1/enrolments/{enrolment_id}/decisions/batch", body)["items"]


def test_the_standard_webhooks_test_vector():
    headers = signing.signed_headers(["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], "msg_p5jXN8AQM9LWM0D4loKWxJek",
                                     datetime.fromtimestamp(1614265330, UTC), b'{"test": 2432232314}')
    assert headers == {"webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330",
                       "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}


def test_a_centre_s_events_arrive_signed_in_order_and_only_its_own(app, client, auth, identities, content_ids,
                                                                    httpserver):
    receiver = Receiver(httpserver)
    endpoint = register(client, auth, "centre_admin_a", receiver.url, types=["decision.*", "enrolment.*"])
    assert endpoint["secret"].startswith("whsec_") and "secret" not in client.get(
        endpoint["href"], headers=auth("centre_admin_a")).get_json()
    learner = make_learner(client, auth, identities)
    enrolment = enrol(client, auth, identities, learner["id"], content_ids["B13"])
    criteria = criteria_of(client, content_ids["B13"])
    decisions = sign_off(client, auth, enrolment["id"], criteria)
    other = make_learner(client, auth, identities, caller="centre_admin_b",
                         centre_id=str(identities.centres["B"].id))
    assert deliver(app) == 2 + len(criteria)
    messages = receiver.verified(endpoint["secret"])
    assert [m["type"] for m in messages] == ["enrolment.created", *["decision.recorded"] * len(criteria),
                                             "enrolment.completed"]
    assert [m["data"]["subject_id"] for m in messages[1:-1]] == [d["id"] for d in decisions]
    ids = [headers["webhook-id"] for headers, _ in receiver.received]
    assert len(set(ids)) == len(ids) and all(i.startswith("msg_") for i in ids)
    assert other["id"] not in json.dumps(messages)  # centre B's learner: not centre A's to see
    assert deliver(app) == 0  # nothing new: nothing sent twice
    log = client.get(f"{endpoint['href']}/attempts?limit=100", headers=auth("centre_admin_a")).get_json()["items"]
    assert [a["outcome"] for a in log] == ["delivered"] * len(messages)
    assert all(a["status_code"] == 200 and a["duration_ms"] >= 0 for a in log)


def test_a_failed_delivery_is_retried_later_with_the_same_id_and_holds_back_what_follows(
        app, client, auth, identities, content_ids, httpserver):
    receiver = Receiver(httpserver, answers=[Response("down", status=500)])
    endpoint = register(client, auth, "centre_admin_a", receiver.url, types=["learner.created"])
    first, second = (make_learner(client, auth, identities) for _ in range(2))
    assert deliver(app) == 0  # the first attempt failed: the second learner waits behind it
    assert len(receiver.received) == 1
    stored = WebhookEndpoint.get_by_id(uuid.UUID(endpoint["id"]))
    assert stored.attempt == 1 and stored.next_attempt_at > datetime.now(UTC).replace(tzinfo=None)
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=10)):  # past the first backoff (5 s + 20%)
        assert deliver(app) == 2
    ids = [headers["webhook-id"] for headers, _ in receiver.received]
    assert ids[0] == ids[1] != ids[2]  # the retry keeps its webhook-id
    assert [m["data"]["subject_id"] for m in receiver.verified(endpoint["secret"])] == [
        first["id"], first["id"], second["id"]]
    outcomes = [(a.attempt, a.outcome, a.status_code) for a in WebhookAttempt.select().where(
        WebhookAttempt.endpoint == stored.id).order_by(WebhookAttempt.seq, WebhookAttempt.attempt)]
    assert outcomes == [(1, "retrying", 500), (2, "delivered", 200), (1, "delivered", 200)]


def test_429_waits_its_retry_after_and_410_disables(app, client, auth, identities, httpserver):
    receiver = Receiver(httpserver, answers=[Response("slow down", status=429, headers={"Retry-After": "120"}),
                                             Response("gone", status=410)])
    endpoint = register(client, auth, "centre_admin_a", receiver.url, types=["learner.created"])
    make_learner(client, auth, identities)
    deliver(app)
    stored = WebhookEndpoint.get_by_id(uuid.UUID(endpoint["id"]))
    wait = (stored.next_attempt_at - datetime.now(UTC).replace(tzinfo=None)).total_seconds()
    assert 100 < wait <= 120
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=121)):
        deliver(app)
    shown = client.get(endpoint["href"], headers=auth("centre_admin_a")).get_json()
    assert shown["status"] == "disabled" and "410" in shown["disabled_reason"]
    make_learner(client, auth, identities)
    assert deliver(app) == 0 and len(receiver.received) == 2  # a disabled endpoint is sent nothing


def test_a_rotated_secret_signs_beside_the_new_one_and_recover_replays(app, client, auth, identities, httpserver):
    receiver = Receiver(httpserver)
    endpoint = register(client, auth, "centre_admin_a", receiver.url, types=["learner.created"])
    started = datetime.now(UTC)
    make_learner(client, auth, identities)
    deliver(app)
    rotated = post(client, auth, "centre_admin_a", f"{endpoint['href']}/rotate-secret", None, status=200)
    assert rotated["secret"] != endpoint["secret"] and rotated["previous_secret_expires_at"]
    since = (started - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    post(client, auth, "centre_admin_a", f"{endpoint['href']}/recover?since={since}", None, status=200)
    deliver(app)
    first, again = receiver.received
    assert first[0]["webhook-id"] == again[0]["webhook-id"] and first[1] == again[1]  # the same message again
    assert len(again[0]["webhook-signature"].split(" ")) == 2
    for secret in (endpoint["secret"], rotated["secret"]):  # during the grace period either verifies
        Webhook(secret).verify(again[1], again[0])
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(rotated["secret"]).verify(*reversed(first))


def test_who_manages_which_endpoints(client, auth, identities):
    url = "http://127.0.0.1:9/hooks"
    made = register(client, auth, "hooks_client_a", url)
    assert made["centre_id"] == str(identities.centres["A"].id)
    for caller in ("assessor_a", "lms_client_a", "learner_a"):
        assert client.post("/v1/webhooks/endpoints", json={"url": url, "centre_id": str(identities.centres["A"].id)},
                           headers=auth(caller)).status_code == 403, caller  # they see the centre: may not
    body = register(client, auth, "author_skills_cfa", url, awarding_body="skills-cfa")
    assert body["awarding_body"] == "skills-cfa" and body["centre_id"] is None
    for caller, sees in (("centre_admin_a", {made["id"]}), ("author_skills_cfa", {body["id"]}),
                         ("centre_admin_b", set()), ("admin", {made["id"], body["id"]})):
        listed = {e["id"] for e in client.get("/v1/webhooks/endpoints", headers=auth(caller)).get_json()["items"]}
        assert listed & {made["id"], body["id"]} == sees, caller
    assert client.get(made["href"], headers=auth("centre_admin_b")).status_code == 404
    assert client.delete(made["href"], headers=auth("centre_admin_b")).status_code == 404
    assert client.delete(made["href"], headers=auth("centre_admin_a")).status_code == 204
    assert client.get(made["href"], headers=auth("centre_admin_a")).status_code == 404


def test_bad_endpoints_are_refused(app, client, auth, monkeypatch):
    for body, field in (({"url": "ftp://example.org/x"}, "url"), ({"url": "https://user:pw@example.org/"}, "url"),
                        ({"url": "http://127.0.0.1:9/", "types": ["decision.made"]}, "types"),
                        ({"url": "http://127.0.0.1:9/", "types": []}, "types"),
                        ({"url": "https://nonexistent.invalid/"}, "url")):
        answer = client.post("/v1/webhooks/endpoints", json=body, headers=auth("centre_admin_a"))
        assert answer.status_code == 422 and field in answer.get_json()["errors"], (body, answer.get_json())
    monkeypatch.setattr(app.config["QUALTRACK"], "webhook_allow_private", False)
    for url in ("http://127.0.0.1:8080/x", "http://[::1]/x", "http://10.1.2.3/x", "http://169.254.169.254/latest"):
        answer = client.post("/v1/webhooks/endpoints", json={"url": url}, headers=auth("centre_admin_a"))
        assert answer.status_code == 422 and "private" in answer.get_json()["detail"], url
