"""SQLite's one writer at a time, made orderly: write transactions queue on a file lock and take SQLite's write lock
at their first statement (QueuedSqliteDatabase), and the write-ahead log is copied back into the database by a
thread rather than by a writer holding the lock (keep_checkpointing, checkpoints_beside). api.db uses these for
every SQLite database it makes. ChangeSignal, another file beside the database, tells a process when something it
keeps (a token's revocation check) may be out of date."""

import fcntl
import os
import sqlite3
import threading
import time
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from urllib.request import pathname2url

import peewee

# SQLite's global mutexes (its allocator's, its file layer's) are held for a moment by any thread inside SQLite, and a
# process forked in that moment inherits them held: the child's first SQLite call then waits forever (seen once: a
# learner-import chunk process, forked while this process's checkpoint thread was checkpointing, stuck in
# sqlite3.connect). So the background threads below enter SQLite only while holding FORK_GUARD, and a fork (the
# import's chunk processes) first waits for it.
FORK_GUARD = threading.Lock()
os.register_at_fork(before=FORK_GUARD.acquire, after_in_parent=FORK_GUARD.release,
                    after_in_child=FORK_GUARD.release)

_lock_files_guard = threading.Lock()  # guards _turns and _checkpointing


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
    global _turns, _lock_files_guard
    _turns, _lock_files_guard = {}, threading.Lock()


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
        with _lock_files_guard:
            turns = _turns.get(path) or _turns.setdefault(path, _FileTurns(path))
    if not turns.take(deadline):
        raise WriteWaitTimeout("database is locked: other writers held it for the whole write wait")
    try:
        yield
    finally:
        turns.give_back()


class ChangeSignal:
    """A file beside a SQLite database, ``<database><suffix>``, that grows by a byte whenever some kind of record
    changes (tokens revoked, say): a process may keep what it learnt about those records for as long as the file's
    stamp stays the same. Looking costs one stat (~1 µs); asking SQLite costs a read transaction, and after another
    process's commit SQLite re-reads every page the transaction touches. One machine only, like SQLite itself."""

    def __init__(self, database: peewee.SqliteDatabase, suffix: str):
        self.path = f"{database.database}{suffix}"

    def stamp(self) -> tuple[int, int, int] | None:
        """The file's (inode, size, modification time) now: any signal since changes it. None if the file is
        missing (or cannot be read), in which case it is made again if it can be, to be looked at next time."""
        try:
            status = os.stat(self.path)
        except OSError:
            with suppress(OSError):  # a read-only directory: no signal, so nothing is trusted (None)
                self.signal()
            return None
        return status.st_ino, status.st_size, status.st_mtime_ns

    def signal(self) -> None:
        """Say that a record changed (append a byte)."""
        with open(self.path, "ab") as signal_file:
            signal_file.write(b".")


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
        connection = database.connection()
        if left_ms < database.write_wait_ms - 1:  # the turn took a while: SQLite may wait only what is left
            connection.execute(f"PRAGMA busy_timeout = {max(left_ms, 0)}")
        try:
            transaction.enter_context(database.atomic(lock_type="IMMEDIATE"))
        finally:
            connection.execute(f"PRAGMA busy_timeout = {int(database.write_wait_ms)}")
        yield


@contextmanager
def checkpoints_beside(database: peewee.SqliteDatabase):
    """For a long run of write transactions (a bulk import): copy the write-ahead log into ``database`` from a
    second thread (its own connection; SQLite works without the GIL) after each commit, instead of in the writer
    past wal_autocheckpoint pages, so the copying and its fsyncs overlap the next batch's inserts. Yields what to call
    after each commit."""
    if database.database == ":memory:":
        yield lambda: None
        return
    (before,) = database.execute_sql("PRAGMA wal_autocheckpoint").fetchone()
    database.execute_sql("PRAGMA wal_autocheckpoint = 0")
    wanted, stopping = threading.Event(), threading.Event()

    def copy_log() -> None:
        with FORK_GUARD:
            log = sqlite3.connect(database.database, isolation_level=None, check_same_thread=False)
        try:
            while not stopping.is_set():
                if wanted.wait(0.5):
                    wanted.clear()
                    with FORK_GUARD:
                        log.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            with FORK_GUARD:
                log.close()

    copier = threading.Thread(target=copy_log, name="wal-checkpoints (bulk)", daemon=True)
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


def keep_checkpointing(database: peewee.SqliteDatabase) -> None:
    """On a SQLite database file, make sure a thread of this process copies the write-ahead log back into the
    database every CHECKPOINT_SECONDS, so that writers seldom do it themselves: a writer that checkpoints does so
    while it holds the write lock, with an fsync or two, and every other writer waits (p99 of decision writes under
    load: ~32 ms with, 9-16 ms without). PASSIVE checkpoints neither wait for nor hold up readers and writers;
    writers still checkpoint past wal_autocheckpoint pages if this thread falls behind. Cheap enough to call on
    every request."""
    if database.database == ":memory:":
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
        with FORK_GUARD:
            log = sqlite3.connect(f"file:{pathname2url(str(Path(path).resolve()))}?mode=rw", uri=True,
                                  isolation_level=None, check_same_thread=False)
    except sqlite3.Error:
        return
    try:
        while os.path.exists(path):
            time.sleep(CHECKPOINT_SECONDS)
            with FORK_GUARD:
                log.execute("PRAGMA wal_checkpoint(PASSIVE)")
    except sqlite3.Error:
        pass  # the database is gone or unusable: its writers checkpoint for themselves (wal_autocheckpoint)
    finally:
        with FORK_GUARD:
            log.close()
        _checkpointing.pop(path, None)
