"""The one Database proxy, database construction from a URL, and the connection lifecycle.

Connections are opened lazily, once per thread (one per gunicorn sync worker). A SQLite connection is kept for the
life of the worker (opening and closing one per request costs about 4x in throughput). The app reaches PostgreSQL
through a pool (playhouse.pool): each request takes a connection and gives it back at its end; the pool replaces
connections that are broken (the server restarted) or older than the recycle age. SQLite runs in WAL mode with
foreign keys on; PostgreSQL is reached with psycopg2.
"""

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit
from urllib.request import pathname2url

import peewee
from playhouse.db_url import connect as connect_url
from playhouse.pool import PooledDatabase

database_proxy = peewee.DatabaseProxy()

SQLITE_PRAGMAS = {  # in this order: wait for locks before anything takes one (two hosts may start together);
    "busy_timeout": 5000,  # page_size only takes effect on a new database, before it is in WAL mode
    "page_size": 4096,  # each commit writes whole pages: a decision write (~10 pages) writes half the bytes of 8 KiB
    "journal_mode": "wal",
    "foreign_keys": 1,
    "synchronous": "normal",
    "wal_autocheckpoint": 10000,  # pages; a hot page rewritten by many commits is copied back once, not 10 times
    "cache_size": -16000,
}


def make_database(url: str, *, pg_schema: str | None = None, pool_size: int | None = None,
                  pool_recycle_seconds: int | None = None) -> peewee.Database:
    """Return an unconnected peewee Database for a sqlite:/// or postgresql:// URL.

    Relative SQLite paths are resolved against the current directory and their folder is created.
    ``pg_schema`` puts every PostgreSQL table in that schema (the test suite uses one schema per run).
    ``pool_size`` makes a PostgreSQL database a pool of at most that many connections (see release()).
    """
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = url[len("sqlite:///"):].split("?", 1)[0]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return QueuedSqliteDatabase(path or ":memory:", pragmas=SQLITE_PRAGMAS, check_same_thread=False)
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


def bind(database: peewee.Database) -> None:
    """Point the models' proxy at ``database``."""
    database_proxy.initialize(database)


def write_transaction():
    """A transaction for a write. On SQLite it takes the write lock at its first statement (BEGIN IMMEDIATE), so two
    writers queue instead of one failing with "database is locked" when it upgrades a read snapshot that the other has
    outdated; and writers queue first on a file lock beside the database (see _sqlite_writer_queue). Nested inside
    another transaction it is a savepoint, as atomic() is."""
    database = database_proxy.obj
    if isinstance(database, QueuedSqliteDatabase) and not database.in_transaction():
        return _sqlite_writer_queue(database)
    return database_proxy.atomic()


_lock_files: dict[str, tuple] = {}  # path -> (thread lock, open file): kept, the write queue is taken on every write
_lock_files_guard = threading.Lock()


@contextmanager
def _turn_beside(database: peewee.SqliteDatabase, suffix: str):
    """Wait for, then hold, an exclusive lock on the file ``<database><suffix>``: the kernel wakes the next waiter
    (thread or process) the moment the holder lets go. Nothing to wait for with an in-memory database."""
    if database.database == ":memory:":
        yield
        return
    path = f"{database.database}{suffix}"
    with _lock_files_guard:
        if path not in _lock_files:  # a thread lock too: flock cannot tell one process's threads apart
            _lock_files[path] = (threading.Lock(), open(path, "a"))  # noqa: SIM115 - kept open for the process's life
    gate, lock_file = _lock_files[path]
    with gate:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


QUEUED = "QUEUED"  # the lock type of a write transaction on SQLite: see QueuedSqliteDatabase


class QueuedSqliteDatabase(peewee.SqliteDatabase):
    """peewee's SqliteDatabase, whose write transactions (write_transaction) wait for their turn and take SQLite's
    write lock at their first statement rather than at the start of the block: what a write does before it touches
    the database (checking the request body, ~0.1 ms of a decision write) holds up no other writer."""

    def begin(self, lock_type=None):
        if lock_type != QUEUED:
            return super().begin(lock_type)
        self.connection()  # open now: connecting later would reset the transaction stack the block is pushed on
        self._state.queued_begin = True  # cursor() begins, at the block's first statement
        return None

    def cursor(self, named_cursor=None):
        if getattr(self._state, "queued_begin", False):
            self._state.queued_begin = False
            turn = _turn_beside(self, "-writers")
            turn.__enter__()
            self._state.writer_turn = turn
            super().begin("IMMEDIATE")
        return super().cursor(named_cursor)

    def commit(self):
        self._state.queued_begin = False
        if self.is_closed() or self._state.conn.in_transaction:  # nothing to commit if no statement ran
            super().commit()

    def rollback(self):
        self._state.queued_begin = False
        if self.is_closed() or self._state.conn.in_transaction:
            super().rollback()

    def end_writer_turn(self) -> None:
        """Let the next writer go (after the transaction has committed or rolled back)."""
        turn, self._state.writer_turn = getattr(self._state, "writer_turn", None), None
        if turn is not None:
            turn.__exit__(None, None, None)


