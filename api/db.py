"""The one Database proxy, database construction from a URL, and the connection lifecycle.

Connections are opened lazily, once per thread (one per gunicorn sync worker). A SQLite connection is kept for the
life of the worker (opening and closing one per request costs about 4x in throughput). The app reaches PostgreSQL
through a pool (playhouse.pool): each request takes a connection and gives it back at its end; the pool replaces
connections that are broken (the server restarted) or older than the recycle age. SQLite runs in WAL mode with
foreign keys on; PostgreSQL is reached with psycopg2.
"""

import sqlite3
import sys
from collections.abc import Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import peewee
from playhouse.db_url import connect as connect_url
from playhouse.pool import MaxConnectionsExceeded, PooledDatabase

from api import sqlite_writes

database_proxy = peewee.DatabaseProxy()

SQLITE_PRAGMAS = {  # in this order: wait for locks before anything takes one (two hosts may start together);
    "busy_timeout": sqlite_writes.DEFAULT_WRITE_WAIT_MS,  # make_database puts the write wait here; page_size only
    # takes effect on a new database, before it is in WAL mode
    "page_size": 2048,  # a commit writes each page it changed whole (a decision write: 12 pages): against 4 KiB, its
    # commit took ~65 instead of ~80 µs in-process, and two A/B pairs under write load gave 5-7% more decisions a
    # second (1 KiB: no gain); reads unchanged
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
        clean = parts._replace(query="").geturl().replace("postgres://", "postgresql://", 1)
        if pool_size:
            from playhouse.db_url import parse
            from playhouse.pool import PooledPostgresqlDatabase

            params = {**parse(clean), **options}
            return PooledPostgresqlDatabase(params.pop("database"), max_connections=pool_size,
                                            stale_timeout=pool_recycle_seconds, timeout=10, **params)
        return connect_url(clean, **options)
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:///PATH or postgresql://HOST/NAME")


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


def is_sqlite(database: peewee.Database | None = None) -> bool:
    """Whether ``database`` (by default the bound one) is SQLite, where one writer at a time holds the whole database;
    otherwise it is PostgreSQL, pooled or not. The one place outside this module where code asks which backend it
    runs on: services ask for what they need (hold_until_commit, ...) rather than look at classes."""
    return isinstance(database if database is not None else database_proxy.obj, peewee.SqliteDatabase)


def hold_until_commit(key: int) -> None:
    """Inside a write transaction: wait for, then hold until the transaction ends, the database-wide lock ``key`` (a
    64-bit integer), so transactions that take the same key run one after another. PostgreSQL: a transaction-scoped
    advisory lock. SQLite: nothing to take, one writer already holds the whole database until it commits."""
    database = database_proxy.obj
    if not is_sqlite(database):
        database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (key,))


def for_update(query: peewee.Select) -> peewee.Select:
    """``query``, holding the rows it reads until the transaction ends, so a concurrent writer of them waits
    (PostgreSQL: FOR UPDATE). On SQLite, ``query`` as it is: one writer already holds the whole database."""
    return query if is_sqlite() else query.for_update()


def bind(database: peewee.Database) -> None:
    """Point the models' proxy at ``database``."""
    database_proxy.initialize(database)


def write_transaction():
    """A transaction for a write. On SQLite it waits for its turn on a file lock beside the database, then takes the
    write lock as it begins (BEGIN IMMEDIATE), so two writers queue instead of one failing with "database is locked"
    when it upgrades a read snapshot that the other has outdated (see api.sqlite_writes.queued_write). Nested inside
    another transaction it is a savepoint, as atomic() is."""
    database = database_proxy.obj
    if isinstance(database, sqlite_writes.QueuedSqliteDatabase) and not database.in_transaction():
        return sqlite_writes.queued_write(database)
    return database_proxy.atomic()


@contextmanager
def checkpoints_beside():
    """For a long run of write transactions (a bulk import) on SQLite: the WAL is copied back by a second thread
    (see sqlite_writes.checkpoints_beside); yields what to call after each commit. Nothing to do elsewhere."""
    database = database_proxy.obj
    if not isinstance(database, peewee.SqliteDatabase):
        yield lambda: None
        return
    with sqlite_writes.checkpoints_beside(database) as after_commit:
        yield after_commit


_signals: dict[tuple[str, str], sqlite_writes.ChangeSignal] = {}


def change_signal(suffix: str) -> sqlite_writes.ChangeSignal | None:
    """On a SQLite database file, the ChangeSignal ``<database><suffix>`` (see api.sqlite_writes); None on
    PostgreSQL (several hosts share it, and a file cannot tell them) and on an in-memory database."""
    database = database_proxy.obj
    if not isinstance(database, peewee.SqliteDatabase) or database.database == ":memory:":
        return None
    key = (database.database, suffix)
    signal = _signals.get(key)
    if signal is None:
        signal = _signals[key] = sqlite_writes.ChangeSignal(database, suffix)
    return signal


