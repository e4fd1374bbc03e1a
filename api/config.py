"""Settings from QUALTRACK_* environment variables, with safe development defaults.

Outside development and test the app refuses to start without a strong QUALTRACK_JWT_SECRET.
"""

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "sqlite:///instance/qualtrack.db"
RELAXED_ENVIRONMENTS = ("development", "test")
DEVELOPMENT_JWT_SECRET = "qualtrack-development-only-secret-never-use-in-production"
MIN_SECRET_LENGTH = 32
WEAK_SECRETS = {"secret", "changeme", "change-me", "password", "qualtrack", DEVELOPMENT_JWT_SECRET}

log = logging.getLogger(__name__)


class ConfigurationError(RuntimeError):
    """The environment does not describe a safe configuration; the app must not start."""


@dataclass
class Settings:
    """Everything the app reads from its environment, in one place."""

    database_url: str = DEFAULT_DATABASE_URL
    env: str = "development"
    units_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "data" / "units")
    jwt_secret: str | None = None
    jwt_audience: str = "qualtrack-api"
    jwt_issuer: str = "qualtrack"
    access_token_seconds: int = 900
    refresh_token_seconds: int = 14 * 24 * 3600
    token_rate_limit: str = "20 per minute"
    ratelimit_storage_uri: str = "memory://"

    @classmethod
    def from_env(cls, environ=None) -> "Settings":
        """Build settings from QUALTRACK_* variables (see README for the list)."""
        environ = os.environ if environ is None else environ
        settings = cls()
        settings.database_url = environ.get("QUALTRACK_DATABASE_URL", settings.database_url)
        settings.env = environ.get("QUALTRACK_ENV", settings.env)
        if "QUALTRACK_UNITS_DIR" in environ:
            settings.units_dir = Path(environ["QUALTRACK_UNITS_DIR"])
        settings.jwt_secret = environ.get("QUALTRACK_JWT_SECRET") or None
        settings.token_rate_limit = environ.get("QUALTRACK_TOKEN_RATE_LIMIT", settings.token_rate_limit)
        settings.ratelimit_storage_uri = environ.get("QUALTRACK_RATELIMIT_STORAGE_URI", settings.ratelimit_storage_uri)
        for name, attr in (("QUALTRACK_ACCESS_TOKEN_SECONDS", "access_token_seconds"),
                           ("QUALTRACK_REFRESH_TOKEN_SECONDS", "refresh_token_seconds")):
            if name in environ:
                setattr(settings, attr, int(environ[name]))
        return settings

    def signing_secret(self) -> str:
        """The JWT signing key; ConfigurationError if it is missing or weak outside development and test."""
        secret = self.jwt_secret
        weak = secret is None or len(secret) < MIN_SECRET_LENGTH or secret.lower() in WEAK_SECRETS
        if not weak:
            return secret
        if self.env not in RELAXED_ENVIRONMENTS:
            raise ConfigurationError(
                f"QUALTRACK_JWT_SECRET is {'missing' if secret is None else 'too weak'}: set it to a random value of "
                f"at least {MIN_SECRET_LENGTH} characters (e.g. `python -c 'import secrets; "
                f"print(secrets.token_urlsafe(48))'`). QUALTRACK_ENV is {self.env!r}.")
        if secret is None:
            log.warning("QUALTRACK_JWT_SECRET is not set: using the development-only signing key")
            return DEVELOPMENT_JWT_SECRET
        return secret
