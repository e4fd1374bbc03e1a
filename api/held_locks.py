"""Database-wide locks held across several transactions, for work that commits more than once (a bulk import sent
with an Idempotency-Key): db.hold_until_commit's lock ends with its transaction, these end when the block does.

The key space is db.hold_until_commit's: on PostgreSQL both are advisory locks on one 64-bit key, so a block here
and a transaction holding the same key wait for each other. On SQLite, a lock is one byte of a file beside the
database (``<database>-held-locks``), at the key's offset: the kernel wakes the next waiter, thread or process."""

import fcntl
import threading
from contextlib import contextmanager

import peewee
from playhouse.pool import PooledDatabase

from api import db

OFFSETS = (1 << 62) - 1  # file offsets a key is folded into (a lock's byte must lie inside off_t)
_thread_gates = tuple(threading.Lock() for _ in range(64))  # fcntl locks cannot tell one process's threads apart
_lock_files: dict[str, object] = {}
_lock_files_guard = threading.Lock()


@contextmanager
def held(key: int):
    """Wait for, then hold until the block ends, the database-wide lock ``key`` (a 64-bit integer)."""
    database = db.database_proxy.obj
    if db.is_sqlite(database):
        with _sqlite_byte_lock(database, key):
            yield
        return
    database.execute_sql("SELECT pg_advisory_lock(%s)", (key,))
    try:
        yield
    finally:
        try:
            database.execute_sql("SELECT pg_advisory_unlock(%s)", (key,))
        except (peewee.DatabaseError, peewee.InterfaceError):
            _end_session(database)  # the lock ends with it: a pooled connection must not go back still holding it
            raise


def _end_session(database) -> None:
    """Close this thread's connection for good (a pooled one is not given back to its pool)."""
    if isinstance(database, PooledDatabase):
        database.manual_close()
    else:
        database.close()


@contextmanager
def _sqlite_byte_lock(database, key: int):
    with _thread_gates[key % len(_thread_gates)]:
        if database.database == ":memory:":  # one process: the thread gate is all there is to wait for
            yield
            return
        lock_file = _lock_file(f"{database.database}-held-locks")
        offset = key & OFFSETS
        fcntl.lockf(lock_file, fcntl.LOCK_EX, 1, offset)
        try:
            yield
        finally:
            fcntl.lockf(lock_file, fcntl.LOCK_UN, 1, offset)


def _lock_file(path: str):
    """The process's open handle on ``path`` (kept open: closing any handle on a file drops every fcntl lock the
    process holds on it)."""
    with _lock_files_guard:
        if path not in _lock_files:
            _lock_files[path] = open(path, "a+b")  # noqa: SIM115 - kept open for the process's life
        return _lock_files[path]
