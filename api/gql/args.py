"""Resolver helpers: arguments checked by the same marshmallow schemas as REST query parameters (the same rules and
messages), page sizes, and REST's 404 as null."""

import uuid
from datetime import date, datetime

from marshmallow import Schema, ValidationError

from api.errors import InvalidParameter, NotFound


def _raw(value):
    if isinstance(value, uuid.UUID | date | datetime):
        return value.isoformat() if not isinstance(value, uuid.UUID) else str(value)
    return value


def validated(schema: Schema, **arguments) -> dict:
    """Every argument named, loaded by ``schema`` (a REST parameter schema; None when not given), ready to pass to
    the service; InvalidParameter naming each bad one. ``after`` is checked and returned as REST's ``cursor``; page
    sizes are checked separately (api.gql.limits)."""
    raw = {("cursor" if name == "after" else name): _raw(value) for name, value in arguments.items()
           if value is not None}
    try:
        loaded = schema.load(raw)
    except ValidationError as exc:
        errors = {("after" if k == "cursor" else k): v for k, v in exc.normalized_messages().items()}
        raise InvalidParameter(f"invalid arguments: {', '.join(sorted(errors))}", errors=errors) from None
    return {("cursor" if name == "after" else name): loaded.get("cursor" if name == "after" else name)
            for name in arguments}


def page_size(info, first: int | None) -> int:
    """`first` checked against the configured limits (api.gql.limits.checked_page_size)."""
    from api.gql.limits import checked_page_size

    return checked_page_size(first, info.context.limits)


def or_none(read):
    """The result of ``read()``, or None where REST would answer 404."""
    try:
        return read()
    except NotFound:
        return None
