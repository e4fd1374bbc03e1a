"""The deployment's settings as services need them: the app's inside a request, the environment's outside one (a CLI
command such as `qualtrack worker`, a test)."""

from functools import lru_cache

from api.config import Settings


def settings() -> Settings:
    """The app's settings; outside an app context, those the environment configures, as create_app would read them."""
    from flask import current_app, has_app_context

    return current_app.config["QUALTRACK"] if has_app_context() and "QUALTRACK" in current_app.config else (
        _environment_settings())


@lru_cache(maxsize=1)
def _environment_settings() -> Settings:
    return Settings.from_env()


def signing_secret() -> str:
    """The app's token signing secret (QUALTRACK_JWT_SECRET, or the development key where that is allowed)."""
    from flask import current_app, has_app_context

    return current_app.config["JWT_SECRET_KEY"] if has_app_context() else _environment_settings().signing_secret()