@contextmanager
def _sqlite_writer_queue(database: QueuedSqliteDatabase):
    """A write transaction that, at its first statement, waits for its turn on ``<database>-writers``, then takes
    SQLite's write lock (BEGIN IMMEDIATE) until it commits.

    SQLite's own busy handler makes a waiting writer sleep in growing steps (up to 100 ms) and poll: under a steady
    stream of writes from several workers, writes wait far longer than the lock is held (a p99 of 308 ms for 3 ms
    writes, measured by bench/tracking.py; 23 ms with the queue)."""
    try:
        with database.atomic(lock_type=QUEUED):
            yield
    finally:
        database.end_writer_turn()


@contextmanager
def checkpoints_beside():
    """For a long run of write transactions (a bulk import): on SQLite, copy the write-ahead log into the database
    from a second thread (its own connection; SQLite works without the GIL) instead of in the writer at every
    1000th page, so the copying and its fsyncs overlap the next batch's inserts. Nothing to do elsewhere."""
    database = database_proxy.obj
    if not isinstance(database, peewee.SqliteDatabase) or not can_reconnect(database):
        yield lambda: None
        return
    (before,) = database.execute_sql("PRAGMA wal_autocheckpoint").fetchone()
    database.execute_sql("PRAGMA wal_autocheckpoint = 0")
    wanted, stopping = threading.Event(), threading.Event()

    def copy_log() -> None:
        log = sqlite3.connect(database.database, isolation_level=None, check_same_thread=False)
        try:
            while not stopping.is_set():
                if wanted.wait(0.5):
                    wanted.clear()
                    log.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            log.close()

    copier = threading.Thread(target=copy_log, name="wal-checkpoints", daemon=True)
    copier.start()
    try:
        yield wanted.set  # call after each commit
    finally:
        stopping.set()
        wanted.set()
        copier.join()
        database.execute_sql(f"PRAGMA wal_autocheckpoint = {int(before)}")


CHECKPOINT_SECONDS = 0.25
_checkpointing: dict[str, int] = {}  # SQLite database path -> the process whose thread checkpoints it


def keep_checkpointing() -> None:
    """On a SQLite database file, make sure a thread of this process copies the write-ahead log back into the
    database every CHECKPOINT_SECONDS, so that writers seldom do it themselves: a writer that checkpoints does so
    while it holds the write lock, with an fsync or two, and every other writer waits (p99 of decision writes 32 ms
    with, 9 ms without). PASSIVE checkpoints neither wait for nor hold up readers and writers; writers still
    checkpoint past wal_autocheckpoint pages if this thread falls behind. Cheap enough to call on every request."""
    database = database_proxy.obj
    if not isinstance(database, QueuedSqliteDatabase) or not can_reconnect(database):
        return
    path, pid = database.database, os.getpid()
    if _checkpointing.get(path) == pid:
        return
    with _lock_files_guard:
        if _checkpointing.get(path) == pid:
            return
        _checkpointing[path] = pid
    threading.Thread(target=_checkpoint_every_while, args=(path,), name=f"wal-checkpoints {path}",
                     daemon=True).start()


def _checkpoint_every_while(path: str) -> None:
    """Checkpoint the database at ``path`` every CHECKPOINT_SECONDS until it goes away."""
    try:
        log = sqlite3.connect(f"file:{pathname2url(str(Path(path).resolve()))}?mode=rw", uri=True,
                              isolation_level=None, check_same_thread=False)
    except sqlite3.Error:
        return
    try:
        while os.path.exists(path):
            time.sleep(CHECKPOINT_SECONDS)
            log.execute("PRAGMA wal_checkpoint(PASSIVE)")
    except sqlite3.Error:
        pass  # the database is gone or unusable: its writers checkpoint for themselves (wal_autocheckpoint)
    finally:
        log.close()
        _checkpointing.pop(path, None)


def insert_rows(model: type[peewee.Model], rows: list[dict], *, ignore_conflicts: bool = False) -> None:
    """Insert many rows of ``model`` (dicts keyed by field name, all with the same keys) in one statement per batch.

    Values go through each field's db_value, and fields left out get their defaults, so rows are stored exactly as
    peewee would store them. ``ignore_conflicts`` skips rows that would break a unique constraint."""
    if not rows:
        return
    given = list(rows[0])
    defaults = [f for f in model._meta.sorted_fields if f.name not in given and f.default is not None]
    converters = [(name, model._meta.fields[name].db_value) for name in given]
    defaulted = [(f.db_value, f.default) for f in defaults]
    values = [tuple(convert(row[name]) for name, convert in converters)
              + tuple(convert(default() if callable(default) else default) for convert, default in defaulted)
              for row in rows]
    insert_values(model, given + [f.name for f in defaults], values, ignore_conflicts=ignore_conflicts)


