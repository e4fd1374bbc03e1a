"""Reading the values of one JSON object of a standards document, each reader reporting what it finds as a Fault and
returning the value read or the default its message names. Fault codes and severities are tabled in
api.services.apprenticeships.reading."""

import re
from dataclasses import dataclass, field
from datetime import date

from api.services.apprenticeships.records import Fault

ABSENT = object()
_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE | re.ASCII)
_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}", re.ASCII)
_PUBLISHED_DATE = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(?:T([0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.[0-9]+)?"
                             r"(?: ?(?:Z|[+-][0-9]{2}:[0-9]{2}))?)?", re.ASCII)
_FLAG_TEXTS = {"true": True, "false": False, "1": True, "0": False}
_DEEPEST_PLAIN_JSON = 64


@dataclass
class Node:
    """One JSON object being read: its keys, its JSON path, where faults go, and the keys older templates lack (their
    absence is a notice, any other key's a warning)."""

    data: dict
    path: str
    faults: list[Fault]
    optional: frozenset[str] = field(default_factory=frozenset)

    def at(self, key: str) -> str:
        return f"{self.path}.{key}"

    def fault(self, key: str, code: str, severity: str, message: str) -> None:
        self.faults.append(Fault(self.at(key), code, severity, message))

    def value(self, key: str, absent_means: str):
        """The value of ``key``, or ABSENT after a missing_key fault saying it was read as ``absent_means``."""
        if key in self.data:
            return self.data[key]
        severity = "notice" if key in self.optional else "warning"
        self.fault(key, "missing_key", severity, f"{key} is absent; read as {absent_means}.")
        return ABSENT

    def child(self, relative: str, entry, name: str, optional: frozenset[str] = frozenset()) -> "Node | None":
        """A Node for the object ``entry`` at ``relative``, or None after a not_an_object warning."""
        if isinstance(entry, dict):
            return Node(entry, self.at(relative), self.faults, optional)
        self.fault(relative, "not_an_object", "warning", f"{name} is {described(entry)}, not an object; it was left "
                   f"out, and {name} is not used by any other entry.")
        return None


def described(value) -> str:
    """The JSON type of ``value`` and, for a scalar, the value itself, for a message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {shown(value)}"
    if isinstance(value, str):
        return f"the string {shown(value)}" if value else "an empty string"
    if isinstance(value, list):
        return f"an array of {len(value)} entries" if value else "an empty array"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


# What no text column can hold (PostgreSQL refuses NUL, and UTF-8 has no lone surrogates) and no reader wants: C0
# control characters other than tab and line breaks, DEL, and lone UTF-16 surrogates (which JSON text may spell).
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def printable(value: str) -> tuple[str, int]:
    """``value`` without control characters (but tab and line breaks) and lone surrogates, and how many went."""
    return _UNSTORABLE.subn("", value)


def shown(value) -> str:
    """``value`` written for a message, long text and very large numbers shortened."""
    if isinstance(value, str):
        value = printable(value)[0]
        return '"' + (value if len(value) <= 60 else value[:57] + "...") + '"'
    if isinstance(value, int) and abs(value) >= 10**18:
        return "10^18 or more" if value > 0 else "-10^18 or less"
    return str(value)


def text(node: Node, key: str, *, required: bool = False, read_as: str = "not published") -> str | None:
    """The string at ``key``; None when absent, null or of another type (the message says ``read_as``). A
    ``required`` text that is absent, null or empty is a warning."""
    value = node.value(key, read_as)
    if isinstance(value, str):
        value, removed = printable(value)
        if removed:
            node.fault(key, "unstorable_character", "warning", f"{key} holds {removed} control character(s) or lone "
                       "surrogate(s); they were removed (the published object keeps them).")
        if required and not value.strip():
            node.fault(key, "missing_key", "warning", f"{key} is empty; kept as published.")
        return value
    if value is None and required:
        node.fault(key, "missing_key", "warning", f"{key} is null; read as {read_as}.")
    elif value is not ABSENT and value is not None:
        node.fault(key, "wrong_type", "warning", f"{key} is {described(value)}, not a string; read as {read_as}.")
    return None


def array(node: Node, key: str) -> list:
    """The array at ``key``; empty when absent, null (a notice) or of another type (a warning)."""
    value = node.value(key, "an empty array")
    if isinstance(value, list):
        return value
    if value is None:
        node.fault(key, "wrong_type", "notice", f"{key} is null; read as an empty array.")
    elif value is not ABSENT:
        node.fault(key, "wrong_type", "warning", f"{key} is {described(value)}, not an array; read as an empty array.")
    return []


def whole_number(node: Node, key: str, *, low: int, high: int, published_as_text: bool = False) -> int | None:
    """The whole number at ``key`` between ``low`` and ``high``; None when absent, null (or "" where the number is
    published as text) or unreadable. Digits given as text where a number is published (or the reverse) are read."""
    value = node.value(key, "none")
    if value is ABSENT or value is None or (published_as_text and value == ""):
        return None
    if isinstance(value, str):
        if not _WHOLE_NUMBER.fullmatch(value.strip()):
            node.fault(key, "invalid_number", "warning", f"{key} is {described(value)}, which is not a whole number; "
                       "read as none.")
            return None
        number = int(value)
        converted = not published_as_text or value != value.strip()
    elif not isinstance(value, bool) and (isinstance(value, int) or (isinstance(value, float) and value.is_integer())):
        number = int(value)
        converted = published_as_text or isinstance(value, float)
    else:
        node.fault(key, "wrong_type", "warning", f"{key} is {described(value)}, not a whole number; read as none.")
        return None
    if converted:
        node.fault(key, "wrong_type", "notice", f"{key} is {described(value)}; read as the whole number "
                   f"{shown(number)}.")
    if not low <= number <= high:
        node.fault(key, "invalid_number", "warning", f"{key} is {described(value)}, outside {low} to {high}; read "
                   "as none.")
        return None
    return number


def published_date(node: Node, key: str) -> date | None:
    """The calendar date at ``key`` as written (``2025-12-10``, ``2025-12-10T00:00:00``, ``2023-12-14T00:00:00
    +00:00``); None when absent, null, "" or unreadable."""
    value = node.value(key, "no date")
    if value is ABSENT or value is None or value == "":
        return None
    if not isinstance(value, str):
        node.fault(key, "wrong_type", "warning", f"{key} is {described(value)}, not a date; read as no date.")
        return None
    match = _PUBLISHED_DATE.fullmatch(value)
    try:
        day = date.fromisoformat(match[1]) if match else None
    except ValueError:
        day = None
    if day is None:
        node.fault(key, "invalid_date", "warning", f"{key} is {described(value)}, which is not a date; read as no "
                   "date.")
    elif match[2] and match[2] != "00:00:00":
        node.fault(key, "invalid_date", "notice", f"{key} {shown(value)} has a time of day; the date as written, "
                   f"{day.isoformat()}, was kept.")
    return day


def flag(node: Node, key: str, *, default: bool | None, published_as_number: bool = False) -> bool | None:
    """The flag at ``key``: a boolean, or 0 / 1 where ``published_as_number``; the other of those two forms and the
    texts "true", "false", "1", "0" are read with a notice; anything else is ``default``."""
    default_text = "unknown" if default is None else str(default).lower()
    value = node.value(key, default_text)
    if value is ABSENT:
        return default
    if isinstance(value, bool) or (isinstance(value, int) and value in (0, 1)):
        read = bool(value)
        if published_as_number == isinstance(value, bool):
            node.fault(key, "wrong_type", "notice", f"{key} is {described(value)}; read as {str(read).lower()}.")
        return read
    if isinstance(value, str) and value.strip().lower() in _FLAG_TEXTS:
        read = _FLAG_TEXTS[value.strip().lower()]
        node.fault(key, "string_boolean", "notice", f"{key} is {described(value)}; read as {str(read).lower()}.")
        return read
    node.fault(key, "wrong_type", "warning", f"{key} is {described(value)}, not a flag; read as {default_text}.")
    return default


LONGEST_ID = 64  # characters of an id that is not a GUID, kept as published


def normal_id(published: str) -> str:
    """A GUID lower-cased; any other text unchanged."""
    return published.lower() if _GUID.fullmatch(published) else published


def guid(node: Node, key: str, name: str) -> str | None:
    """The id at ``key``: a GUID lower-cased, other text kept as published (a warning), None when there is none."""
    value = node.value(key, "no id")
    if isinstance(value, str) and value.strip():
        if _GUID.fullmatch(value):
            return normal_id(value)
        if len(value) > LONGEST_ID or printable(value)[1]:
            node.fault(key, "wrong_type", "warning", f"{name}'s {key} is not a GUID, and is longer than {LONGEST_ID} "
                       f"characters or holds control characters; {name} was kept without an id (the published "
                       "object keeps it), so nothing can map to it.")
            return None
        node.fault(key, "wrong_type", "warning", f"{name}'s {key} {shown(value)} is not a GUID; kept as published.")
        return value
    if value is not ABSENT:
        code = "wrong_type" if value is not None and not isinstance(value, str) else "missing_key"
        node.fault(key, code, "warning", f"{name}'s {key} is {described(value)}; {name} was kept without an id, so "
                   "nothing can map to it.")
    return None


def note_repeat(node: Node, key: str, the_id: str, name: str, first_by_id: dict[str, tuple[str, str]]) -> None:
    """Record ``the_id`` as ``name``'s, or report repeated_id when an earlier entry has it."""
    if the_id not in first_by_id:
        first_by_id[the_id] = (name, node.path)
        return
    first_name, first_path = first_by_id[the_id]
    node.fault(key, "repeated_id", "warning", f"{key} {shown(the_id)} is already used by {first_name} at "
               f"{first_path}; {name} was kept too, and mappings to this id resolve to {first_name}.")


def plain_json(value, depth: int = 0):
    """A copy of ``value`` made of dicts, lists, strings, numbers, booleans and None; ABSENT if it holds anything
    else or is nested deeper than 64 levels."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if depth >= _DEEPEST_PLAIN_JSON:
        return ABSENT
    if isinstance(value, list):
        items = [plain_json(item, depth + 1) for item in value]
        return ABSENT if any(item is ABSENT for item in items) else items
    if isinstance(value, dict) and all(isinstance(name, str) for name in value):
        members = {name: plain_json(item, depth + 1) for name, item in value.items()}
        return ABSENT if any(item is ABSENT for item in members.values()) else members
    return ABSENT
