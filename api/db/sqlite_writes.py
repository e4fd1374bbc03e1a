"""SQLite's one writer at a time, made orderly: write transactions queue on a file lock beside the database and take
SQLite's write lock as they begin (QueuedSqliteDatabase, queued_write). api.db uses these for every SQLite database
it makes; the write-ahead log is copied back by a thread (api.db.checkpoints), not by a writer holding the lock."""

import fcntl
import os
import sqlite3
import threading
import time
from contextlib import ExitStack, contextmanager

import peewee

_turns_guard = threading.Lock()  # guards _turns


class WriteWaitTimeout(sqlite3.OperationalError):
    """SQLite's "database is locked" (SQLITE_BUSY), raised when a write could not take its turn and SQLite's write lock
    within the database's write wait: every layer treats it as SQLite's own busy error (api.db.is_transient)."""

    sqlite_errorcode, sqlite_errorname = 5, "SQLITE_BUSY"


class _FileTurns:
    """Turns on one lock file for the threads of this process (flock cannot tell one process's threads apart): one
    thread at a time holds, or waits for, the file's exclusive lock. The kernel wakes the next waiter (thread or
    process) the moment the holder lets go. A wait that must end by a deadline blocks in a helper thread, so the
    waiter can give up on time; a lock the helper gets after its waiter gave up goes to the next thread of this
    process that wants it, or is let go at once."""

    def __init__(self, path: str):
        self.file = open(path, "a")  # noqa: SIM115 - kept open for the process's life: turns are taken on every write
        self.changed = threading.Condition()
        self.taken = False  # a thread of this process holds the turn or waits for the file lock
        self.locked = False  # this process holds the file lock (only while a thread has taken the turn)
        self.helper_waiting = False  # a helper thread is blocked in flock for this process

    def take(self, deadline: float | None) -> bool:
        """Wait for the turn until ``deadline`` (a time.monotonic() value; None: for as long as it takes); whether it
        came. A thread that gets it must give_back()."""
        with self.changed:
            if not self.changed.wait_for(lambda: not self.taken, _left(deadline)):
                return False
            self.taken = True
            if not self.locked and not self.helper_waiting:
                try:
                    fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    self.locked = True
                except BlockingIOError:
                    self.helper_waiting = True
                    threading.Thread(target=self._wait_for_lock, name="sqlite writer turn", daemon=True).start()
            if self.changed.wait_for(lambda: self.locked, _left(deadline)):
                return True
            self.taken = False
            self.changed.notify_all()
            return False

    def give_back(self) -> None:
        """Let the lock go, to the next waiter of any process."""
        with self.changed:
            fcntl.flock(self.file, fcntl.LOCK_UN)
            self.locked = self.taken = False
            self.changed.notify_all()

    def _wait_for_lock(self) -> None:
        fcntl.flock(self.file, fcntl.LOCK_EX)
        with self.changed:
            self.helper_waiting = False
            if self.taken:
                self.locked = True
            else:  # its waiter gave up and no other thread wants it
                fcntl.flock(self.file, fcntl.LOCK_UN)
            self.changed.notify_all()


def _left(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


_turns: dict[str, _FileTurns] = {}


def _forget_turns() -> None:
    """In a forked child: its own lock files (one inherited shares the parent's lock, and no helper thread came)."""
    global _turns, _turns_guard
    _turns, _turns_guard = {}, threading.Lock()


os.register_at_fork(after_in_child=_forget_turns)


@contextmanager
def turn_beside(database: peewee.SqliteDatabase, suffix: str, deadline: float | None = None):
    """Wait for, then hold, an exclusive lock on the file ``<database><suffix>``, shared by every process on this
    machine; WriteWaitTimeout if it has not come by ``deadline`` (time.monotonic(); None: wait as long as it takes).
    Nothing to wait for with an in-memory database."""
    if database.database == ":memory:":
        yield
        return
    path = f"{database.database}{suffix}"
    turns = _turns.get(path)
    if turns is None:
        with _turns_guard:
            turns = _turns.get(path) or _turns.setdefault(path, _FileTurns(path))
    if not turns.take(deadline):
        raise WriteWaitTimeout("database is locked: other writers held it for the whole write wait")
    try:
        yield
    finally:
        turns.give_back()


DEFAULT_WRITE_WAIT_MS = 5000  # QUALTRACK_SQLITE_WRITE_WAIT_MS


class QueuedSqliteDatabase(peewee.SqliteDatabase):
    """peewee's SqliteDatabase whose write transactions (queued_write) take turns on a file lock beside the database
    before they take SQLite's write lock.

    A write waits at most ``write_wait_ms`` in all: for its turn among this machine's writers, then for SQLite's write
    lock (held, perhaps, by a process outside the queue); past that it fails with WriteWaitTimeout or SQLite's own
    "database is locked", both SQLITE_BUSY. Reads never take a turn."""

    def __init__(self, database, *args, write_wait_ms: int = DEFAULT_WRITE_WAIT_MS, **kwargs):
        self.write_wait_ms = write_wait_ms
        super().__init__(database, *args, **kwargs)

    def reset_after_request(self) -> None:
        """At the end of a request, outside any transaction block: roll back a transaction left open on this thread's
        connection, so that nothing one request left behind holds the write lock."""
        if not self._state.transactions and not self.is_closed() and self._state.conn.in_transaction:
            self._state.conn.rollback()


@contextmanager
def queued_write(database: QueuedSqliteDatabase):
    """A write transaction that waits for its turn on ``<database>-writers``, then takes SQLite's write lock (BEGIN
    IMMEDIATE) until it commits or rolls back, both within the database's write wait.

    SQLite's own busy handler makes a waiting writer sleep in growing steps (up to 100 ms) and poll: under a steady
    stream of writes from several workers, writes would wait far longer than the lock is held. The file lock wakes
    the next writer the moment the last one lets go."""
    deadline = time.monotonic() + database.write_wait_ms / 1000
    with turn_beside(database, "-writers", deadline), ExitStack() as transaction:
        left_ms = int((deadline - time.monotonic()) * 1000)
        if left_ms >= database.write_wait_ms - 1:  # the turn came at once: SQLite waits its usual busy_timeout
            transaction.enter_context(database.atomic(lock_type="IMMEDIATE"))
        else:  # the turn took a while: SQLite may wait only what is left, then its usual wait again
            connection = database.connection()
            connection.execute(f"PRAGMA busy_timeout = {max(left_ms, 0)}")
            try:
                transaction.enter_context(database.atomic(lock_type="IMMEDIATE"))
            finally:
                connection.execute(f"PRAGMA busy_timeout = {int(database.write_wait_ms)}")
        yield
