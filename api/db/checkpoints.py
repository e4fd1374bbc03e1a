"""Copying SQLite's write-ahead log back into the database from a thread, rather than by a writer that holds the write
lock: for every request (keep_checkpointing) and for a long run of writes (checkpoints_beside). Nothing to do on
PostgreSQL."""

import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.request import pathname2url

import peewee

from api.db.connections import database_proxy

# SQLite's global mutexes (its allocator's, its file layer's) are held for a moment by any thread inside SQLite, and a
# process forked in that moment inherits them held: the child's first SQLite call then waits forever (seen once: a
# learner-import chunk process, forked while this process's checkpoint thread was checkpointing, stuck in
# sqlite3.connect). So the background threads below enter SQLite only while holding FORK_GUARD, and a fork (the
# import's chunk processes) first waits for it.
FORK_GUARD = threading.Lock()
os.register_at_fork(before=FORK_GUARD.acquire, after_in_parent=FORK_GUARD.release,
                    after_in_child=FORK_GUARD.release)


@contextmanager
def checkpoints_beside():
    """For a long run of write transactions (a bulk import) on SQLite: the WAL is copied back by a second thread
    (see _copy_log_beside); yields what to call after each commit. Nothing to do elsewhere."""
    database = database_proxy.obj
    if not isinstance(database, peewee.SqliteDatabase):
        yield lambda: None
        return
    with _copy_log_beside(database) as after_commit:
        yield after_commit


def keep_checkpointing() -> None:
    """On SQLite, have a thread of this process checkpoint the WAL (see _keep_checkpointing); per request."""
    database = database_proxy.obj
    if isinstance(database, peewee.SqliteDatabase):
        _keep_checkpointing(database)


@contextmanager
def _copy_log_beside(database: peewee.SqliteDatabase):
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
_checkpointing_guard = threading.Lock()  # guards _checkpointing


def _forget_guard() -> None:
    """In a forked child: a guard no thread of the parent may hold."""
    global _checkpointing_guard
    _checkpointing_guard = threading.Lock()


os.register_at_fork(after_in_child=_forget_guard)


def _keep_checkpointing(database: peewee.SqliteDatabase) -> None:
    """On a SQLite database file, make sure a thread of this process copies the write-ahead log back into the
    database every CHECKPOINT_SECONDS, so that writers seldom do it themselves: a writer that checkpoints does so
    while it holds the write lock, with an fsync or two, and every other writer waits (under load, those were what
    made the slowest decision writes slow). PASSIVE checkpoints neither wait for nor hold up readers and writers;
    writers still checkpoint past wal_autocheckpoint pages if this thread falls behind. Cheap enough to call on
    every request."""
    if database.database == ":memory:":
        return
    path, pid = database.database, os.getpid()
    if _checkpointing.get(path) == pid:
        return
    with _checkpointing_guard:
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
