"""The settings webhooks run with: the app's inside a request, the environment's in `qualtrack worker`."""

from functools import lru_cache

from flask import current_app, has_app_context

from api.config import Settings


def webhook_settings() -> Settings:
    if has_app_context():
        return current_app.config["QUALTRACK"]
    return _from_environment()


@lru_cache(maxsize=1)
def _from_environment() -> Settings:
    return Settings.from_env()
