"""Database-wide locks that outlive a transaction: held across several transactions (held), leases taken without
waiting that end with their holder (Lease), and the lock a starting host holds while it migrates (startup_lock).

held: for work that commits more than once (a bulk import sent with an Idempotency-Key): hold_until_commit's lock
ends with its transaction, these end when the block does. The key space is hold_until_commit's: on PostgreSQL both
are advisory locks on one 64-bit key, so a block here and a transaction holding the same key wait for each other. On
SQLite, a lock is one byte of a file beside the database (``<database>-held-locks``), at the key's offset: the kernel
wakes the next waiter, thread or process."""

import fcntl
import os
import tempfile
import threading
from contextlib import contextmanager

import peewee
from playhouse.pool import PooledDatabase

from api.db import sqlite_writes
from api.db.connections import database_proxy, is_sqlite

OFFSETS = (1 << 62) - 1  # file offsets a key is folded into (a lock's byte must lie inside off_t)
_thread_gates = tuple(threading.Lock() for _ in range(64))  # fcntl locks cannot tell one process's threads apart
_lock_files: dict[str, object] = {}
_lock_files_guard = threading.Lock()


@contextmanager
def held(key: int):
    """Wait for, then hold until the block ends, the database-wide lock ``key`` (a 64-bit integer)."""
    database = database_proxy.obj
    if is_sqlite(database):
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


class Lease:
    """A lock that no one waits for, such as which run owns an import job: try_take() once, release() when done. It
    ends with its holder's process too, so a crashed holder's lease is free at once. PostgreSQL: a session advisory
    lock on ``key``, released by its holder or when its connection closes. SQLite (one host): an exclusive flock on
    the file ``<database>.<name>.lock``, released by its holder or when its process ends."""

    def __init__(self, key: int, name: str):
        self.key, self.name = key, name
        self.file = None
        self.held = False

    def try_take(self) -> bool:
        """Take the lease if no one holds it (without waiting); whether it is now held."""
        if is_sqlite():
            self.file = open(self._path(), "a+b")  # noqa: SIM115 - closed by release()
            try:
                fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self.file.close()
                self.file = None
                return False
            self.held = True
        else:
            self.held = bool(database_proxy.obj.execute_sql("SELECT pg_try_advisory_lock(%s)",
                                                            (self.key,)).fetchone()[0])
        return self.held

    def release(self, finished: bool) -> None:
        """Give the lease back; ``finished``: it will not be taken again, so its lock file (SQLite) is removed (a
        holder that opened it before sees the work finished once it holds the lock)."""
        if not self.held:
            return
        self.held = False
        if self.file is not None:
            if finished:
                os.unlink(self.file.name)
            self.file.close()  # closing the file ends the flock
            self.file = None
        else:
            database_proxy.obj.execute_sql("SELECT pg_advisory_unlock(%s)", (self.key,))

    def _path(self) -> str:
        database = database_proxy.obj.database
        if not database or database == ":memory:":  # one process only: a private file stands in
            return os.path.join(tempfile.gettempdir(), f"qualtrack-{os.getpid()}-{self.name}.lock")
        return f"{database}.{self.name}.lock"


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