def keep_checkpointing() -> None:
    """On SQLite, have a thread of this process checkpoint the WAL (see sqlite_writes.keep_checkpointing); per
    request."""
    database = database_proxy.obj
    if isinstance(database, peewee.SqliteDatabase):
        sqlite_writes.keep_checkpointing(database)


def insert_rows(model: type[peewee.Model], rows: list[dict], *, ignore_conflicts: bool = False) -> None:
    """Insert many rows of ``model`` (dicts keyed by field name, all with the same keys) in one statement per batch.

    Values go through each field's db_value, and fields left out get their defaults, so rows are stored exactly as
    peewee would store them. ``ignore_conflicts`` skips rows that would break a unique constraint."""
    if not rows:
        return
    field_names, converters, defaulted = _row_shape(model, tuple(rows[0]))
    values = [tuple(convert(row[name]) for name, convert in converters)
              + tuple(convert(default() if callable(default) else default) for convert, default in defaulted)
              for row in rows]
    insert_values(model, field_names, values, ignore_conflicts=ignore_conflicts)


@lru_cache(maxsize=64)
def _row_shape(model: type[peewee.Model], given: tuple[str, ...]) -> tuple[list[str], tuple, tuple]:
    """For rows of ``model`` with the keys ``given``: every column inserted, each given key's db_value, and the
    (db_value, default) of each field left out that has a default."""
    defaults = [f for f in model._meta.sorted_fields if f.name not in given and f.default is not None]
    return ([*given, *(f.name for f in defaults)], tuple((name, model._meta.fields[name].db_value) for name in given),
            tuple((f.db_value, f.default) for f in defaults))


def insert_values(model: type[peewee.Model], field_names: list[str], values: list[tuple], *,
                  ignore_conflicts: bool = False) -> None:
    """Insert rows given as tuples of database values (ids as hex, dates as ISO strings, timestamps from
    db_timestamp) for ``field_names``, in one statement per batch: for bulk writers, which build their values
    directly (peewee's insert_many builds its SQL value by value, and psycopg2's executemany makes a round trip per
    row, each costing more than the insert itself at thousands of rows), and for single rows on hot paths (the
    statement is composed once per shape). Errors are peewee's (IntegrityError, OperationalError...), as from
    Model.create."""
    if not values:
        return
    database = database_proxy.obj
    sqlite = isinstance(database, peewee.SqliteDatabase)
    statement = _insert_statement(model, tuple(field_names), sqlite, ignore_conflicts)
    with peewee.__exception_wrapper__:
        if sqlite:
            database.cursor().executemany(statement, values)
        else:
            from psycopg2.extras import execute_values

            execute_values(database.cursor(), statement, values, page_size=1000)


@lru_cache(maxsize=64)
def _insert_statement(model: type[peewee.Model], field_names: tuple[str, ...], sqlite: bool,
                      ignore_conflicts: bool) -> str:
    columns = ", ".join(f'"{model._meta.fields[name].column_name}"' for name in field_names)
    table = f'"{model._meta.table_name}"'
    if sqlite:
        verb = "INSERT OR IGNORE" if ignore_conflicts else "INSERT"
        return f"{verb} INTO {table} ({columns}) VALUES ({', '.join(['?'] * len(field_names))})"
    return f"INSERT INTO {table} ({columns}) VALUES %s{' ON CONFLICT DO NOTHING' if ignore_conflicts else ''}"


def db_timestamp(moment):
    """A naive UTC datetime as insert_values stores it: the text peewee stores on SQLite, the value itself on
    PostgreSQL."""
    return str(moment) if isinstance(database_proxy.obj, peewee.SqliteDatabase) else moment


def fetch_in(sql: str, params: list, values: list) -> list[tuple]:
    """Rows of a raw SELECT whose placeholders are written {p} and whose IN list is written {values}, filled with
    ``values`` (after ``params``). Composing a thousand-value IN with peewee costs ~30 ms; this costs ~1 ms."""
    if not values:
        return []
    database = database_proxy.obj
    marks = ", ".join([database.param] * len(values))
    return database.execute_sql(sql.format(p=database.param, values=marks), [*params, *values]).fetchall()


def fetch_rows(sql: str, params: Sequence = ()) -> list[tuple]:
    """Rows of a raw SQL statement whose placeholders are written {p} (as for fetch_in), run on either backend. For
    hot paths: composing a peewee query costs several times what SQLite takes to run it. Values in ``params`` must
    already be database values (ids as ``uuid.hex``); ids come back as stored (hex text on SQLite, a UUID string on
    PostgreSQL), so read them with ``uuid.UUID``."""
    database = database_proxy.obj
    return database.execute_sql(_with_placeholders(sql, database.param), params).fetchall()


