"""Raw SQL for hot paths and bulk writes, on either backend: rows inserted as peewee would store them, one statement a
batch (insert_rows, insert_values), and SELECTs written once with backend-neutral placeholders (fetch_rows,
fetch_in). Each domain keeps the SQL it runs here in its own queries module."""

from collections.abc import Sequence
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
    db_timestamp) for ``field_names``: for bulk writers, which build their values directly (peewee's insert_many
    builds its SQL value by value), and for single rows on hot paths (the statement is composed once per shape).
    On PostgreSQL a batch of COPY_FROM rows or more is sent as COPY, a smaller one in one pipeline (one round trip).
    Errors are peewee's (IntegrityError, OperationalError...), as from Model.create."""
    if not values:
        return
    database = database_proxy.obj
    sqlite = isinstance(database, peewee.SqliteDatabase)
    statement = _insert_statement(model, tuple(field_names), sqlite, ignore_conflicts)
    with peewee.__exception_wrapper__:
        cursor = database.cursor()
        if sqlite or len(values) < COPY_FROM or ignore_conflicts:
            cursor.executemany(statement, values)
        else:
            with cursor.copy(_copy_statement(model, tuple(field_names))) as copy:
                for row in values:
                    copy.write_row(row)


COPY_FROM = 100  # rows: from this many, PostgreSQL is sent COPY (no statement to bind per row), fewer an INSERT


@lru_cache(maxsize=64)
def _copy_statement(model: type[peewee.Model], field_names: tuple[str, ...]) -> str:
    columns = ", ".join(f'"{model._meta.fields[name].column_name}"' for name in field_names)
    return f'COPY "{model._meta.table_name}" ({columns}) FROM STDIN'


@lru_cache(maxsize=64)
def _insert_statement(model: type[peewee.Model], field_names: tuple[str, ...], sqlite: bool,
                      ignore_conflicts: bool) -> str:
    columns = ", ".join(f'"{model._meta.fields[name].column_name}"' for name in field_names)
    table = f'"{model._meta.table_name}"'
    placeholders = ", ".join(["?" if sqlite else "%s"] * len(field_names))
    if sqlite:
        verb = "INSERT OR IGNORE" if ignore_conflicts else "INSERT"
        return f"{verb} INTO {table} ({columns}) VALUES ({placeholders})"
    conflicts = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    return f"INSERT INTO {table} ({columns}) VALUES ({placeholders}){conflicts}"


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
    statement, bound = sql.format(p=database.param, values=marks), [*params, *values, *after]
    if len(values) <= PREPARED_LIST_MAX or isinstance(database, peewee.SqliteDatabase):
        return database.execute_sql(statement, bound).fetchall()
    peewee.logger.debug((statement, bound))  # logged as execute_sql logs (tests count statements so)
    with peewee.__exception_wrapper__:
        cursor = database.cursor()
        cursor.execute(statement, bound, prepare=False)
        return cursor.fetchall()


# Values in an IN list beyond which PostgreSQL plans the statement for the values given, never from a prepared plan:
# a batch repeats one shape (an import's 2,000 rows), so it would be prepared, and a plan made for values not yet
# known (a hash join over the whole table) took 0.5-0.9 s where the values' own plan, index lookups, takes
# milliseconds. Short lists (a write's criteria, a page's ids) keep their prepared plans.
PREPARED_LIST_MAX = 32


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


def capped_count(query: peewee.Select, cap: int, order: Sequence = ()) -> int:
    """How many rows ``query`` matches, counting no further than ``cap`` (a larger answer means "more than cap - 1").

    ``order`` is the order an index serves (the order the list's pages are read in). On PostgreSQL the count walks
    that index as the pages do: counted in no order, the planner prefers a sequential scan of the table, and once a
    table outgrows a quarter of shared_buffers such a scan reads through a small ring of buffers, so every count
    reads its pages from outside the cache again. SQLite counts in no order: without statistics its planner may take
    the order's index over a filter's more selective one."""
    sqlite = isinstance(database_proxy.obj, peewee.SqliteDatabase)
    capped = query.order_by(*(() if sqlite else order)).limit(cap).alias("capped")
    if capped._count_can_project_one():  # peewee's own test (Select.count): no grouping or DISTINCT to keep
        capped = capped.select(peewee.SQL("1"))
    return peewee.Select([capped], [peewee.fn.COUNT(peewee.SQL("1"))]).scalar(database_proxy.obj)