def insert_values(model: type[peewee.Model], field_names: list[str], values: list[tuple], *,
                  ignore_conflicts: bool = False) -> None:
    """Insert rows given as tuples of database values (ids as hex, dates as ISO strings, timestamps from
    db_timestamp) for ``field_names``, in one statement per batch: for bulk writers, which build their values
    directly (peewee's insert_many builds its SQL value by value, and psycopg2's executemany makes a round trip per
    row, each costing more than the insert itself at thousands of rows)."""
    if not values:
        return
    database = database_proxy.obj
    columns = ", ".join(f'"{model._meta.fields[name].column_name}"' for name in field_names)
    table = f'"{model._meta.table_name}"'
    if isinstance(database, peewee.SqliteDatabase):
        verb = "INSERT OR IGNORE" if ignore_conflicts else "INSERT"
        marks = ", ".join(["?"] * len(field_names))
        database.cursor().executemany(f"{verb} INTO {table} ({columns}) VALUES ({marks})", values)
        return
    from psycopg2.extras import execute_values

    suffix = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    execute_values(database.cursor(), f"INSERT INTO {table} ({columns}) VALUES %s{suffix}", values, page_size=1000)


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


@lru_cache(maxsize=256)
def _in_dialect(sql: str, param: str) -> str:
    return sql if param == "?" else sql.replace("?", param)


def fetch_rows(sql: str, params: Sequence = ()) -> list[tuple]:
    """Rows of a raw SQL statement written with ``?`` placeholders (and no other ``?`` or ``%``), run on either
    backend. For hot paths: composing a peewee query costs several times what SQLite takes to run it. Values in
    ``params`` must already be database values (ids as ``uuid.hex``); ids come back as stored (hex text on SQLite, a
    UUID string on PostgreSQL), so read them with ``uuid.UUID``."""
    database = database_proxy.obj
    return database.execute_sql(_in_dialect(sql, database.param), params).fetchall()


@lru_cache(maxsize=64)
def _insert_sql(model: type[peewee.Model], field_names: tuple[str, ...], param: str) -> str:
    columns = ", ".join(f'"{model._meta.fields[name].column_name}"' for name in field_names)
    return f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES ({", ".join([param] * len(field_names))})'


def insert_row(model: type[peewee.Model], row: dict) -> None:
    """Insert one row of ``model`` given as {field name: value}, stored exactly as ``model.create`` stores it (each
    value through its field's db_value; fields left out get their defaults), with the statement composed once per
    shape. Raises peewee.IntegrityError as create does."""
    database = database_proxy.obj
    fields = model._meta.fields
    row = dict(row)
    for field in model._meta.sorted_fields:
        if field.name not in row and field.default is not None:
            row[field.name] = field.default() if callable(field.default) else field.default
    names = tuple(row)
    values = [fields[name].db_value(row[name]) for name in names]
    database.execute_sql(_insert_sql(model, names, database.param), values)


def can_reconnect(database: peewee.Database) -> bool:
    """Whether another process can open ``database`` too (not an in-memory SQLite database)."""
    return not (isinstance(database, peewee.SqliteDatabase) and database.database == ":memory:")


def unconnected_copy(database: peewee.Database) -> peewee.Database:
    """A new, unconnected Database for the same database as ``database``, without a pool: for a forked child, which
    must not use the connections it inherited."""
    if isinstance(database, peewee.SqliteDatabase):
        return QueuedSqliteDatabase(database.database, pragmas=SQLITE_PRAGMAS, check_same_thread=False)
    return peewee.PostgresqlDatabase(database.database, **database.connect_params)


def release_connection() -> None:
    """Close this thread's connection, if open."""
    if not database_proxy.obj.is_closed():
        database_proxy.obj.close()


def release(_error=None) -> None:
    """At the end of a request: give a pooled PostgreSQL connection back to its pool (SQLite keeps its one)."""
    database = database_proxy.obj
    if isinstance(database, PooledDatabase) and not database.is_closed():
        database.close()


STARTUP_LOCK_KEY = 0x7175616C  # "qual": the advisory lock held while one host migrates and loads content


@contextmanager
def startup_lock(database: peewee.Database):
    """Hold a database-wide lock while a starting host migrates and loads content, so hosts (or processes) started
    together take turns: a PostgreSQL advisory lock, or for SQLite an exclusive lock on a file beside the database."""
    if isinstance(database, peewee.SqliteDatabase):
        with _turn_beside(database, ".startup-lock"):
            yield
        return
    database.execute_sql("SELECT pg_advisory_lock(%s)", (STARTUP_LOCK_KEY,))
    try:
        yield
    finally:
        database.execute_sql("SELECT pg_advisory_unlock(%s)", (STARTUP_LOCK_KEY,))


def ensure_connected() -> None:
    """Open this thread's connection if it is not open yet (cheap when it is)."""
    database_proxy.connect(reuse_if_open=True)
