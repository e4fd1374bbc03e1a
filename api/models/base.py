"""Base model, field helpers and deterministic ids shared by every model module."""

import json
import uuid
from datetime import UTC, datetime

import orjson
import peewee

from api.db import database_proxy

# Content ids are UUIDv5 of a natural key, so the same data/units loaded into any fresh database gets the same ids.
CONTENT_NAMESPACE = uuid.UUID("6f1c2f0e-3c1b-5d3a-9a43-2b5f4e0f7a11")


def content_id(*parts: object) -> uuid.UUID:
    """Deterministic id for a piece of content named by ``parts`` (e.g. ('unit', 'skills-cfa', 'CS 34'))."""
    return uuid.uuid5(CONTENT_NAMESPACE, "\x1f".join(str(p) for p in parts))


def utcnow() -> datetime:
    """The current time in UTC as a naive datetime: every timestamp column holds UTC (both backends)."""
    return datetime.now(UTC).replace(tzinfo=None)


def iso_utc(value: datetime | None) -> str | None:
    """Render a stored (naive UTC) timestamp as ISO 8601 with a Z suffix, for API output."""
    return None if value is None else value.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


class JSONTextField(peewee.TextField):
    """JSON stored as text: the same on SQLite and PostgreSQL; only ever rendered, never queried into."""

    def db_value(self, value):
        """Compact JSON with sorted keys, by orjson (json.dumps took many times as long, on every decision write);
        what orjson refuses (integers beyond 64 bits, lone surrogates) is written by json.dumps, in ASCII."""
        if value is None:
            return None
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS).decode()
        except TypeError:  # orjson.JSONEncodeError is a TypeError
            return json.dumps(value, sort_keys=True, separators=(",", ":"))  # ASCII: a lone surrogate is escaped

    def python_value(self, value):
        return None if value is None else json.loads(value)


class BaseModel(peewee.Model):
    """Every table: bound to the one Database proxy, snake_case table names."""

    class Meta:
        database = database_proxy
        legacy_table_names = False
