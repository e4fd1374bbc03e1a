"""Strict JSON for request bodies: each field takes exactly its JSON type (no "yes", 1 or "true" for a boolean, no
"0.5" for a number, no 123 for a string), and unknown fields are refused.

Every body schema derives from StrictBody, which refuses at definition time a field that would coerce (marshmallow's
own Boolean, Integer, Float, Decimal, Number, Raw) and a nested schema that is not strict itself, so a new schema
cannot quietly bring coercion back.
"""

import math
import re

from marshmallow import RAISE, Schema, fields

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class JsonBoolean(fields.Boolean):
    """true or false, and nothing else (marshmallow's Boolean takes "yes", 1, "on", ...)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value is True or value is False:
            return value
        raise self.make_error("invalid")


class JsonNumber(fields.Float):
    """A finite JSON number (3 or 3.5); not a string, not a boolean."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.make_error("special")
        try:
            return float(value)
        except OverflowError:
            raise self.make_error("too_large") from None


class JsonInteger(fields.Integer):
    """An integer as JSON Schema means it: 3 and 3.0 are integers; "3", true and 3.5 are not."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
            raise self.make_error("invalid")
        return int(value)


class JsonUUID(fields.UUID):
    """A UUID written as a string in its usual 8-4-4-4-12 hex form (not braces, URNs or bare hex)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not _UUID.fullmatch(value):
            raise self.make_error("invalid_uuid")
        return super()._deserialize(value, attr, data, **kwargs)


class JsonDate(fields.Date):
    """A calendar date written YYYY-MM-DD (RFC 3339 full-date), as openapi.yaml says."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


COERCING_FIELDS = (fields.Boolean, fields.Number, fields.UUID, fields.Date, fields.Raw)
STRICT_FIELDS = (JsonBoolean, JsonNumber, JsonInteger, JsonUUID, JsonDate)


class StrictBody(Schema):
    """Base of every request-body schema: unknown fields are an error, and only strict fields may be declared."""

    class Meta:
        unknown = RAISE

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        _require_strict(f"{type(self).__name__}.{field_name}", field_obj)


def _require_strict(name: str, field: fields.Field) -> None:
    if isinstance(field, COERCING_FIELDS) and not isinstance(field, STRICT_FIELDS):
        raise TypeError(f"{name}: {type(field).__name__} coerces its input; use one of "
                        f"{', '.join(t.__name__ for t in STRICT_FIELDS)} (api.inputs.strict)")
    if isinstance(field, fields.List):
        _require_strict(f"{name}[]", field.inner)
    if isinstance(field, fields.Nested) and not isinstance(field.schema, StrictBody):
        raise TypeError(f"{name}: nested schema {type(field.schema).__name__} must derive from StrictBody")
