"""Delivering the feed to webhook endpoints: at least once, in feed order per endpoint, by `qualtrack worker`.

The feed is the outbox: every event is written in the transaction of the change it records (api.services.sync.feed),
and an endpoint's ``position`` is the last event it has been sent. A worker takes one endpoint at a time: it claims
a lease on it (PostgreSQL: the candidate row is chosen FOR UPDATE SKIP LOCKED, so workers never queue on one
another; SQLite: one writer at a time anyway), then sends its next events one by one. Each attempt is written
(endpoint, event, attempt number: unique) and committed before the request goes out, so no two workers ever send
the same attempt, and a worker killed mid-request leaves its attempt in the log: the lease lapses and the next worker
sends the event again as the next attempt, with the same webhook-id. The position moves only after a 2xx.

Failures: a timeout, a refused connection or a non-2xx answer is retried with backoff and jitter (RETRY_AFTER, about
3 days in all), the endpoint's later events waiting behind it so order holds; after the last retry the event is
given up (logged) and the next one sent. 429 and 503 wait the Retry-After they give. 410 disables the endpoint.
"""

import email.utils
import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import orjson
from peewee import IntegrityError, fn

from api import db
from api.ids import new_id
from api.models import WebhookAttempt, WebhookEndpoint
from api.models.base import utcnow
from api.services.common.access import Principal
from api.services.common.app_settings import settings as app_settings
from api.services.sync import feed
from api.services.webhooks import signing, targets

log = logging.getLogger(__name__)
# Seconds to wait before each retry of one event: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h (x3), 12 h, 24 h: 73.7 hours.
RETRY_AFTER = (5, 300, 1800, 7200, 18000, 36000, 36000, 36000, 43200, 86400)
JITTER = 0.2  # each wait is stretched or shrunk by up to a fifth, so endpoints that failed together spread out
MAX_RETRY_AFTER = 86400  # a Retry-After longer than a day is taken as a day
EVENTS_PER_TURN = 50  # events a worker sends to one endpoint before it lets others have a turn
USER_AGENT = "qualtrack-webhooks/1"


@dataclass
class Sent:
    """How one attempt went."""

    status_code: int | None
    error: str | None
    duration_ms: int
    retry_after: int | None = None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def endpoint_principal(endpoint: WebhookEndpoint) -> Principal:
    """Who the endpoint receives events as: a client of its centre that reads tracking records, or of its awarding
    body that reads its content (drafts included). Published content reaches both."""
    if endpoint.centre_id is not None:
        return Principal(kind="client", id=endpoint.id, centre_ids=frozenset({endpoint.centre_id}),
                         scopes=frozenset({"tracking:read"}))
    return Principal(kind="client", id=endpoint.id, body_ids=frozenset({endpoint.owner_id}),
                     scopes=frozenset({"content:read"}))


def message_id(seq: int) -> str:
    """An event's webhook-id: the same on every attempt and to every endpoint, so a receiver can drop repeats."""
    return f"msg_{seq}"


def claim(worker: str, lease_seconds: int) -> uuid.UUID | None:
    """Take the lease of one active endpoint that is due (next_attempt_at passed) and not leased; its id, or None."""
    now = utcnow()
    with db.write_transaction():
        due = (WebhookEndpoint.select(WebhookEndpoint.id)
               .where(WebhookEndpoint.status == "active", WebhookEndpoint.next_attempt_at <= now,
                      WebhookEndpoint.lease_until.is_null() | (WebhookEndpoint.lease_until < now))
               .order_by(WebhookEndpoint.next_attempt_at).limit(1))
        if not db.is_sqlite():
            due = due.for_update(skip_locked=True)
        row = due.first()
        if row is None:
            return None
        WebhookEndpoint.update(lease_owner=worker, lease_until=now + timedelta(seconds=lease_seconds)).where(
            WebhookEndpoint.id == row.id).execute()
        return row.id


