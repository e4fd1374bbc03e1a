"""Which row of a file a key (a ULN, an external id) first appeared on, for files of any length in flat memory."""

import sqlite3

import orjson


class FirstRows:
    """Remembers the first row of each key, a batch at a time, in a private temporary SQLite database on disk
    (deleted when closed): a dict of every key would grow with the file, however long; this holds only SQLite's
    page cache (its default size, 2 MB). Keys are strings."""

    def __init__(self):
        self.db = sqlite3.connect("", isolation_level=None)  # "" is a temporary database on disk
        self.db.execute("CREATE TABLE first_row (key TEXT PRIMARY KEY, row INTEGER NOT NULL) WITHOUT ROWID")

    def earlier(self, batch: dict[str, int]) -> dict[str, int]:
        """Of ``batch`` (key -> its first row in this batch), the keys already seen in an earlier batch, with the row
        they were first seen on; the others are remembered from now on."""
        if not batch:
            return {}
        keys = orjson.dumps(batch).decode()  # one parameter, expanded by json_each: no per-key work in Python
        added = self.db.execute("INSERT OR IGNORE INTO first_row SELECT key, value FROM json_each(?)", (keys,))
        if added.rowcount == len(batch):  # every key is new (the usual case): nothing to look up
            return {}
        return dict(self.db.execute("SELECT f.key, f.row FROM json_each(?) AS j CROSS JOIN first_row AS f "
                                    "ON f.key = j.key WHERE f.row <> j.value", (keys,)))

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "FirstRows":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
