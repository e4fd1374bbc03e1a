"""The one Database proxy, database construction from a URL, and the connection lifecycle.

Connections are opened lazily, once per thread (one per gunicorn sync worker), and reused across requests: opening
and closing a SQLite connection per request costs about 4x in throughput. SQLite runs in WAL mode with foreign keys
on; PostgreSQL is reached with psycopg2.
"""

from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import peewee
from playhouse.db_url import connect as connect_url

database_proxy = peewee.DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 5000,
    "synchronous": "normal",
    "cache_size": -16000,
}


def make_database(url: str, *, pg_schema: str | None = None) -> peewee.Database:
    """Return an unconnected peewee Database for a sqlite:/// or postgresql:// URL.

    Relative SQLite paths are resolved against the current directory and their folder is created.
    ``pg_schema`` puts every PostgreSQL table in that schema (the test suite uses one schema per run).
    """
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = url[len("sqlite:///"):].split("?", 1)[0]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return peewee.SqliteDatabase(path or ":memory:", pragmas=SQLITE_PRAGMAS, check_same_thread=False)
    if parts.scheme in ("postgres", "postgresql"):
        options = dict(parse_qsl(parts.query))
        if pg_schema:
            options["options"] = f"-c search_path={pg_schema}"
        clean = parts._replace(query="").geturl().replace("postgres://", "postgresql://", 1)
        return connect_url(clean, **options)
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:///PATH or postgresql://HOST/NAME")


def bind(database: peewee.Database) -> None:
    """Point the models' proxy at ``database``."""
    database_proxy.initialize(database)


def write_transaction():
    """A transaction for a write: on SQLite it takes the write lock at BEGIN (IMMEDIATE), so two writers queue on
    the busy timeout instead of one failing with "database is locked" when it upgrades a read snapshot that the other
    has outdated. Nested inside another transaction it is a savepoint, as atomic() is."""
    database = database_proxy.obj
    if isinstance(database, peewee.SqliteDatabase) and not database.in_transaction():
        return database.atomic(lock_type="IMMEDIATE")
    return database_proxy.atomic()


def insert_rows(model: type[peewee.Model], rows: list[dict], *, ignore_conflicts: bool = False) -> None:
    """Insert many rows of ``model`` (dicts keyed by field name, all with the same keys) in one statement per batch.

    For bulk writers: peewee's insert_many builds its SQL value by value, which costs far more than the insert
    itself at thousands of rows, and psycopg2's executemany makes a round trip per row. Values go through each
    field's db_value, and fields left out get their defaults, so rows are stored exactly as peewee would store
    them. ``ignore_conflicts`` skips rows that would break a unique constraint."""
    if not rows:
        return
    given = list(rows[0])
    defaults = [f for f in model._meta.sorted_fields if f.name not in given and f.default is not None]
    fields = [model._meta.fields[name] for name in given] + defaults
    converters = [(f.name, f.db_value) for f in fields[:len(given)]]
    defaulted = [(f.db_value, f.default) for f in defaults]
    values = [tuple(convert(row[name]) for name, convert in converters)
              + tuple(convert(default() if callable(default) else default) for convert, default in defaulted)
              for row in rows]
    database = database_proxy.obj
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    table = f'"{model._meta.table_name}"'
    if isinstance(database, peewee.SqliteDatabase):
        verb = "INSERT OR IGNORE" if ignore_conflicts else "INSERT"
        marks = ", ".join(["?"] * len(fields))
        database.cursor().executemany(f"{verb} INTO {table} ({columns}) VALUES ({marks})", values)
        return
    from psycopg2.extras import execute_values

    suffix = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    execute_values(database.cursor(), f"INSERT INTO {table} ({columns}) VALUES %s{suffix}", values, page_size=1000)


def ensure_connected() -> None:
    """Open this thread's connection if it is not open yet (cheap when it is)."""
    database_proxy.connect(reuse_if_open=True)
