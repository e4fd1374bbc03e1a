"""qualtrack: a versioned REST (and later GraphQL) API for vocational-qualification content and tracking."""

from flask import Flask

from api import auth, db, errors, gql, rest
from api.config import Settings


def create_app(settings: Settings | None = None, database=None) -> Flask:
    """Build the Flask app. ``database`` (an unconnected peewee Database) overrides settings.database_url."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config["QUALTRACK"] = settings
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    db.bind(database if database is not None else db.make_database(settings.database_url))
    app.before_request(db.ensure_connected)
    _track_request_ids(app)
    errors.init_app(app)
    auth.init_app(app, settings)
    rest.init_app(app)
    gql.init_app(app, settings)
    return app


def _track_request_ids(app: Flask) -> None:
    """Accept X-Request-ID (or make one), record it in audit events, and return it on every response."""
    import uuid

    from flask import request

    from api.services import context

    @app.before_request
    def take_request_id():
        given = request.headers.get("X-Request-ID", "")
        valid = 0 < len(given) <= 128 and given.isascii() and given.isprintable()
        context.request_id.set(given if valid else str(uuid.uuid4()))

    @app.after_request
    def return_request_id(response):
        response.headers["X-Request-ID"] = context.request_id.get() or ""
        return response