def work_on(endpoint_id: uuid.UUID, worker: str, client: httpx.Client) -> int:
    """Send the claimed endpoint's next events, one at a time, until it has none, one fails, the lease is lost or
    it has had its turn; then let it go. How many were delivered."""
    settings = app_settings()
    delivered = 0
    while delivered < EVENTS_PER_TURN:
        started = _start_attempt(endpoint_id, worker, settings.webhook_lease_seconds)
        if started is None:  # nothing to send (look again after a poll), or no longer ours
            _release(endpoint_id, worker, settings.webhook_poll_ms)
            return delivered
        endpoint, seq, entry, attempt = started
        sent = _send(endpoint, seq, entry, client, settings)
        if not _finish_attempt(endpoint_id, worker, seq, attempt, sent) or not sent.delivered:
            return delivered  # lost, or let go until its retry is due
        delivered += 1
    _release(endpoint_id, worker, 0)  # had its turn: due again at once, behind endpoints waiting longer
    return delivered


def _start_attempt(endpoint_id, worker: str, lease_seconds: int):
    """Inside one committed transaction: check the lease is still ours and renew it, find the next event, and log
    the attempt about to be made. (endpoint, seq, event, attempt row), or None (no event, or the lease is gone)."""
    now = utcnow()
    with db.write_transaction():
        renewed = WebhookEndpoint.update(lease_until=now + timedelta(seconds=lease_seconds)).where(
            WebhookEndpoint.id == endpoint_id, WebhookEndpoint.lease_owner == worker,
            WebhookEndpoint.status == "active").execute()
        if renewed != 1:
            return None
        endpoint = WebhookEndpoint.get_by_id(endpoint_id)
        events = feed.events_after(endpoint_principal(endpoint), endpoint.position, 1, endpoint.types)
        if not events:
            return None
        seq, entry = events[0]
        tried = WebhookAttempt.select(fn.MAX(WebhookAttempt.attempt)).where(
            WebhookAttempt.endpoint == endpoint_id, WebhookAttempt.seq == seq).scalar() or 0
        attempt = WebhookAttempt(id=new_id(), endpoint=endpoint_id, seq=seq, message_id=message_id(seq),
                                 attempt=tried + 1, attempted_at=now, outcome="sending")
        try:
            with db.savepoint():
                attempt.save(force_insert=True)
        except IntegrityError:  # another worker logged this very attempt: it is theirs to send
            return None
    return endpoint, seq, entry, attempt


def _send(endpoint: WebhookEndpoint, seq: int, entry: dict, client: httpx.Client, settings) -> Sent:
    """POST one event, signed, to the endpoint; how it went (never raises for the receiver's faults)."""
    body = orjson.dumps({"type": entry["type"], "timestamp": entry["occurred_at"], "data": entry})
    now = datetime.now(UTC)
    secrets = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_until and endpoint.previous_secret_until > utcnow():
        secrets.append(endpoint.previous_secret)
    headers = {"content-type": "application/json", "user-agent": USER_AGENT,
               **signing.signed_headers(secrets, message_id(seq), now, body)}
    started = time.monotonic()
    refused = targets.url_problem(endpoint.url) or targets.address_problem(endpoint.url,
                                                                           settings.webhook_allow_private)
    if refused:
        return Sent(None, f"not sent: the url {refused}", 0)
    try:
        answer = client.post(endpoint.url, content=body, headers=headers, timeout=settings.webhook_timeout_seconds)
    except httpx.TimeoutException:
        return Sent(None, f"no answer within {settings.webhook_timeout_seconds} s", _since(started))
    except httpx.HTTPError as error:
        return Sent(None, f"{type(error).__name__}: {error}"[:500], _since(started))
    retry_after = _retry_after(answer) if answer.status_code in (429, 503) else None
    return Sent(answer.status_code, None, _since(started), retry_after)


