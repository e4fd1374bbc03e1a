"""Transactions and what a write holds inside one: write_transaction (queued on SQLite), savepoints, row locks
(for_update) and database-wide locks held until commit (hold_until_commit)."""

import peewee

from api.db import sqlite_writes
from api.db.connections import database_proxy, is_sqlite


def write_transaction():
    """A transaction for a write. On SQLite it waits for its turn on a file lock beside the database, then takes the
    write lock as it begins (BEGIN IMMEDIATE), so two writers queue instead of one failing with "database is locked"
    when it upgrades a read snapshot that the other has outdated (see api.db.sqlite_writes.queued_write). Nested inside
    another transaction it is a savepoint, as atomic() is."""
    database = database_proxy.obj
    if isinstance(database, sqlite_writes.QueuedSqliteDatabase) and not database.in_transaction():
        return sqlite_writes.queued_write(database)
    return database_proxy.atomic()


def savepoint():
    """A savepoint inside the caller's transaction (a transaction of its own outside one): what it writes is rolled
    back alone when its block raises, and the caller's transaction goes on."""
    return database_proxy.atomic()


def for_update(query: peewee.Select) -> peewee.Select:
    """``query``, holding the rows it reads until the transaction ends, so a concurrent writer of them waits
    (PostgreSQL: FOR UPDATE). On SQLite, ``query`` as it is: one writer already holds the whole database."""
    return query if is_sqlite() else query.for_update()


def hold_until_commit(key: int) -> None:
    """Inside a write transaction: wait for, then hold until the transaction ends, the database-wide lock ``key`` (a
    64-bit integer), so transactions that take the same key run one after another. PostgreSQL: a transaction-scoped
    advisory lock. SQLite: nothing to take, one writer already holds the whole database until it commits."""
    database = database_proxy.obj
    if not is_sqlite(database):
        database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (key,))
