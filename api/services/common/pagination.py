"""Keyset (cursor) pagination: stable under inserts, constant cost per page, opaque cursors.

A cursor is the sort key of the last row a page showed, as JSON, encrypted and authenticated (AES-GCM-SIV) with a
key derived from the app's signing secret, the list's sort columns bound in as associated data. So a cursor reveals
nothing of the row it points after (a learner list sorts by name: no name may travel in a URL, a log or a proxy's
cache), only this API can make one, and a cursor of one list is refused by another: anything else (forged, edited,
truncated, from another deployment or from before the secret changed) is InvalidParameter (400), never a query.
The decoded key is also checked against the columns it will be compared with (integers within 64 bits, UUIDs, ISO
timestamps, strings of bounded length), so not even a cursor sealed with a leaked key reaches the database with a
value the database cannot compare. Sealing is deterministic (the same key gives the same cursor, which REST and
GraphQL parity relies on); AES-GCM-SIV is built for that: it reveals only that two cursors are equal.
"""

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

import peewee
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCMSIV

from api import db
from api.errors import InvalidParameter
from api.services.common.app_settings import signing_secret

MAX_CURSOR_LENGTH = 4096  # what a list or feed accepts; our own cursors stay far below it
MAX_KEY_TEXT = 1000  # characters of one text value in a sort key (the longest sorted column holds 255)
MIN_INT64, MAX_INT64 = -(2**63), 2**63 - 1
TOTAL_COUNTED_UP_TO = 10_000  # a list's total is exact up to here, else None: counting more would read every row
DEFAULT_SCOPE = "list"  # cursors not made by keyset_page: the change feed, GraphQL lists served whole
_NONCE = bytes(12)  # deterministic sealing: AES-GCM-SIV's nonce-misuse resistance makes a fixed nonce safe


@dataclass
class Page:
    """One page of results, the cursor for the next page (None at the end) and the total matching count (None when
    more than TOTAL_COUNTED_UP_TO match)."""

    items: list
    next_cursor: str | None
    total: int | None
    keys: list = field(default_factory=list)  # each item's sort key, for per-item cursors (GraphQL edges)
    scope: str = DEFAULT_SCOPE  # what the cursors are bound to (the sort columns)

    def cursor_at(self, index: int) -> str:
        """The cursor that resumes after item ``index`` of this page."""
        return encode_cursor(self.keys[index], self.scope)


def encode_cursor(key: list, scope: str = DEFAULT_SCOPE) -> str:
    """An opaque cursor for the row whose sort key is ``key``, valid only for lists sorted as ``scope`` names."""
    plain = json.dumps(key, separators=(",", ":"), ensure_ascii=False).encode()
    return _b64(_sealer(signing_secret()).encrypt(_NONCE, plain, scope.encode()))


def decode_cursor(cursor: str, length: int, scope: str = DEFAULT_SCOPE, parameter: str = "cursor") -> list:
    """The sort key inside ``cursor`` (``length`` strings or 64-bit integers); InvalidParameter (400) naming
    ``parameter`` unless this API issued it for ``scope``."""
    key = None
    if len(cursor) <= MAX_CURSOR_LENGTH:
        try:
            if "." in cursor:  # never in a sealed cursor
                key = _signed_key(cursor, scope)
            else:
                key = json.loads(_sealer(signing_secret()).decrypt(_NONCE, _unb64(cursor), scope.encode()))
        except (binascii.Error, ValueError, UnicodeError, InvalidTag):
            key = None
    if not (isinstance(key, list) and len(key) == length and all(map(_plain_value, key))):
        raise _not_ours(parameter)
    return key


def keyset_page(query, sort_fields: list, cursor: str | None, limit: int, key_of, *, indexed: bool = False) -> Page:
    """Run ``query`` ordered by ``sort_fields`` (ascending, last one unique) from after ``cursor``.

    ``key_of(row)`` returns a row's sort key as a JSON-able list. Two queries: the page (limit + 1 rows) and a count
    that stops past TOTAL_COUNTED_UP_TO, so a page of a list of millions costs what a page of a short one does.
    ``indexed``: an index serves ``sort_fields`` in this order, so the count may follow it (db.capped_count).
    """
    scope = ",".join(f"{f.model._meta.table_name}.{f.column_name}" for f in sort_fields)
    counted = db.capped_count(query, TOTAL_COUNTED_UP_TO + 1, sort_fields if indexed else ())
    total = counted if counted <= TOTAL_COUNTED_UP_TO else None
    if cursor:
        key = decode_cursor(cursor, len(sort_fields), scope)
        if not all(_fits(f, k) for f, k in zip(sort_fields, key, strict=True)):
            raise _not_ours("cursor")
        query = query.where(_after(sort_fields, key))
    rows = list(query.order_by(*sort_fields).limit(limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    keys = [key_of(row) for row in rows]
    return Page(rows, encode_cursor(keys[-1], scope) if more and rows else None, total, keys, scope)


def _not_ours(parameter: str) -> InvalidParameter:
    return InvalidParameter(f"{parameter} is not valid: pass back the next_cursor value of a previous page of the same "
                            "list unchanged, with the same sort as that request, or start again from the first page",
                            errors={parameter: ["not a cursor issued by this API for this list"]})


def _plain_value(value) -> bool:
    """A string of bounded length or an integer within 64 bits (what a sort key may hold)."""
    if isinstance(value, str):
        return len(value) <= MAX_KEY_TEXT
    return isinstance(value, int) and not isinstance(value, bool) and MIN_INT64 <= value <= MAX_INT64


def _fits(column: peewee.Field, value) -> bool:
    """Whether ``value`` can be compared with ``column`` on every backend (its type, range and length)."""
    if isinstance(column, peewee.IntegerField | peewee.AutoField):
        return isinstance(value, int)
    if not isinstance(value, str):
        return False
    if isinstance(column, peewee.UUIDField):
        return _parses(uuid.UUID, value)
    if isinstance(column, peewee.DateTimeField):
        return _parses(datetime.fromisoformat, value)
    max_length = getattr(column, "max_length", None)
    return max_length is None or len(value) <= max_length


def _parses(parse, value: str) -> bool:
    try:
        parse(value)
    except ValueError:
        return False
    return True


def _after(fields: list, key: list):
    """(f1, f2, ...) > (k1, k2, ...), written portably as nested OR/AND."""
    first, rest = fields[0], fields[1:]
    if not rest:
        return first > key[0]
    return (first > key[0]) | ((first == key[0]) & _after(rest, key[1:]))


def _signed_key(cursor: str, scope: str):
    """The key of a cursor as earlier releases issued it (the key's JSON in base64, a dot, an HMAC of it), so that
    positions clients stored, such as a change-feed ``since``, stay valid; None unless its HMAC is right."""
    payload, _, mac = cursor.partition(".")
    expected = hmac.new(_signing_key(signing_secret()), f"{scope}\n{payload}".encode(), hashlib.sha256).digest()[:16]
    return json.loads(_unb64(payload)) if hmac.compare_digest(mac.encode(), _b64(expected).encode()) else None


@lru_cache(maxsize=4)
def _signing_key(secret: str) -> bytes:
    """The HMAC key of the cursors earlier releases issued, derived from the signing secret once."""
    return hmac.new(secret.encode(), b"qualtrack pagination cursor v1", hashlib.sha256).digest()


@lru_cache(maxsize=4)
def _sealer(secret: str) -> AESGCMSIV:
    """The cipher for cursors, keyed by a key for cursors only, derived from the signing secret."""
    return AESGCMSIV(hmac.new(secret.encode(), b"qualtrack pagination cursor v2", hashlib.sha256).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