@lru_cache(maxsize=256)
def _with_placeholders(sql: str, param: str) -> str:
    return sql.format(p=param)


def can_reconnect(database: peewee.Database) -> bool:
    """Whether another process can open ``database`` too (not an in-memory SQLite database)."""
    return not (isinstance(database, peewee.SqliteDatabase) and database.database == ":memory:")


def unconnected_copy(database: peewee.Database) -> peewee.Database:
    """A new, unconnected Database for the same database as ``database``, without a pool: for a forked child, which
    must not use the connections it inherited."""
    if isinstance(database, peewee.SqliteDatabase):
        return _sqlite_database(database.database, getattr(database, "write_wait_ms",
                                                           sqlite_writes.DEFAULT_WRITE_WAIT_MS))
    return peewee.PostgresqlDatabase(database.database, **database.connect_params)


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


STARTUP_LOCK_KEY = 0x7175616C  # "qual": the advisory lock held while one host migrates and loads content


@contextmanager
def startup_lock(database: peewee.Database):
    """Hold a database-wide lock while a starting host migrates and loads content, so hosts (or processes) started
    together take turns: a PostgreSQL advisory lock, or for SQLite an exclusive lock on a file beside the database.
    ``database``'s connection is closed before the lock is let go: closing SQLite's last connection checkpoints the
    log and removes it, which must not overlap the next host opening the database."""
    if isinstance(database, peewee.SqliteDatabase):
        with sqlite_writes.turn_beside(database, ".startup-lock"):
            try:
                yield
            finally:
                database.close()
        return
    database.execute_sql("SELECT pg_advisory_lock(%s)", (STARTUP_LOCK_KEY,))
    try:
        yield
    finally:
        database.execute_sql("SELECT pg_advisory_unlock(%s)", (STARTUP_LOCK_KEY,))
        database.close()


def ensure_connected() -> None:
    """Open this thread's connection if it is not open yet (cheap when it is)."""
    database_proxy.connect(reuse_if_open=True)


# -- what a database error means for the caller ----------------------------------------------------------------------

SQLITE_RETRYABLE = {5, 6, 14}  # SQLITE_BUSY, SQLITE_LOCKED, SQLITE_CANTOPEN (primary result codes)
# PostgreSQL SQLSTATEs after which the same request may succeed if sent again shortly: serialization failure,
# deadlock, lock not available (lock_timeout), query canceled (statement_timeout), the server shutting down or
# starting, too many connections. Any SQLSTATE of class 08 (connection exception) too.
POSTGRES_RETRYABLE = {"40001", "40P01", "55P03", "57014", "57P01", "57P02", "57P03", "53300"}


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` says the database is locked, busy or unreachable for now, so that the same request may succeed
    if retried shortly (the edges answer 503 with Retry-After). Anything else (an SQL error, a constraint, a full
    disk, a corrupt file) is a fault: a 500, logged with its traceback. Looks through peewee's wrapper to the
    driver's own error, and through ``raise ... from`` causes, never through an error merely raised while handling
    another."""
    for cause in _explicit_causes(error):
        if isinstance(cause, MaxConnectionsExceeded):  # every pooled connection in use for the pool's timeout
            return True
        if isinstance(cause, sqlite3.Error):  # sqlite_writes.WriteWaitTimeout too: SQLITE_BUSY
            code = getattr(cause, "sqlite_errorcode", None)
            return code is not None and code & 0xFF in SQLITE_RETRYABLE
        psycopg2 = sys.modules.get("psycopg2")  # no psycopg2 error without psycopg2 imported
        if psycopg2 is not None and isinstance(cause, psycopg2.Error):
            state = cause.pgcode
            if isinstance(cause, psycopg2.InterfaceError):  # the connection is closed or broken
                return True
            if state is None:  # no answer from the server: refused, reset, closed unexpectedly
                return isinstance(cause, psycopg2.OperationalError)
            return state in POSTGRES_RETRYABLE or state.startswith("08")
    return False


def _explicit_causes(error: BaseException, limit: int = 8):
    """``error``, the driver error peewee wrapped (``orig``), and explicit causes, innermost last."""
    seen: BaseException | None = error
    while seen is not None and limit:
        yield seen
        limit -= 1
        wrapped = getattr(seen, "orig", None) if isinstance(seen, peewee.PeeweeException) else None
        seen = wrapped if isinstance(wrapped, BaseException) else seen.__cause__
