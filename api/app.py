"""The Flask app: its hooks, blueprints and error handlers, put together by create_app."""

import orjson
from flask import Flask, request
from flask.json.provider import DefaultJSONProvider

from api import auth, db, gql, observability, problems, rest
from api.config import Settings
from api.rest import health

CORS_ALLOWED_HEADERS = ["Authorization", "Content-Type", "If-Match", "If-None-Match", "Idempotency-Key",
                        "X-Request-ID"]
CORS_EXPOSED_HEADERS = ["ETag", "Location", "Link", "X-Request-ID", "X-Total-Count", "Retry-After",
                        "Idempotent-Replayed", "X-RateLimit-Limit", "X-RateLimit-Remaining",
                        "X-RateLimit-Reset"]


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON with request bodies parsed by orjson (several times as fast as json.loads, for every write's
    body). It takes UTF-8 only and refuses NaN, Infinity and lone surrogates, none of which is JSON (RFC 8259): such
    a body is a 400 like any other that is not JSON. Responses are still written by json.dumps, in insertion order,
    non-ASCII as is."""

    sort_keys = False
    ensure_ascii = False

    def loads(self, s, **kwargs):
        return orjson.loads(s)


def create_app(settings: Settings | None = None, database=None) -> Flask:
    """Build the Flask app. ``database`` (an unconnected peewee Database) overrides settings.database_url."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config["QUALTRACK"] = settings
    app.json = JSONProvider(app)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes  # a learner import raises its own limit
    db.bind(database if database is not None else db.database_for(settings))
    _track_request_ids(app)
    observability.init_app(app, settings)
    app.before_request(_connect_unless_database_free)
    app.teardown_request(db.release)
    problems.init_app(app)
    auth.init_app(app, settings)
    rest.init_app(app)
    app.register_blueprint(health.bp)
    gql.init_app(app, settings)
    if settings.trusted_proxies:  # the client's address (rate limits) and scheme, as the load balancer saw them
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies)
    if settings.cors_origins:
        from flask_cors import CORS

        CORS(app, origins=list(settings.cors_origins), allow_headers=CORS_ALLOWED_HEADERS,
             expose_headers=CORS_EXPOSED_HEADERS, max_age=600)
    return app


# Answered without the database: liveness and metrics must work while it is down; /readyz connects by itself.
DATABASE_FREE_ENDPOINTS = {"health.healthz", "health.readyz", "metrics", "static"}
DATABASE_FREE_BLUEPRINTS = {"docs"}


def _connect_unless_database_free() -> None:
    if request.endpoint not in DATABASE_FREE_ENDPOINTS and request.blueprint not in DATABASE_FREE_BLUEPRINTS:
        db.ensure_connected()
        db.keep_checkpointing()


def _track_request_ids(app: Flask) -> None:
    """Accept X-Request-ID (or make one), record it in audit events, and return it on every response."""
    import uuid_utils
    from flask import request

    from api.services.common import request_context

    @app.before_request
    def take_request_id():
        given = request.headers.get("X-Request-ID", "")
        valid = 0 < len(given) <= 128 and given.isascii() and given.isprintable()
        request_context.request_id.set(given if valid else str(uuid_utils.uuid4()))  # no system call, unlike uuid.uuid4

    @app.after_request
    def return_request_id(response):
        response.headers["X-Request-ID"] = request_context.request_id.get() or ""
        return response
