"""SQLite write transactions take turns on a file lock beside the database, each within one bounded wait, and
give their turn back however they end; the write-ahead log is copied back in the background.

Real threads with their own connections, on a separate SQLite database (the session's runs each test inside a
transaction of its own)."""

import fcntl
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from api import db


@pytest.fixture
def notes(fresh_url, database):
    """A separate SQLite database with one table, bound for the test's duration; the session's afterwards."""
    if not fresh_url.startswith("sqlite"):
        pytest.skip("SQLite only: PostgreSQL writers do not queue for one database-wide lock")
    fresh = db.make_database(fresh_url)
    db.bind(fresh)
    fresh.execute_sql("CREATE TABLE note (body TEXT NOT NULL)")
    try:
        yield fresh
    finally:
        fresh.close()
        db.bind(database)


def test_a_write_that_fails_at_its_first_statement_lets_the_next_writer_go(notes):
    with pytest.raises(Exception, match="no such table"), db.write_transaction():
        notes.execute_sql("INSERT INTO missing VALUES (1)")
    done = threading.Event()

    def next_writer():
        try:
            with db.write_transaction():
                notes.execute_sql("INSERT INTO note VALUES ('next')")
            done.set()
        finally:
            notes.close()

    writer = threading.Thread(target=next_writer)
    writer.start()
    writer.join(10)
    assert done.is_set()
    assert notes.execute_sql("SELECT count(*) FROM note").fetchone() == (1,)


def test_a_serving_process_copies_the_log_back_into_the_database_in_the_background(notes):
    """Writers leave the write-ahead log to a thread (db.keep_checkpointing) instead of checkpointing while they
    hold the write lock: rows written reach the database file itself within a moment, though no writer has come
    near wal_autocheckpoint pages."""
    path = Path(notes.database)
    with db.write_transaction():
        for number in range(200):
            notes.execute_sql("INSERT INTO note VALUES (?)", [f"note {number} " + "x" * 200])
    size_before = path.stat().st_size
    (threshold,) = notes.execute_sql("PRAGMA wal_autocheckpoint").fetchone()
    assert threshold >= 1000  # pages: the ~15 written above are far from making the writer checkpoint
    db.keep_checkpointing()
    deadline = time.monotonic() + 5
    while path.stat().st_size == size_before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert path.stat().st_size > size_before
    db.keep_checkpointing()  # again: still one thread for this database in this process
    assert [t.name for t in threading.enumerate()].count(f"wal-checkpoints {notes.database}") == 1


def test_a_fork_waits_while_a_background_thread_is_inside_sqlite(notes):
    """A child forked while another thread holds one of SQLite's global mutexes would wait forever at its first SQLite
    call; the checkpoint threads hold FORK_GUARD while inside SQLite, and a fork waits for it."""
    import os
    import sqlite3

    from api.db.checkpoints import FORK_GUARD

    inside, leave = threading.Event(), threading.Event()

    def checkpointing():
        with FORK_GUARD:
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=checkpointing)
    thread.start()
    assert inside.wait(10)
    threading.Timer(0.3, leave.set).start()
    started = time.monotonic()
    child = os.fork()
    if child == 0:  # the child: SQLite must work
        status = 1
        try:
            sqlite3.connect(notes.database).execute("SELECT count(*) FROM note").fetchone()
            status = 0
        finally:
            os._exit(status)
    waited = time.monotonic() - started
    thread.join()
    assert os.waitpid(child, 0)[1] == 0
    assert waited >= 0.25, f"the fork did not wait for the thread inside SQLite ({waited:.3f} s)"


# -- bounded waits: one deadline for the writers' turn and SQLite's write lock ---------------------------------------

WAIT_MS = 300
MARGIN_SECONDS = 1.0  # for a loaded machine; without one deadline the n-th writer gave up after n waits


@pytest.fixture
def quick_notes(notes):
    """``notes`` again, through a database whose writes wait at most WAIT_MS."""
    quick = db.make_database(f"sqlite:///{notes.database}", sqlite_write_wait_ms=WAIT_MS)
    db.bind(quick)
    try:
        yield quick
    finally:
        quick.close()


@contextmanager
def turn_held_elsewhere(database):
    """Another process's writer holding its turn: the writers' lock file, locked through a file of its own."""
    with open(f"{database.database}-writers", "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def write_from_threads(database, count: int) -> list[tuple[float, BaseException | None]]:
    """``count`` threads, each with its own connection, each writing a note at once: (seconds taken, error)."""
    outcomes: list = [None] * count

    def write(number: int) -> None:
        started, error = time.monotonic(), None
        try:
            with db.write_transaction():
                database.execute_sql("INSERT INTO note VALUES (?)", [f"writer {number}"])
        except Exception as raised:  # noqa: BLE001 - what is being looked at
            error = raised
        finally:
            database.close()
        outcomes[number] = (time.monotonic() - started, error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


@pytest.mark.parametrize("held", ["sqlite lock", "writers' turn"])
def test_writers_behind_a_held_lock_all_give_up_when_the_wait_ends_not_one_after_another(quick_notes, held):
    if held == "sqlite lock":
        holder = sqlite3.connect(quick_notes.database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        release = holder.rollback
    else:
        turn = turn_held_elsewhere(quick_notes)
        turn.__enter__()
        release = lambda: turn.__exit__(None, None, None)  # noqa: E731
    try:
        outcomes = write_from_threads(quick_notes, 4)
        started = time.monotonic()
        assert quick_notes.execute_sql("SELECT count(*) FROM note").fetchone() == (0,)  # a read waits for nothing
        assert time.monotonic() - started < 0.1
    finally:
        release()
    for seconds, error in outcomes:
        assert error is not None and db.is_transient(error), error
        assert WAIT_MS / 1000 - 0.05 <= seconds < WAIT_MS / 1000 + MARGIN_SECONDS, [s for s, _ in outcomes]
    started = time.monotonic()
    assert write_from_threads(quick_notes, 1)[0][1] is None  # nothing left held by the writers that gave up
    assert time.monotonic() - started < WAIT_MS / 1000
    with open(f"{quick_notes.database}-writers", "a") as lock_file:  # nor by this process
        fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(lock_file, fcntl.LOCK_UN)


def test_a_turn_that_comes_after_its_writer_gave_up_goes_to_the_next_writer(quick_notes):
    with turn_held_elsewhere(quick_notes):
        [(_, error)] = write_from_threads(quick_notes, 1)
        assert db.is_transient(error)  # its turn is still being waited for, on no one's behalf
    [(seconds, error)] = write_from_threads(quick_notes, 1)
    assert error is None and seconds < WAIT_MS / 1000
    assert quick_notes.execute_sql("SELECT body FROM note").fetchall() == [("writer 0",)]


def test_what_a_request_leaves_open_is_rolled_back_at_its_end_and_holds_up_no_one(quick_notes):
    """A request that returned inside a transaction of its own (BEGIN without a block: a bug) must not keep SQLite's
    write lock for the next request on the worker, nor make other writers wait."""
    quick_notes.execute_sql("BEGIN IMMEDIATE")
    quick_notes.execute_sql("INSERT INTO note VALUES ('left open')")
    db.release()  # the end of the request
    [(seconds, error)] = write_from_threads(quick_notes, 1)
    assert error is None and seconds < WAIT_MS / 1000
    assert quick_notes.execute_sql("SELECT body FROM note").fetchall() == [("writer 0",)]