def _finish_attempt(endpoint_id, worker: str, seq: int, attempt: WebhookAttempt, sent: Sent) -> bool:
    """Log how the attempt went and move the endpoint on (delivered), back (retry later), past the event (given up)
    or off (410); False if the lease was lost meanwhile (the endpoint is someone else's now)."""
    now = utcnow()
    with db.write_transaction():
        endpoint = WebhookEndpoint.get_or_none(WebhookEndpoint.id == endpoint_id)
        ours = endpoint is not None and endpoint.lease_owner == worker
        changes: dict = {}
        if sent.delivered:
            outcome, changes = "delivered", {"position": seq, "attempt": 0, "failing_since": None}
        elif sent.status_code == 410:
            outcome, changes = "disabled", {"status": "disabled", "lease_owner": None, "lease_until": None,
                                            "disabled_reason": "the receiver answered 410 Gone"}
        elif ours and endpoint.attempt >= len(RETRY_AFTER):
            outcome, changes = "given_up", {"position": seq, "attempt": 0, "failing_since": None,
                                            "next_attempt_at": now, "lease_owner": None, "lease_until": None}
        else:
            failures = endpoint.attempt if ours else 0
            wait = sent.retry_after if sent.retry_after is not None else _backoff(failures)
            outcome, changes = "retrying", {
                "attempt": failures + 1, "failing_since": (endpoint.failing_since if ours else None) or now,
                "next_attempt_at": now + timedelta(seconds=wait), "lease_owner": None, "lease_until": None}
        WebhookAttempt.update(outcome=outcome, status_code=sent.status_code, error=sent.error,
                              duration_ms=sent.duration_ms).where(WebhookAttempt.id == attempt.id).execute()
        if ours:
            WebhookEndpoint.update(**changes, updated_at=now).where(
                WebhookEndpoint.id == endpoint_id, WebhookEndpoint.lease_owner == worker).execute()
    if outcome != "delivered":
        log.info("webhook attempt", extra={"endpoint": str(endpoint_id), "seq": seq, "attempt": attempt.attempt,
                                           "outcome": outcome, "status": sent.status_code, "error": sent.error})
    return ours


def _release(endpoint_id, worker: str, poll_ms: int) -> None:
    """Let the endpoint go, to be looked at again after ``poll_ms``."""
    with db.write_transaction():
        WebhookEndpoint.update(lease_owner=None, lease_until=None,
                               next_attempt_at=utcnow() + timedelta(milliseconds=poll_ms)).where(
            WebhookEndpoint.id == endpoint_id, WebhookEndpoint.lease_owner == worker,
            WebhookEndpoint.status == "active").execute()


def _backoff(failures: int) -> float:
    base = RETRY_AFTER[min(failures, len(RETRY_AFTER) - 1)]
    return base * random.uniform(1 - JITTER, 1 + JITTER)


def _retry_after(answer: httpx.Response) -> int | None:
    """The answer's Retry-After in seconds (delta-seconds or an HTTP date), at least 1 and at most a day."""
    value = answer.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        seconds = int(value)
    else:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = int((moment - datetime.now(UTC)).total_seconds())
    return max(1, min(seconds, MAX_RETRY_AFTER))


def _since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def run(worker: str, *, stop, idle_wait) -> None:
    """Deliver until ``stop()`` is true: claim an endpoint that is due, work on it, repeat; when none is due, call
    ``idle_wait()`` (which waits a little, or until stopping)."""
    settings = app_settings()
    with httpx.Client(follow_redirects=False, headers={"user-agent": USER_AGENT}) as client:
        while not stop():
            try:
                db.ensure_connected()
                endpoint_id = claim(worker, settings.webhook_lease_seconds)
                if endpoint_id is None:
                    idle_wait()
                    continue
                work_on(endpoint_id, worker, client)
            except Exception:  # the database went away, a bug: log it, wait, and go on; a lease left lapses
                log.exception("webhook worker: this turn failed; trying again")
                idle_wait()
            finally:
                db.release()
