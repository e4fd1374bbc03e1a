"""What api.services.apprenticeships.reading produces: frozen records of published standard versions, their KSBs, duties
and options, and the faults found while reading them. Every collection is a tuple; nothing here touches a database.

Positions are 1-based and count every entry of the published array, including entries that could not be read, so a
code (K3, S1, B2, D4) always names the same published entry. Paths are JSON paths from the document root with 0-based
indexes (``$.knowledges[2]`` is K3)."""

from dataclasses import dataclass
from datetime import date
from typing import Any

SEVERITIES = ("error", "warning", "notice")
STATUSES = ("approved", "retired", "in_development", "withdrawn")
KSB_KINDS = ("knowledge", "skill", "behaviour")


@dataclass(frozen=True)
class Fault:
    """Something found while reading. ``severity``: "error" (the version at ``path`` was left out), "warning"
    (accepted with the repair ``message`` states) or "notice" (normalised, nothing lost)."""

    path: str
    code: str
    severity: str
    message: str

    def to_dict(self) -> dict:
        return {"path": self.path, "code": self.code, "severity": self.severity, "message": self.message}


@dataclass(frozen=True)
class Ksb:
    """One knowledge, skill or behaviour. ``ksb_id`` is the published GUID lower-cased (or the published text when it
    is not a GUID, None when there was none); ``detail`` is ``detail_source`` with HTML entities decoded."""

    ksb_id: str | None
    kind: str
    code: str
    position: int
    detail: str
    detail_source: str
    source_path: str


@dataclass(frozen=True)
class StandardOption:
    """One structured option (``options[]``) of a core-and-options standard."""

    option_id: str | None
    title: str | None
    occupation_code: str | None
    position: int
    source_path: str


@dataclass(frozen=True)
class Duty:
    """One duty. ``ksb_ids`` are the KSBs its mappings resolve to, in published order (mappedKnowledge, mappedSkills,
    mappedBehaviour) with ``ksb_codes`` beside them; GUIDs naming nothing in the version are ``unresolved_ksb_ids``.
    ``is_core`` is None when the published value could not be read."""

    duty_id: str | None
    code: str
    position: int
    detail: str
    detail_source: str
    is_core: bool | None
    ksb_ids: tuple[str, ...]
    ksb_codes: tuple[str, ...]
    unresolved_ksb_ids: tuple[str, ...]
    option_ids: tuple[str, ...]
    unresolved_option_ids: tuple[str, ...]
    criteria: str | None
    criteria_source: str | None
    source_path: str


@dataclass(frozen=True)
class StandardVersion:
    """One published version of one standard, keyed by (``reference_number``, ``version``).

    ``status`` is one of STATUSES, or None when the published ``status_source`` is not a status DfE publishes.
    ``minimum_otj_hours`` (None when none is published) can change within a version: ``minimum_otj_hours_read_on``
    is the day it was read. Text published as escaped HTML is kept as ``*_source`` and decoded beside it.
    ``unstructured_options_ksb_mapping`` holds the published ``optionsUnstructuredKsbMapping`` entries as plain JSON
    values, unchanged."""

    reference_number: str
    version: str
    version_number: str | None
    title: str
    title_source: str
    level: int | None
    status: str | None
    status_source: str | None
    route: str | None
    lars_code: int | None
    typical_duration_months: int | None
    earliest_start_date: date | None
    latest_start_date: date | None
    latest_end_date: date | None
    approved_for_delivery: date | None
    minimum_otj_hours: int | None
    minimum_otj_hours_read_on: date
    core_and_options: bool
    options: tuple[StandardOption, ...]
    unstructured_options: tuple[str, ...]
    unstructured_options_ksb_mapping: tuple[Any, ...]
    ksbs: tuple[Ksb, ...]
    duties: tuple[Duty, ...]
    overview_of_role: str | None
    overview_of_role_source: str | None
    standard_information: str | None
    standard_information_source: str | None
    occupational_summary: str | None
    occupational_summary_source: str | None
    change_note: str | None
    changed_date: date | None
    url: str | None
    last_updated: date | None
    source_path: str

    @property
    def knowledges(self) -> tuple[Ksb, ...]:
        return tuple(ksb for ksb in self.ksbs if ksb.kind == "knowledge")

    @property
    def skills(self) -> tuple[Ksb, ...]:
        return tuple(ksb for ksb in self.ksbs if ksb.kind == "skill")

    @property
    def behaviours(self) -> tuple[Ksb, ...]:
        return tuple(ksb for ksb in self.ksbs if ksb.kind == "behaviour")


@dataclass(frozen=True)
class StandardsReading:
    """The versions that could be read, in document order, and every fault found (errors name versions left out)."""

    versions: tuple[StandardVersion, ...]
    faults: tuple[Fault, ...]

    @property
    def errors(self) -> tuple[Fault, ...]:
        return tuple(fault for fault in self.faults if fault.severity == "error")

    @property
    def warnings(self) -> tuple[Fault, ...]:
        return tuple(fault for fault in self.faults if fault.severity == "warning")
