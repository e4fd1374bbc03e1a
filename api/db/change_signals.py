"""Change signals: files beside a SQLite database that tell this machine's processes when some kind of record changed
(tokens revoked, say), so a process may keep what it learnt about those records until the next signal. None on
PostgreSQL (several hosts share it, and a file cannot tell them)."""

import os
from contextlib import suppress

import peewee

from api.db.connections import database_proxy


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


_signals: dict[tuple[str, str], ChangeSignal] = {}


def change_signal(suffix: str) -> ChangeSignal | None:
    """On a SQLite database file, the ChangeSignal ``<database><suffix>``; None on PostgreSQL (several hosts share
    it, and a file cannot tell them) and on an in-memory database."""
    database = database_proxy.obj
    if not isinstance(database, peewee.SqliteDatabase) or database.database == ":memory:":
        return None
    key = (database.database, suffix)
    signal = _signals.get(key)
    if signal is None:
        signal = _signals[key] = ChangeSignal(database, suffix)
    return signal


def signal_change(suffix: str) -> None:
    """Say that records of one kind changed, on the ChangeSignal ``<database><suffix>`` (nothing to do without one):
    now (this connection sees the change at once) and, inside a transaction, again after the commit, when other
    processes see it."""
    signal = change_signal(suffix)
    if signal is not None:
        signal.signal()
        if database_proxy.in_transaction():
            database_proxy.after_commit(signal.signal)
