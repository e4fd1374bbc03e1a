"""The sync horizon: a time before which every row's ``updated_at`` belongs to a change that is already committed (or
rolled back), so a list in ``updated_at`` order can hand out the rows before it without a later commit landing
behind a client that has paged past it.

Writers stamp ``updated_at`` inside their transaction. On SQLite one writer at a time takes the write lock as its
transaction begins, stamps and commits, so stamps are committed in their order: every row is settled. On PostgreSQL
writers run side by side, and one that stamped earlier can commit later: the horizon is the start of the oldest
transaction still open on the database (by this role) that holds a transaction id, since whatever it writes is
stamped after it began, or now when none is open. Our transactions take their id as they begin
(connections.WritersShowFromBegin), so a writer counts from BEGIN, before it stamps anything, while a reader's
transaction, which never takes one, holds nothing back. App hosts stamp with their own clocks, so they must keep
them in step with the database's (NTP).
"""

from datetime import datetime

from api.db.connections import database_proxy, is_sqlite

OLDEST_OPEN_TRANSACTION_SQL = """
SELECT coalesce(min(xact_start), now()) AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
FROM pg_stat_activity
WHERE datname = current_database() AND usename = current_user AND backend_type = 'client backend'
  AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()
"""


def settled_before() -> datetime | None:
    """The horizon as a naive UTC time (rows stamped before it are settled), or None where every committed row is
    settled (SQLite)."""
    if is_sqlite():
        return None
    oldest, now = database_proxy.obj.execute_sql(OLDEST_OPEN_TRANSACTION_SQL).fetchone()
    return min(oldest, now)
