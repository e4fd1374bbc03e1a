"""The database: the one place that knows which backend it runs on (SQLite or PostgreSQL). Everything else asks it
for what it needs (a write transaction, a lock held until commit, rows read with raw SQL) and never looks at the
database's class.

- connections: the Database proxy the models use, building a database from a URL, binding and releasing connections.
- transactions: write transactions (queued on SQLite), savepoints, row locks, locks held until commit.
- locks: locks that outlive a transaction: held across transactions, leases, the startup lock.
- raw: raw SQL for hot paths and bulk inserts, with placeholders for either backend; text compared bytewise.
- horizon: the time before which every stamped change is committed (lists a client syncs from).
- transient: whether a database error is transient (503) or a fault (500).
- sqlite_writes, checkpoints: SQLite's writer queue and its log checkpoints.

Callers use the names below: ``from api import db; db.write_transaction()``.
"""

from api.db.checkpoints import checkpoints_beside, keep_checkpointing
from api.db.connections import (
    SQLITE_PRAGMAS,
    bind,
    can_reconnect,
    database_for,
    database_proxy,
    ensure_connected,
    is_sqlite,
    make_database,
    release,
    release_connection,
    unconnected_copy,
)
from api.db.horizon import settled_before
from api.db.locks import STARTUP_LOCK_KEY, Lease, held, startup_lock
from api.db.raw import bytewise, capped_count, db_timestamp, execute, fetch_in, fetch_rows, insert_rows, insert_values
from api.db.transactions import for_update, hold_until_commit, savepoint, write_transaction
from api.db.transient import POSTGRES_RETRYABLE, SQLITE_RETRYABLE, is_transient

__all__ = [
    "POSTGRES_RETRYABLE", "SQLITE_PRAGMAS", "SQLITE_RETRYABLE", "STARTUP_LOCK_KEY", "Lease", "bind", "bytewise",
    "can_reconnect", "capped_count", "checkpoints_beside", "database_for", "database_proxy", "db_timestamp",
    "ensure_connected", "execute", "fetch_in", "fetch_rows", "for_update", "held", "hold_until_commit", "insert_rows",
    "insert_values", "is_sqlite", "is_transient", "keep_checkpointing", "make_database", "release",
    "release_connection", "savepoint", "settled_before", "startup_lock", "unconnected_copy", "write_transaction",
]
