"""qualtrack: a versioned REST (and later GraphQL) API for vocational-qualification content and tracking."""

from flask import Flask

from api import auth, db, errors, rest
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
    errors.init_app(app)
    auth.init_app(app, settings)
    rest.init_app(app)
    return app
