"""Entry point for gunicorn: ``gunicorn -c python:api.gunicorn_conf api.wsgi:app``. Logs go to stderr as JSON."""

from api import create_app
from api.config import Settings
from api.observability import configure_logging

settings = Settings.from_env()
configure_logging(settings)
app = create_app(settings)
