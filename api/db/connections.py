"""The one Database proxy, database construction from a URL, and the connection lifecycle.

Connections are opened lazily, once per thread (one per gunicorn sync worker). A SQLite connection is kept for the
life of the worker (opening and closing one per request would cost most of the throughput). The app reaches PostgreSQL
through a pool (playhouse.pool): each request takes a connection and gives it back at its end; the pool replaces
connections that are broken (the server restarted) or older than the recycle age. SQLite runs in WAL mode with
foreign keys on. PostgreSQL is reached with psycopg 3: parameters are bound by the server, and a statement a
connection runs five times is prepared there (planned once), which is most of a short statement's server time.
"""

from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import peewee
from playhouse.db_url import parse as parse_url
from playhouse.pool import PooledDatabase, PooledPostgresqlDatabase

from api.db import sqlite_writes

database_proxy = peewee.DatabaseProxy()


SQLITE_PRAGMAS = {  # in this order: wait for locks before anything takes one (two hosts may start together);
    "busy_timeout": sqlite_writes.DEFAULT_WRITE_WAIT_MS,  # make_database puts the write wait here; page_size only
    # takes effect on a new database, before it is in WAL mode
    "page_size": 2048,  # a commit writes each page it changed whole (a decision write changes several): against
    # SQLite's default 4 KiB, its commits are cheaper and more decisions a second get through under write load
    # (1 KiB gained nothing more); reads unchanged
    "journal_mode": "wal",
    "foreign_keys": 1,
    "synchronous": "normal",
    "wal_autocheckpoint": 10000,  # pages; a hot page rewritten by many commits is copied back once, not 10 times
    "cache_size": -16000,
}


def make_database(url: str, *, pg_schema: str | None = None, pool_size: int | None = None,
                  pool_recycle_seconds: int | None = None,
                  sqlite_write_wait_ms: int = sqlite_writes.DEFAULT_WRITE_WAIT_MS) -> peewee.Database:
    """Return an unconnected peewee Database for a sqlite:/// or postgresql:// URL.

    Relative SQLite paths are resolved against the current directory and their folder is created.
    ``pg_schema`` puts every PostgreSQL table in that schema (the test suite uses one schema per run).
    ``pool_size`` makes a PostgreSQL database a pool of at most that many connections (see release()).
    ``sqlite_write_wait_ms`` bounds how long a SQLite write waits for its turn and the write lock, all told (then it
    fails as SQLite does when busy: a 503); SQLite's busy_timeout is the same.
    """
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = url[len("sqlite:///"):].split("?", 1)[0]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return _sqlite_database(path or ":memory:", sqlite_write_wait_ms)
    if parts.scheme in ("postgres", "postgresql"):
        options = dict(parse_qsl(parts.query))
        if pg_schema:
            options["options"] = f"-c search_path={pg_schema}"
        if "prepare_threshold" in options:
            options["prepare_threshold"] = _prepare_threshold(options["prepare_threshold"])
        clean = parts._replace(query="").geturl().replace("postgres://", "postgresql://", 1)
        params = {**parse_url(clean), **options, "prefer_psycopg3": True}
        if pool_size:
            return PooledWritersShownPostgresqlDatabase(params.pop("database"), max_connections=pool_size,
                                                        stale_timeout=pool_recycle_seconds, timeout=10, **params)
        return WritersShownPostgresqlDatabase(params.pop("database"), **params)
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:///PATH or postgresql://HOST/NAME")


def _prepare_threshold(text: str) -> int | None:
    """The URL's ``prepare_threshold``: how many runs of a statement on a connection before it is prepared there
    (psycopg's default 5); ``none`` never prepares (a pooler in transaction mode without prepared-statement
    support, such as PgBouncer before 1.21)."""
    if text.strip().lower() in ("none", "off", ""):
        return None
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"prepare_threshold must be a whole number or none, not {text!r}") from None


