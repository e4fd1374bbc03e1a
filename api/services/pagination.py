"""Keyset (cursor) pagination: stable under inserts, constant cost per page, opaque cursors."""

import base64
import binascii
import json
from dataclasses import dataclass, field

from api.errors import InvalidParameter


@dataclass
class Page:
    """One page of results, the cursor for the next page (None at the end) and the total matching count."""

    items: list
    next_cursor: str | None
    total: int
    keys: list = field(default_factory=list)  # each item's sort key, for per-item cursors (GraphQL edges)

    def cursor_at(self, index: int) -> str:
        """The cursor that resumes after item ``index`` of this page."""
        return encode_cursor(self.keys[index])


def encode_cursor(key: list) -> str:
    """An opaque cursor for the row whose sort key is ``key``."""
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, length: int) -> list:
    """The sort key inside ``cursor``; InvalidParameter if it is not one of ours."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        key = None
    if not isinstance(key, list) or len(key) != length or not all(isinstance(k, str | int) for k in key):
        raise InvalidParameter("cursor is not valid: pass back the next_cursor value of a previous page unchanged",
                               errors={"cursor": ["not a cursor issued by this API"]})
    return key


def keyset_page(query, sort_fields: list, cursor: str | None, limit: int, key_of) -> Page:
    """Run ``query`` ordered by ``sort_fields`` (ascending, last one unique) from after ``cursor``.

    ``key_of(row)`` returns a row's sort key as a JSON-able list. Two queries: the page (limit + 1 rows) and a count.
    """
    total = query.order_by().count()
    if cursor:
        key = decode_cursor(cursor, len(sort_fields))
        query = query.where(_after(sort_fields, key))
    rows = list(query.order_by(*sort_fields).limit(limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    keys = [key_of(row) for row in rows]
    return Page(rows, encode_cursor(keys[-1]) if more and rows else None, total, keys)


def _after(fields: list, key: list):
    """(f1, f2, ...) > (k1, k2, ...), written portably as nested OR/AND."""
    first, rest = fields[0], fields[1:]
    if not rest:
        return first > key[0]
    return (first > key[0]) | ((first == key[0]) & _after(rest, key[1:]))
