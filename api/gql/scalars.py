"""Date and DateTime as this API writes them: the REST bodies the GraphQL types are made from already hold ISO text
(UTC times end in Z), which is served as it is, so REST and GraphQL agree to the character; a date or datetime
object is written with isoformat. Reading them as input is strawberry's own parsing."""

import dataclasses
import datetime as dt

from strawberry.schema.types.base_scalars import DateDefinition, DateTimeDefinition


def _iso(value) -> str:
    return value if isinstance(value, str) else value.isoformat()


SCALAR_OVERRIDES = {dt.datetime: dataclasses.replace(DateTimeDefinition, serialize=_iso),
                    dt.date: dataclasses.replace(DateDefinition, serialize=_iso)}