class WritersShowFromBegin:
    """PostgreSQL: a transaction takes its transaction id as it begins (in the same round trip as BEGIN), so that it
    counts as a writer for the sync horizon (api.db.horizon) before it stamps anything."""

    def begin(self, isolation_level=None):
        isolation_level = self._isolation_level if isolation_level is None else isolation_level
        statement = "BEGIN"
        if isolation_level:
            statement += f" TRANSACTION ISOLATION LEVEL {self._adapter.isolation_level_str(isolation_level)}"
        with peewee.__exception_wrapper__:
            self.cursor().execute(f"{statement}; SELECT pg_current_xact_id()")


class WritersShownPostgresqlDatabase(WritersShowFromBegin, peewee.PostgresqlDatabase):
    """An unpooled PostgreSQL database (the CLI's, tests' admin connections) whose transactions show from BEGIN."""


class PooledWritersShownPostgresqlDatabase(WritersShowFromBegin, PooledPostgresqlDatabase):
    """The app's pool of PostgreSQL connections, whose transactions show from BEGIN."""


def _sqlite_database(path: str, write_wait_ms: int) -> sqlite_writes.QueuedSqliteDatabase:
    return sqlite_writes.QueuedSqliteDatabase(path, pragmas={**SQLITE_PRAGMAS, "busy_timeout": int(write_wait_ms)},
                                              check_same_thread=False, write_wait_ms=write_wait_ms)


def database_for(settings) -> peewee.Database:
    """The unconnected Database create_app builds for ``settings`` (api.config.Settings): on PostgreSQL a pool of at
    most settings.db_pool_size connections per process; on SQLite, writes that wait at most
    settings.sqlite_write_wait_ms. Tests build theirs here too, so they run what production runs."""
    return make_database(settings.database_url, pool_size=settings.db_pool_size,
                         pool_recycle_seconds=settings.db_pool_recycle_seconds,
                         sqlite_write_wait_ms=settings.sqlite_write_wait_ms)


def bind(database: peewee.Database) -> None:
    """Point the models' proxy at ``database``."""
    database_proxy.initialize(database)


def is_sqlite(database: peewee.Database | None = None) -> bool:
    """Whether ``database`` (by default the bound one) is SQLite, where one writer at a time holds the whole database;
    otherwise it is PostgreSQL, pooled or not. Only api.db asks which backend it runs on: services ask it for what
    they need (hold_until_commit, for_update, ...) rather than look at classes."""
    return isinstance(database if database is not None else database_proxy.obj, peewee.SqliteDatabase)


def can_reconnect(database: peewee.Database) -> bool:
    """Whether another process can open ``database`` too (not an in-memory SQLite database)."""
    return not (isinstance(database, peewee.SqliteDatabase) and database.database == ":memory:")


def unconnected_copy(database: peewee.Database) -> peewee.Database:
    """A new, unconnected Database for the same database as ``database``, without a pool: for a forked child, which
    must not use the connections it inherited."""
    if isinstance(database, peewee.SqliteDatabase):
        return _sqlite_database(database.database, getattr(database, "write_wait_ms",
                                                           sqlite_writes.DEFAULT_WRITE_WAIT_MS))
    return peewee.PostgresqlDatabase(database.database, **database.connect_params, prefer_psycopg3=True)


def release_connection() -> None:
    """Close this thread's connection, if open."""
    if not database_proxy.obj.is_closed():
        database_proxy.obj.close()


def release(_error=None) -> None:
    """At the end of a request: give a pooled PostgreSQL connection back to its pool (SQLite keeps its one, rolling
    back any transaction a request left open on it and giving back its writer turn). A connection still inside a
    transaction block (a test wrapping requests in one) is kept until that ends."""
    database = database_proxy.obj
    if isinstance(database, sqlite_writes.QueuedSqliteDatabase):
        database.reset_after_request()
    elif isinstance(database, PooledDatabase) and not database.is_closed() and not database.in_transaction():
        database.close()


def ensure_connected() -> None:
    """Open this thread's connection if it is not open yet (cheap when it is)."""
    database_proxy.connect(reuse_if_open=True)
