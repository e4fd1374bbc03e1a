"""Input schemas (marshmallow) shared by the REST and GraphQL edges: the same shape checks and messages for both.

Bodies are strict JSON (api.inputs.strict): exact types, unknown fields refused, and an operation that takes no body
refuses one rather than ignoring it.
"""

from functools import wraps

from marshmallow import Schema, ValidationError

from api.errors import ValidationFailed


def load_body(schema: Schema, body: dict, *, partial: bool = False) -> dict:
    """``body`` loaded by ``schema``; ValidationFailed (422) naming each bad field ("list[0].field") otherwise."""
    try:
        return schema.load(body, partial=partial)
    except ValidationError as exc:
        errors = flatten_errors(exc.normalized_messages())
        raise ValidationFailed(f"the body is not valid: {', '.join(sorted(errors))}", errors=errors) from None


def flatten_errors(messages, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested error dict as {"field", "list[0].field": [messages]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}[{key}]" if isinstance(key, int) else (f"{prefix}.{key}" if prefix else str(key))
            flat.update(flatten_errors(value, name))
    else:
        values = messages if isinstance(messages, list) else [messages]
        flat[prefix or "_body"] = ["unknown field" if m == "Unknown field." else str(m) for m in values]
    return flat


def takes_no_body(view):
    """Mark a REST view whose operation takes no request body: an empty body or ``{}`` is fine, anything else is
    refused (415 if not JSON, 400 if malformed, 422 naming each field as unknown) instead of being silently ignored.
    Put it under @write_endpoint, so a missing token is reported first."""
    from flask import request

    from api.errors import InvalidParameter, UnsupportedMediaType
    from api.inputs.strict import StrictBody

    nothing = StrictBody()

    @wraps(view)
    def wrapper(*args, **kwargs):
        if request.content_length or request.get_data(cache=True):
            if request.mimetype != "application/json":
                raise UnsupportedMediaType("this operation takes no body: send none (or the JSON object {})")
            body = request.get_json(silent=True)
            if not isinstance(body, dict):
                raise InvalidParameter("this operation takes no body: send none (or the JSON object {})")
            load_body(nothing, body)
        return view(*args, **kwargs)

    return wrapper
