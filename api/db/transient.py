"""What a database error means for the caller: transient (locked, busy, unreachable for now: the edges answer 503 with
Retry-After, and the same request may succeed shortly), or a fault (a 500, logged with its traceback)."""

import sqlite3
import sys

import peewee
from playhouse.pool import MaxConnectionsExceeded

SQLITE_RETRYABLE = {5, 6, 14}  # SQLITE_BUSY, SQLITE_LOCKED, SQLITE_CANTOPEN (primary result codes)
# PostgreSQL SQLSTATEs after which the same request may succeed if sent again shortly: serialization failure,
# deadlock, lock not available (lock_timeout), query canceled (statement_timeout), the server shutting down or
# starting, too many connections. Any SQLSTATE of class 08 (connection exception) too.
POSTGRES_RETRYABLE = {"40001", "40P01", "55P03", "57014", "57P01", "57P02", "57P03", "53300"}


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` says the database is locked, busy or unreachable for now, so that the same request may succeed
    if retried shortly (the edges answer 503 with Retry-After). Anything else (an SQL error, a constraint, a full
    disk, a corrupt file) is a fault: a 500, logged with its traceback. Looks through peewee's wrapper to the
    driver's own error, and through ``raise ... from`` causes, never through an error merely raised while handling
    another."""
    for cause in _explicit_causes(error):
        if isinstance(cause, MaxConnectionsExceeded):  # every pooled connection in use for the pool's timeout
            return True
        if isinstance(cause, sqlite3.Error):  # api.db.sqlite_writes.WriteWaitTimeout too: SQLITE_BUSY
            code = getattr(cause, "sqlite_errorcode", None)
            return code is not None and code & 0xFF in SQLITE_RETRYABLE
        psycopg = sys.modules.get("psycopg")  # no psycopg error without psycopg imported
        if psycopg is not None and isinstance(cause, psycopg.Error):
            state = cause.sqlstate
            if isinstance(cause, psycopg.InterfaceError):  # the connection is closed or broken
                return True
            if state is None:  # no answer from the server: refused, reset, closed unexpectedly
                return isinstance(cause, psycopg.OperationalError)
            return state in POSTGRES_RETRYABLE or state.startswith("08")
    return False


def _explicit_causes(error: BaseException, limit: int = 8):
    """``error``, the driver error peewee wrapped (``orig``), and explicit causes, innermost last."""
    seen: BaseException | None = error
    while seen is not None and limit:
        yield seen
        limit -= 1
        wrapped = getattr(seen, "orig", None) if isinstance(seen, peewee.PeeweeException) else None
        seen = wrapped if isinstance(wrapped, BaseException) else seen.__cause__
