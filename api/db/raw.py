"""Raw SQL for hot paths and bulk writes, on either backend: rows inserted as peewee would store them, one statement a
batch (insert_rows, insert_values), and SELECTs written once with backend-neutral placeholders (fetch_rows,
fetch_in). Each domain keeps the SQL it runs here in its own queries module."""

import datetime
import io
from collections.abc import Sequence
from decimal import Decimal
from functools import lru_cache

import peewee

from api.db.connections import database_proxy


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
        elif len(values) >= COPY_FROM and not ignore_conflicts and (text := _copy_text(values)) is not None:
            database.cursor().copy_expert(_copy_statement(model, tuple(field_names)), io.StringIO(text))
        else:
            from psycopg2.extras import execute_values

            execute_values(database.cursor(), statement, values, page_size=1000)


COPY_FROM = 100  # rows: from this many, PostgreSQL is sent COPY (no statement to build and parse), fewer an INSERT
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_COPY_PLAIN = (str, int, float, Decimal, datetime.date)  # bool is an int; datetime a date


def _copy_text(values: list[tuple]) -> str | None:
    """``values`` in COPY's text format, or None if one of them is of a type COPY is not given here (a JSON adapter,
    say: that batch goes as an INSERT)."""
    lines = []
    for row in values:
        cells = []
        for value in row:
            if value is None:
                cells.append("\\N")
            elif isinstance(value, str):
                cells.append(value.translate(_COPY_ESCAPES))
            elif isinstance(value, bool):
                cells.append("t" if value else "f")
            elif isinstance(value, _COPY_PLAIN):
                cells.append(str(value))
            else:
                return None
        lines.append("\t".join(cells))
    lines.append("")
    return "\n".join(lines)


@lru_cache(maxsize=64)
def _copy_statement(model: type[peewee.Model], field_names: tuple[str, ...]) -> str:
    columns = ", ".join(f'"{model._meta.fields[name].column_name}"' for name in field_names)
    return f'COPY "{model._meta.table_name}" ({columns}) FROM STDIN'


@lru_cache(maxsize=64)
def _insert_statement(model: type[peewee.Model], field_names: tuple[str, ...], sqlite: bool,
                      ignore_conflicts: bool) -> str:
    columns = ", ".join(f'"{model._meta.fields[name].column_name}"' for name in field_names)
    table = f'"{model._meta.table_name}"'
    if sqlite:
        verb = "INSERT OR IGNORE" if ignore_conflicts else "INSERT"
        return f"{verb} INTO {table} ({columns}) VALUES ({', '.join(['?'] * len(field_names))})"
    return f"INSERT INTO {table} ({columns}) VALUES %s{' ON CONFLICT DO NOTHING' if ignore_conflicts else ''}"


def bytewise(expression):
    """``expression`` compared in code point order, so a prefix is a range an index built on the same expression
    serves: PostgreSQL's "C" collation (the database's own may sort "o'b" after "o("); SQLite's BINARY, its
    default."""
    return expression if isinstance(database_proxy.obj, peewee.SqliteDatabase) else expression.collate('"C"')


def db_timestamp(moment):
    """A naive UTC datetime as insert_values stores it: the text peewee stores on SQLite, the value itself on
    PostgreSQL."""
    return str(moment) if isinstance(database_proxy.obj, peewee.SqliteDatabase) else moment


def fetch_in(sql: str, params: list, values: list, after: Sequence = ()) -> list[tuple]:
    """Rows of a raw SELECT whose placeholders are written {p} and whose IN list is written {values}, filled with
    ``values`` (after ``params``, and before ``after``: the placeholders that follow the IN list). Composing a long
    IN list with peewee costs far more than running the query; this only joins placeholders."""
    if not values:
        return []
    database = database_proxy.obj
    marks = ", ".join([database.param] * len(values))
    return database.execute_sql(sql.format(p=database.param, values=marks), [*params, *values, *after]).fetchall()


def execute(sql: str, params: Sequence = ()) -> int:
    """Run a raw SQL statement that returns no rows (placeholders written {p}, as for fetch_rows); the number of rows
    it changed."""
    database = database_proxy.obj
    return database.execute_sql(_with_placeholders(sql, database.param), params).rowcount


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
