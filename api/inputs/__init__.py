"""Input schemas (marshmallow) shared by the REST and GraphQL edges: the same shape checks and messages for both."""

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
