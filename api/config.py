"""Settings from QUALTRACK_* environment variables. The defaults fail closed: QUALTRACK_ENV is "production" unless set,
and outside development and test the app refuses to start without a strong QUALTRACK_JWT_SECRET.
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
    env: str = "production"  # "development" or "test" (set explicitly) allow the development-only signing key
    units_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "data" / "units")
    jwt_secret: str | None = None
    jwt_audience: str = "qualtrack-api"
    jwt_issuer: str = "qualtrack"
    access_token_seconds: int = 900
    refresh_token_seconds: int = 14 * 24 * 3600
    token_rate_limit: str = "20 per minute"  # token requests per client address
    account_login_rate_limit: str = "10 per 15 minutes"  # failed sign-ins per account or client id, from any address
    ratelimit_storage_uri: str = "database://"  # counters in the database (every worker and host); or redis://...
    ratelimit_key_prefix: str = "qualtrack"  # keeps apart the limits of deployments sharing one Redis
    import_max_bytes: int = 200 * 1024 * 1024
    graphql_introspection: bool = True
    graphql_max_depth: int = 12
    graphql_max_aliases: int = 30
    graphql_max_tokens: int = 5000
    graphql_max_cost: int = 50_000
    graphql_max_page_size: int = 100
    graphql_trusted_documents: Path | None = None  # a manifest: only its documents run (api.gql.trusted_documents)
    max_body_bytes: int = 10 * 1024 * 1024  # any request body except a learner import (import_max_bytes)
    cors_origins: tuple[str, ...] = ()  # browser origins allowed to call the API; none by default
    log_format: str = "json"  # or "text" (one line per record, for a terminal)
    log_level: str = "INFO"
    access_log: bool = True  # one JSON line per request (route template, status, duration, request id)
    db_pool_size: int = 4  # PostgreSQL connections kept per worker process
    db_pool_recycle_seconds: int = 300  # a pooled PostgreSQL connection older than this is closed and replaced
    sqlite_write_wait_ms: int = 5000  # a SQLite write that cannot take the write lock within this is a 503
    trusted_proxies: int = 0  # proxies (load balancers) in front whose X-Forwarded-For/-Proto are believed
    webhook_allow_private: bool = False  # deliver to loopback and private addresses (tests; a private network)
    webhook_timeout_seconds: int = 10  # one delivery attempt: connect, send and read the answer
    webhook_lease_seconds: int = 60  # a worker holds an endpoint this long per attempt; a dead one's lease lapses
    webhook_poll_ms: int = 500  # how often a worker looks for new events of an endpoint with nothing to send
    public_url: str | None = None  # where the public reaches this API: credentials name it in their ids (else the host)
    issuer_key_secret: str | None = None  # seals issuers' private keys (else a key derived from the JWT secret)

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
        settings.token_rate_limit = _rate_limit("QUALTRACK_TOKEN_RATE_LIMIT",
                                                environ.get("QUALTRACK_TOKEN_RATE_LIMIT", settings.token_rate_limit))
        settings.account_login_rate_limit = _rate_limit(
            "QUALTRACK_ACCOUNT_LOGIN_RATE_LIMIT",
            environ.get("QUALTRACK_ACCOUNT_LOGIN_RATE_LIMIT", settings.account_login_rate_limit))
        settings.ratelimit_storage_uri = environ.get("QUALTRACK_RATELIMIT_STORAGE_URI", settings.ratelimit_storage_uri)
        settings.ratelimit_key_prefix = environ.get("QUALTRACK_RATELIMIT_KEY_PREFIX", settings.ratelimit_key_prefix)
        for attr in ("access_token_seconds", "refresh_token_seconds", "import_max_bytes", "graphql_max_depth",
                     "graphql_max_aliases", "graphql_max_tokens", "graphql_max_cost", "graphql_max_page_size",
                     "max_body_bytes", "db_pool_size", "db_pool_recycle_seconds", "webhook_timeout_seconds",
                     "webhook_lease_seconds", "webhook_poll_ms"):
            name = f"QUALTRACK_{attr.upper()}"
            if name in environ:
                setattr(settings, attr, _positive_int(name, environ[name]))
        if "QUALTRACK_SQLITE_WRITE_WAIT_MS" in environ:
            settings.sqlite_write_wait_ms = _positive_int("QUALTRACK_SQLITE_WRITE_WAIT_MS",
                                                          environ["QUALTRACK_SQLITE_WRITE_WAIT_MS"])
        if "QUALTRACK_GRAPHQL_INTROSPECTION" in environ:
            settings.graphql_introspection = _flag("QUALTRACK_GRAPHQL_INTROSPECTION",
                                                   environ["QUALTRACK_GRAPHQL_INTROSPECTION"])
        if environ.get("QUALTRACK_GRAPHQL_TRUSTED_DOCUMENTS"):
            settings.graphql_trusted_documents = Path(environ["QUALTRACK_GRAPHQL_TRUSTED_DOCUMENTS"])
        if "QUALTRACK_WEBHOOK_ALLOW_PRIVATE" in environ:
            settings.webhook_allow_private = _flag("QUALTRACK_WEBHOOK_ALLOW_PRIVATE",
                                                   environ["QUALTRACK_WEBHOOK_ALLOW_PRIVATE"])
        if "QUALTRACK_ACCESS_LOG" in environ:
            settings.access_log = _flag("QUALTRACK_ACCESS_LOG", environ["QUALTRACK_ACCESS_LOG"])
        if environ.get("QUALTRACK_TRUSTED_PROXIES", "0") != "0":
            settings.trusted_proxies = _positive_int("QUALTRACK_TRUSTED_PROXIES", environ["QUALTRACK_TRUSTED_PROXIES"])
        settings.cors_origins = _origins(environ.get("QUALTRACK_CORS_ORIGINS", ""))
        settings.public_url = _public_url(environ.get("QUALTRACK_PUBLIC_URL", ""))
        settings.issuer_key_secret = environ.get("QUALTRACK_ISSUER_KEY_SECRET") or None
        settings.log_format = _choice("QUALTRACK_LOG_FORMAT", environ.get("QUALTRACK_LOG_FORMAT", "json"),
                                      ("json", "text"))
        settings.log_level = _choice("QUALTRACK_LOG_LEVEL", environ.get("QUALTRACK_LOG_LEVEL", "INFO").upper(),
                                     ("DEBUG", "INFO", "WARNING", "ERROR"))
        return settings

    @property
    def serves_graphiql(self) -> bool:
        """GraphiQL is served at /graphql, and linked from the docs, in development only."""
        return self.env == "development"

    def signing_secret(self) -> str:
        """The JWT signing key; ConfigurationError if it is missing or weak outside development and test."""
        secret = self.jwt_secret
        weak = secret is None or len(secret) < MIN_SECRET_LENGTH or secret.lower() in WEAK_SECRETS
        if not weak:
            return secret
        if self.env not in RELAXED_ENVIRONMENTS:
            raise ConfigurationError(
                f"refusing to start: QUALTRACK_JWT_SECRET is {'not set' if secret is None else 'too weak'} and "
                f"QUALTRACK_ENV is {self.env!r}. In production, set QUALTRACK_JWT_SECRET to a random value of at "
                f"least {MIN_SECRET_LENGTH} characters, e.g. the output of `python3 -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'`, the same on every host. On your own machine, set "
                "QUALTRACK_ENV=development (`make run` does) to sign tokens with the public development-only key.")
        if secret is None:
            log.warning("QUALTRACK_JWT_SECRET is not set: using the development-only signing key")
            return DEVELOPMENT_JWT_SECRET
        return secret


def _positive_int(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise ConfigurationError(f"{name} must be a positive whole number, not {value!r}")
    return number


def _rate_limit(name: str, value: str) -> str:
    """A rate limit in the `limits` notation, e.g. "20 per minute" or "10 per 15 minutes"."""
    from limits import parse

    try:
        if parse(value).amount >= 1:
            return value
    except ValueError:
        pass
    raise ConfigurationError(f"{name} must be a rate limit such as '20 per minute' or '10 per 15 minutes', "
                             f"not {value!r}")


def _origins(value: str) -> tuple[str, ...]:
    """Comma-separated origins, each scheme://host[:port] with nothing after it (or "*", for any origin)."""
    origins = tuple(o.strip().rstrip("/") for o in value.split(",") if o.strip())
    for origin in origins:
        scheme, _, rest = origin.partition("://")
        if origin != "*" and (scheme not in ("http", "https") or not rest or "/" in rest):
            raise ConfigurationError(f"QUALTRACK_CORS_ORIGINS: {origin!r} is not an origin; write e.g. "
                                     "https://lms.example.ac.uk (scheme, host and port only), comma-separated")
    return origins


def _public_url(value: str) -> str | None:
    """QUALTRACK_PUBLIC_URL: an absolute http(s) URL (a path is allowed, for an API served under one), without its
    trailing slash; None when unset."""
    value = value.strip().rstrip("/")
    if not value:
        return None
    scheme, _, rest = value.partition("://")
    if scheme not in ("http", "https") or not rest or rest.startswith("/") or any(c in value for c in "?# "):
        raise ConfigurationError(f"QUALTRACK_PUBLIC_URL: {value!r} is not an absolute URL; write e.g. "
                                 "https://api.example.ac.uk (credentials name it in their ids)")
    return value


def _choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ConfigurationError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _flag(name: str, value: str) -> bool:
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigurationError(f"{name} must be true or false, not {value!r}")
