"""Rate limits for the few operations that have one (the token endpoints), with the `limits` library: fixed windows
counted by default in the database (``database://``, DatabaseStorage below: every worker and host shares them), or in
Redis (``redis://HOST:6379/0``) or this process only (``memory://``), from QUALTRACK_RATELIMIT_STORAGE_URI.

Two limits guard sign-in: requests per client address and operation (``limiter.limit``), and failed sign-ins per
account or client, from any address (``limiter.counting_failures``).

Only a view decorated with ``limiter.limit`` pays for a check: no hook runs on every other request. A limited view's
responses (refusals too) carry X-RateLimit-Limit, -Remaining and -Reset; once a window is used up the answer is a 429
problem with Retry-After.
"""

import itertools
import math
import time
from collections.abc import Callable
from contextlib import contextmanager
from functools import wraps

import peewee
from flask import Flask, current_app, make_response, request
from limits import parse
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from api import db
from api.errors import ApiError, TooManyRequests


class DatabaseStorage(Storage):
    """`limits` counters in the rate_limit_counter table of the app's database (``database://``): one row per window,
    incremented atomically (INSERT ... ON CONFLICT DO UPDATE), so every worker and every host counts together.
    Windows that ended are reset when next counted, and deleted now and then."""

    STORAGE_SCHEME = ["database"]
    PURGE_EVERY = 256  # increments in this process between deletions of ended windows

    _INCREMENT = ('INSERT INTO rate_limit_counter ("key", "count", expires_at) VALUES ({p}, {p}, {p}) '
                  'ON CONFLICT ("key") DO UPDATE SET '
                  '"count" = CASE WHEN rate_limit_counter.expires_at <= {p} THEN excluded."count" '
                  'ELSE rate_limit_counter."count" + excluded."count" END, '
                  'expires_at = CASE WHEN rate_limit_counter.expires_at <= {p} THEN excluded.expires_at '
                  'ELSE rate_limit_counter.expires_at END '
                  'RETURNING "count"')

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._increments = itertools.count(1)

    @property
    def base_exceptions(self):
        return peewee.DatabaseError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        if next(self._increments) % self.PURGE_EVERY == 0:
            _execute("DELETE FROM rate_limit_counter WHERE expires_at <= {p}", [now])
        [(count,)] = db.fetch_rows(self._INCREMENT, [key, amount, now + expiry, now, now])
        return int(count)

    def _live(self, key: str) -> tuple | None:
        rows = db.fetch_rows('SELECT "count", expires_at FROM rate_limit_counter '
                             'WHERE "key" = {p} AND expires_at > {p}', [key, time.time()])
        return rows[0] if rows else None

    def get(self, key: str) -> int:
        live = self._live(key)
        return int(live[0]) if live else 0

    def get_expiry(self, key: str) -> float:
        live = self._live(key)
        return float(live[1]) if live else time.time()

    def check(self) -> bool:
        try:
            db.fetch_rows("SELECT 1")
        except peewee.DatabaseError:
            return False
        return True

    def reset(self) -> int | None:
        return len(db.fetch_rows('DELETE FROM rate_limit_counter RETURNING "key"'))

    def clear(self, key: str) -> None:
        _execute('DELETE FROM rate_limit_counter WHERE "key" = {p}', [key])


def _execute(sql: str, params: list) -> None:
    """Run a statement that returns no rows, on either backend ({p} placeholders, as db.fetch_rows)."""
    database = db.database_proxy.obj
    database.execute_sql(sql.format(p=database.param), params)


def _retry_after(reset_at: float) -> str:
    return str(max(1, math.ceil(reset_at - time.time())))


class Limiter:
    """Per-app counters (each app has its own store), checked by the views it decorates."""

    def __init__(self):
        self._stores: list = []  # every app's store, so that tests can reset them all

    def init_app(self, app: Flask, storage_uri: str, key_prefix: str) -> None:
        """Give ``app`` its counters, in the store ``storage_uri`` names, under ``key_prefix``."""
        store = storage_from_string(storage_uri)
        self._stores.append(store)
        app.extensions["qualtrack_rate_limits"] = (FixedWindowRateLimiter(store), key_prefix)

    def reset(self) -> None:
        """Forget every count (tests)."""
        for store in self._stores:
            store.reset()

    def limit(self, limit_text: Callable[[], str]):
        """Decorate a view: at most ``limit_text()`` (e.g. "20 per minute", read at each request) requests per
        client address."""
        def decorate(view):
            @wraps(view)
            def limited(*args, **kwargs):
                strategy, prefix = current_app.extensions["qualtrack_rate_limits"]
                item = parse(limit_text())
                key = (prefix, request.endpoint or "", request.remote_addr or "unknown")
                allowed = strategy.hit(item, *key)
                reset_at, remaining = strategy.get_window_stats(item, *key)
                headers = {"X-RateLimit-Limit": str(item.amount), "X-RateLimit-Remaining": str(remaining),
                           "X-RateLimit-Reset": str(math.ceil(reset_at))}
                if not allowed:
                    headers["Retry-After"] = _retry_after(reset_at)
                    raise TooManyRequests(f"too many requests: at most {item} from one address; retry after the "
                                          "time in Retry-After", headers=headers)
                try:
                    response = make_response(view(*args, **kwargs))
                except ApiError as refusal:  # a refused request counts too, and says so
                    refusal.headers = {**headers, **refusal.headers}
                    raise
                response.headers.update(headers)
                return response
            return limited
        return decorate

    @contextmanager
    def counting_failures(self, credential: str, limit_text: str):
        """Around one sign-in with ``credential`` (e.g. ``account:EMAIL``), from whatever address: TooManyRequests,
        without trying the secret, once ``limit_text`` failed sign-ins with it have been counted in the window. The
        attempt is counted before the block runs (so concurrent guesses cannot all slip under the limit) and given
        back if the block completes: only failures use the window up."""
        strategy, prefix = current_app.extensions["qualtrack_rate_limits"]
        item = parse(limit_text)
        key = (prefix, "failed-sign-ins", credential)
        if not strategy.hit(item, *key):
            reset_at = strategy.get_window_stats(item, *key).reset_time
            raise TooManyRequests(f"too many failed sign-ins for this account or client: at most {item}, from any "
                                  "address; retry after the time in Retry-After (or ask an admin)",
                                  headers={"Retry-After": _retry_after(reset_at)})
        yield
        strategy.hit(item, *key, cost=-1)
