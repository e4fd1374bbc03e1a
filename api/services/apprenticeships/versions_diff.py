"""What changed between two read versions of one standard: KSBs and duties added, removed, reworded or recoded,
duties whose KSB mappings changed, and changed scalar fields.

KSBs and duties are matched by (GUID, occurrence): the n-th entry with a GUID in the old version is the n-th entry
with that GUID in the new one, so a repeated GUID pairs up in order. Entries without an id cannot be matched and are
listed as removed and added. A KSB is reworded when its published text (``detail_source``) changed, recoded when
its code changed (K3 -> K4, or K3 -> S1 when its kind changed); one KSB can be both."""

from collections import Counter
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from api.services.apprenticeships.records import Duty, StandardVersion

COMPARED_FIELDS = ("title", "level", "status", "route", "lars_code", "minimum_otj_hours", "typical_duration_months",
                   "earliest_start_date", "latest_start_date", "latest_end_date", "core_and_options")


@dataclass(frozen=True)
class Entry:
    """A KSB or duty present in only one of the two versions."""

    item_id: str | None
    occurrence: int
    code: str
    text: str


@dataclass(frozen=True)
class Reworded:
    item_id: str
    occurrence: int
    old_code: str
    new_code: str
    old_text: str
    new_text: str


@dataclass(frozen=True)
class Recoded:
    item_id: str
    occurrence: int
    old_code: str
    new_code: str


@dataclass(frozen=True)
class MappingChange:
    """A duty (in both versions) whose KSB mappings changed: ids added or removed, with the codes of those that
    resolve (added: codes in the new version; removed: codes in the old)."""

    duty_id: str
    occurrence: int
    old_code: str
    new_code: str
    ksb_ids_added: tuple[str, ...]
    ksb_ids_removed: tuple[str, ...]
    ksb_codes_added: tuple[str, ...]
    ksb_codes_removed: tuple[str, ...]


@dataclass(frozen=True)
class VersionDiff:
    reference_number: str
    old_version: str
    new_version: str
    ksbs_added: tuple[Entry, ...]
    ksbs_removed: tuple[Entry, ...]
    ksbs_reworded: tuple[Reworded, ...]
    ksbs_recoded: tuple[Recoded, ...]
    duties_added: tuple[Entry, ...]
    duties_removed: tuple[Entry, ...]
    duties_reworded: tuple[Reworded, ...]
    duties_recoded: tuple[Recoded, ...]
    duty_mappings_changed: tuple[MappingChange, ...]
    fields_changed: tuple[tuple[str, Any, Any], ...]

    @property
    def changed(self) -> bool:
        return any(getattr(self, name.name) for name in fields(self)[3:])

    def to_dict(self) -> dict:
        """The diff as JSON values: records as objects, tuples as arrays, dates as ISO 8601 text; each entry of
        ``fields_changed`` as {"field", "old", "new"}."""
        result = {name.name: _json_value(getattr(self, name.name)) for name in fields(self)}
        result["fields_changed"] = [{"field": name, "old": _json_value(old), "new": _json_value(new)}
                                    for name, old, new in self.fields_changed]
        return result


def diff_versions(old: StandardVersion, new: StandardVersion) -> VersionDiff:
    """What changed from ``old`` to ``new``; ValueError if they are versions of different standards."""
    if old.reference_number != new.reference_number:
        raise ValueError(f"{old.reference_number} and {new.reference_number} are different standards")
    ksbs = _compare(old.ksbs, new.ksbs, lambda ksb: ksb.ksb_id, lambda ksb: ksb.detail_source)
    duties = _compare(old.duties, new.duties, lambda duty: duty.duty_id, lambda duty: duty.detail_source)
    return VersionDiff(
        old.reference_number, old.version, new.version, *ksbs[:4], *duties[:4],
        duty_mappings_changed=tuple(change for key, (old_duty, new_duty) in duties[4].items()
                                    if (change := _mapping_change(key[1], old_duty, new_duty)) is not None),
        fields_changed=tuple((name, getattr(old, name), getattr(new, name)) for name in COMPARED_FIELDS
                             if getattr(old, name) != getattr(new, name)))


def _keyed(items, id_of) -> tuple[dict[tuple[str, int], Any], list]:
    """Items with an id by (id, occurrence), and the items without one."""
    keyed, unidentified, seen = {}, [], Counter()
    for item in items:
        item_id = id_of(item)
        if item_id is None:
            unidentified.append(item)
            continue
        keyed[(item_id, seen[item_id])] = item
        seen[item_id] += 1
    return keyed, unidentified


def _compare(old_items, new_items, id_of, text_of) -> tuple:
    """(added, removed, reworded, recoded, {key: (old, new)} of the matched items)."""
    old_keyed, old_unidentified = _keyed(old_items, id_of)
    new_keyed, new_unidentified = _keyed(new_items, id_of)
    matched = {key: (old_keyed[key], new_keyed[key]) for key in old_keyed if key in new_keyed}

    def entries(keyed, unidentified, other):
        listed = [(key, item) for key, item in keyed.items() if key not in other]
        listed += [((None, 0), item) for item in unidentified]
        return tuple(Entry(key[0], key[1], item.code, text_of(item)) for key, item in listed)

    reworded = tuple(Reworded(key[0], key[1], old.code, new.code, text_of(old), text_of(new))
                     for key, (old, new) in matched.items() if text_of(old) != text_of(new))
    recoded = tuple(Recoded(key[0], key[1], old.code, new.code)
                    for key, (old, new) in matched.items() if old.code != new.code)
    return (entries(new_keyed, new_unidentified, old_keyed), entries(old_keyed, old_unidentified, new_keyed),
            reworded, recoded, matched)


def _mapping_change(occurrence: int, old: Duty, new: Duty) -> MappingChange | None:
    old_ids = old.ksb_ids + old.unresolved_ksb_ids
    new_ids = new.ksb_ids + new.unresolved_ksb_ids
    added = tuple(dict.fromkeys(ksb_id for ksb_id in new_ids if ksb_id not in old_ids))
    removed = tuple(dict.fromkeys(ksb_id for ksb_id in old_ids if ksb_id not in new_ids))
    if not added and not removed:
        return None
    return MappingChange(new.duty_id, occurrence, old.code, new.code, added, removed,
                         _codes_of(new, added), _codes_of(old, removed))


def _codes_of(duty: Duty, ksb_ids: tuple[str, ...]) -> tuple[str, ...]:
    code_by_id = dict(zip(duty.ksb_ids, duty.ksb_codes, strict=True))
    return tuple(code_by_id[ksb_id] for ksb_id in ksb_ids if ksb_id in code_by_id)


def _json_value(value):
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_json_value(item) for item in value]
    if isinstance(value, Entry | Reworded | Recoded | MappingChange):
        return {name.name: _json_value(getattr(value, name.name)) for name in fields(value)}
    return value
