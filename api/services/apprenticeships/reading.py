"""Reading Skills England apprenticeship standards JSON into StandardVersion records, with a report of every fault.

The input is what ``GET /api/apprenticeshipstandards`` returns (an array of standard versions) or one standard
version object, already parsed (``read_standards``) or as bytes (``read_standards_bytes``). Nothing in the input can
make the reader raise: whatever is not what the published shape says becomes a Fault and a documented repair.

KSB codes are positions, as DfE's importer (das-courses-api ``Ksb``) numbers them: the n-th entry of ``knowledges``
is Kn, of ``skills`` Sn, of ``behaviours`` Bn, of ``duties`` Dn, counting every entry, read or not. A duty's mapping
resolves within its own kind (``mappedSkills`` among skills) and to the first of repeated ids.

Fault codes (severity: "error" = the version was left out, "warning" = kept with the repair the message states,
"notice" = normalised, nothing lost):

=================  ==========  ===================================================================================
code               severity    found, and what the reader did
=================  ==========  ===================================================================================
invalid_json       error       bytes that are not UTF-8 or not JSON (NaN, Infinity, over-deep nesting included);
                               nothing was read
not_an_object      error       the document, or an element of the top-level array, is not an object; left out
not_an_object      warning     a KSB, duty or option entry is not an object; left out, its code stays unused
missing_key        error       ``referenceNumber`` or ``version`` absent, null or empty; the version left out
missing_key        warning     a key every version publishes is absent (or a required text null or empty); the
                               message names the default taken (empty text, none, unknown)
missing_key        notice      a key older templates lack is absent (_VERSION_KEYS_OLDER_TEMPLATES_LACK, a duty's
                               mappings and criteria, an option's occupationCode); read as none / empty
wrong_type         error       ``referenceNumber`` or ``version`` is not a string, or not 1 to 16 letters, digits,
                               '.', '-' or '_'; the version left out
wrong_type         warning     a value of the wrong JSON type, or an id that is not a GUID (kept as published;
                               without an id if longer than 64 characters);
                               the default taken is in the message
wrong_type         notice      a number given as a digit string or as 3.0, null for an array, a 0/1 flag given
                               as a boolean or a boolean as 0/1; converted
repeated_id        warning     a KSB, duty or option GUID used twice in a version; both kept in order, the later
                               reported, mappings resolve to the first
unknown_reference  warning     a duty maps a GUID no KSB (option) of its kind has; kept in ``unresolved_*_ids``
                               (a KSB of another kind is resolved to that KSB)
invalid_date       warning     a date that is not ``YYYY-MM-DD[THH:MM:SS[ +00:00]]``; read as none
invalid_date       notice      a time of day other than midnight; the date as written was kept
string_boolean     notice      a flag given as the string "true" / "false" / "1" / "0"; converted
invalid_number     warning     a whole number that is not one (``"abc"``, ``"-5"``) or out of range; read as none
unknown_status     warning     a status DfE does not publish; ``status`` is None, ``status_source`` keeps the text
unknown_status     notice      a published status in other letter case or spacing; read as that status
unstorable_character warning   a text holds control characters (but tab and line breaks) or lone surrogates;
                               they were removed (the published object keeps them)
repeated_version   warning     the first of two objects with one (referenceNumber, version); kept
repeated_version   error       the later of them; left out
=================  ==========  ===================================================================================
"""

import html
import json
import re
from collections.abc import Iterator
from datetime import date

from api.services.apprenticeships import fields
from api.services.apprenticeships.fields import (
    ABSENT,
    Node,
    array,
    flag,
    guid,
    normal_id,
    published_date,
    text,
    whole_number,
)
from api.services.apprenticeships.records import Duty, Fault, Ksb, StandardOption, StandardsReading, StandardVersion

# das-courses-api SFA.DAS.Courses.Domain.Courses.Status: every status text the standards API publishes.
PUBLISHED_STATUSES = {"Approved for delivery": "approved", "Retired": "retired", "In development": "in_development",
                      "Proposal in development": "in_development", "Withdrawn": "withdrawn"}
_STATUS_BY_FOLDED_TEXT = {" ".join(text_.split()).casefold(): status for text_, status in PUBLISHED_STATUSES.items()}

_KEY_TEXT = re.compile(r"[A-Za-z0-9._-]{1,16}")  # a reference number (ST0384) or a version (1.4), as URLs name them
_KSB_ARRAYS = (("knowledges", "knowledgeId", "knowledge", "K"), ("skills", "skillId", "skill", "S"),
               ("behaviours", "behaviourId", "behaviour", "B"))
_DUTY_MAPPINGS = (("mappedKnowledge", "knowledge"), ("mappedSkills", "skill"), ("mappedBehaviour", "behaviour"))
_VERSION_KEYS_OLDER_TEMPLATES_LACK = frozenset({
    "versionNumber", "change", "changedDate", "latestStartDate", "latestEndDate", "approvedForDelivery", "lastUpdated",
    "minimumHoursForCompliance", "coreAndOptions", "options", "duties", "optionsUnstructuredTemplate",
    "optionsUnstructuredKsbMapping", "standardInformation", "occupationalSummary", "url"})
_DUTY_KEYS_OLDER_TEMPLATES_LACK = frozenset({"mappedKnowledge", "mappedSkills", "mappedBehaviour", "mappedOptions",
                                             "criteriaForMeasuringPerformance"})


def read_standards_bytes(raw: bytes, *, read_on: date) -> StandardsReading:
    """``read_standards`` of a UTF-8 JSON document; bytes that are not one give an invalid_json error and no
    versions (a leading byte order mark is skipped)."""
    document, unreadable = parse_document(raw)
    return _unread(unreadable) if unreadable else read_standards(document, read_on=read_on)


def parse_document(raw: bytes) -> tuple[object, str | None]:
    """(the JSON document ``raw`` holds, None), or (None, why it holds none): not bytes, not UTF-8, not JSON, or
    JSON with NaN, Infinity or nesting too deep to read."""
    if not isinstance(raw, bytes | bytearray | memoryview):
        return None, f"The input is a {type(raw).__name__}, not bytes; nothing was read."
    try:
        document_text = bytes(raw).decode("utf-8")
    except UnicodeDecodeError as error:
        return None, f"The document is not UTF-8 text (byte {error.start} cannot be decoded); nothing was read."
    try:
        return json.loads(document_text.removeprefix("\ufeff"), parse_constant=_refuse_constant), None
    except json.JSONDecodeError as error:
        return None, (f"The document is not JSON ({error.msg} at line {error.lineno}, column {error.colno}); "
                      "nothing was read.")
    except (ValueError, RecursionError) as error:
        return None, f"The document is not JSON that can be read ({_first_line(error)}); nothing was read."


def read_standards(document, *, read_on: date) -> StandardsReading:
    """Every standard version of ``document`` (one version object, or an array of them) that has a reference number
    and a version, in document order, and the faults found. ``read_on`` is recorded as the day the minimum
    off-the-job hours were read. Raises nothing for any document; TypeError if ``read_on`` is not a date."""
    if not isinstance(read_on, date):
        raise TypeError("read_on must be a datetime.date")
    faults: list[Fault] = []
    if isinstance(document, dict):
        candidates = [(document, "$")]
    elif isinstance(document, list):
        candidates = [(element, f"$[{index}]") for index, element in enumerate(document)]
    else:
        faults.append(Fault("$", "not_an_object", "error", f"The document is {fields.described(document)}, not a "
                            "standard version object or an array of them; nothing was read."))
        return StandardsReading((), tuple(faults))
    versions: list[StandardVersion] = []
    first_path_of_key: dict[tuple[str, str], str] = {}
    for data, path in candidates:
        if not isinstance(data, dict):
            faults.append(Fault(path, "not_an_object", "error",
                                f"This element is {fields.described(data)}, not a standard version object; it was "
                                "left out."))
            continue
        key = _version_key(Node(data, path, faults))
        if key is None:
            continue
        if key in first_path_of_key:
            first_path = first_path_of_key[key]
            faults.append(Fault(first_path, "repeated_version", "warning",
                                f"{key[0]} version {key[1]} is published again at {path}; this first one was kept."))
            faults.append(Fault(path, "repeated_version", "error",
                                f"{key[0]} version {key[1]} was already read at {first_path}; this later copy was "
                                "left out."))
            continue
        first_path_of_key[key] = path
        versions.append(_read_version(Node(data, path, faults, _VERSION_KEYS_OLDER_TEMPLATES_LACK), key, read_on))
    return StandardsReading(tuple(versions), tuple(faults))


def _version_key(node: Node) -> tuple[str, str] | None:
    """(referenceNumber, version), or None after an error fault for each that is missing or not a string."""
    key = []
    for name in ("referenceNumber", "version"):
        value = node.data.get(name, ABSENT)
        if isinstance(value, str) and _KEY_TEXT.fullmatch(value):
            key.append(value)
        elif isinstance(value, str) and value.strip():
            node.fault(name, "wrong_type", "error", f"{name} {fields.shown(value)} is not 1 to 16 letters, digits, "
                       "'.', '-' or '_': the version cannot be identified, so it was left out.")
        elif value is ABSENT or value is None or isinstance(value, str):
            found = "absent" if value is ABSENT else f"{fields.described(value)}"
            node.fault(name, "missing_key", "error",
                       f"{name} is {found}: the version cannot be identified, so it was left out.")
        else:
            node.fault(name, "wrong_type", "error", f"{name} is {fields.described(value)}, not a string: the "
                       "version cannot be identified, so it was left out.")
    return (key[0], key[1]) if len(key) == 2 else None


def _read_version(node: Node, key: tuple[str, str], read_on: date) -> StandardVersion:
    title_source = text(node, "title", required=True, read_as="empty text") or ""
    status, status_source = _status(node)
    ksbs, ksb_by_kind_and_id, first_ksb_by_id = _read_ksbs(node)
    options = _read_options(node)
    overview, information, summary = (text(node, name) for name in
                                      ("overviewOfRole", "standardInformation", "occupationalSummary"))
    return StandardVersion(
        reference_number=key[0], version=key[1], version_number=text(node, "versionNumber"),
        title=html.unescape(title_source), title_source=title_source,
        level=whole_number(node, "level", low=1, high=8), status=status, status_source=status_source,
        route=text(node, "route"), lars_code=whole_number(node, "larsCode", low=0, high=999_999),
        typical_duration_months=whole_number(node, "typicalDuration", low=1, high=240),
        earliest_start_date=published_date(node, "earliestStartDate"),
        latest_start_date=published_date(node, "latestStartDate"),
        latest_end_date=published_date(node, "latestEndDate"),
        approved_for_delivery=published_date(node, "approvedForDelivery"),
        minimum_otj_hours=whole_number(node, "minimumHoursForCompliance", low=0, high=100_000, published_as_text=True),
        minimum_otj_hours_read_on=read_on,
        core_and_options=flag(node, "coreAndOptions", default=False) or False,
        options=tuple(options),
        unstructured_options=_unstructured_options(node),
        unstructured_options_ksb_mapping=_unstructured_ksb_mapping(node),
        ksbs=tuple(ksbs),
        duties=_read_duties(node, ksb_by_kind_and_id, first_ksb_by_id, options),
        overview_of_role=_decoded(overview), overview_of_role_source=overview,
        standard_information=_decoded(information), standard_information_source=information,
        occupational_summary=_decoded(summary), occupational_summary_source=summary,
        change_note=text(node, "change"), changed_date=published_date(node, "changedDate"),
        url=text(node, "url"), last_updated=published_date(node, "lastUpdated"),
        source_path=node.path)


def _status(node: Node) -> tuple[str | None, str | None]:
    """(status, published text): None for a status DfE does not publish, after an unknown_status warning."""
    source = text(node, "status", required=True, read_as="no status")
    if not source:
        return None, source
    if source in PUBLISHED_STATUSES:
        return PUBLISHED_STATUSES[source], source
    loose = _STATUS_BY_FOLDED_TEXT.get(" ".join(source.split()).casefold())
    if loose:
        node.fault("status", "unknown_status", "notice", f"status {fields.shown(source)} differs from a published "
                   f"status only in letter case or spacing; read as {loose}.")
    else:
        node.fault("status", "unknown_status", "warning", f"status {fields.shown(source)} is none of "
                   f"{', '.join(PUBLISHED_STATUSES)}; the version was kept with no status.")
    return loose, source


def _read_ksbs(node: Node) -> tuple[list[Ksb], dict[tuple[str, str], Ksb], dict[str, Ksb]]:
    """Every readable KSB in published order, the first KSB of each (kind, id), and the first of each id."""
    ksbs: list[Ksb] = []
    by_kind_and_id: dict[tuple[str, str], Ksb] = {}
    first_by_id: dict[str, Ksb] = {}
    first_name_by_id: dict[str, tuple[str, str]] = {}
    for array_key, id_key, kind, letter in _KSB_ARRAYS:
        for index, entry in enumerate(array(node, array_key)):
            code = f"{letter}{index + 1}"
            item = node.child(f"{array_key}[{index}]", entry, code)
            if item is None:
                continue
            ksb_id = guid(item, id_key, code)
            detail_source = text(item, "detail", required=True, read_as="empty text") or ""
            ksb = Ksb(ksb_id, kind, code, index + 1, html.unescape(detail_source), detail_source, item.path)
            if ksb_id is not None:
                fields.note_repeat(item, id_key, ksb_id, code, first_name_by_id)
                first_by_id.setdefault(ksb_id, ksb)
                by_kind_and_id.setdefault((kind, ksb_id), ksb)
            ksbs.append(ksb)
    return ksbs, by_kind_and_id, first_by_id


def _read_options(node: Node) -> list[StandardOption]:
    options: list[StandardOption] = []
    first_name_by_id: dict[str, tuple[str, str]] = {}
    for index, entry in enumerate(array(node, "options")):
        name = f"option {index + 1}"
        item = node.child(f"options[{index}]", entry, name, frozenset({"occupationCode"}))
        if item is None:
            continue
        option = StandardOption(guid(item, "optionId", name), text(item, "title", required=True, read_as="no title"),
                                text(item, "occupationCode"), index + 1, item.path)
        if option.option_id is not None:
            fields.note_repeat(item, "optionId", option.option_id, name, first_name_by_id)
        options.append(option)
    return options


def _read_duties(node: Node, ksb_by_kind_and_id: dict, first_ksb_by_id: dict,
                 options: list[StandardOption]) -> tuple[Duty, ...]:
    duties: list[Duty] = []
    first_name_by_id: dict[str, tuple[str, str]] = {}
    option_ids = {option.option_id for option in options if option.option_id is not None}
    for index, entry in enumerate(array(node, "duties")):
        code = f"D{index + 1}"
        item = node.child(f"duties[{index}]", entry, code, _DUTY_KEYS_OLDER_TEMPLATES_LACK)
        if item is None:
            continue
        duty_id = guid(item, "dutyID", code)
        detail_source = text(item, "dutyDetail", required=True, read_as="empty text") or ""
        is_core = flag(item, "isThisACoreDuty", default=None, published_as_number=True)
        ksb_ids, ksb_codes, unresolved_ksb_ids = [], [], []
        for mapping_key, kind in _DUTY_MAPPINGS:
            for ref_path, ref in _references(item, mapping_key, code):
                ksb = ksb_by_kind_and_id.get((kind, ref)) or first_ksb_by_id.get(ref)
                if ksb is None:
                    unresolved_ksb_ids.append(ref)
                    item.faults.append(Fault(ref_path, "unknown_reference", "warning", f"{code} maps {ref}, which "
                                             f"is no {kind} of this version; kept in unresolved_ksb_ids."))
                    continue
                if ksb.kind != kind:
                    item.faults.append(Fault(ref_path, "unknown_reference", "warning", f"{code} maps {ref} as a "
                                             f"{kind}, but it is {ksb.code}, a {ksb.kind}; kept as a mapping to "
                                             f"{ksb.code}."))
                ksb_ids.append(ref)
                ksb_codes.append(ksb.code)
        mapped_options, unresolved_option_ids = [], []
        for ref_path, ref in _references(item, "mappedOptions", code):
            if ref in option_ids:
                mapped_options.append(ref)
            else:
                unresolved_option_ids.append(ref)
                item.faults.append(Fault(ref_path, "unknown_reference", "warning", f"{code} maps option {ref}, which "
                                         "is no option of this version; kept in unresolved_option_ids."))
        criteria_source = text(item, "criteriaForMeasuringPerformance")
        duty = Duty(duty_id, code, index + 1, html.unescape(detail_source), detail_source, is_core, tuple(ksb_ids),
                    tuple(ksb_codes), tuple(unresolved_ksb_ids), tuple(mapped_options), tuple(unresolved_option_ids),
                    _decoded(criteria_source), criteria_source, item.path)
        if duty_id is not None:
            fields.note_repeat(item, "dutyID", duty_id, code, first_name_by_id)
        duties.append(duty)
    return tuple(duties)


def _references(item: Node, key: str, code: str) -> Iterator[tuple[str, str]]:
    """(path, id) of each string of the array ``key``, ids lower-cased when GUIDs; other entries are reported."""
    for index, ref in enumerate(array(item, key)):
        path = f"{item.at(key)}[{index}]"
        if isinstance(ref, str):
            yield path, normal_id(ref)
        else:
            item.faults.append(Fault(path, "wrong_type", "warning", f"{code}'s {key} entry is "
                                     f"{fields.described(ref)}, not an id; it was left out."))


def _unstructured_options(node: Node) -> tuple[str, ...]:
    options = []
    for index, option in enumerate(array(node, "optionsUnstructuredTemplate")):
        if isinstance(option, str):
            cleaned, removed = fields.printable(option)
            if removed:
                node.fault(f"optionsUnstructuredTemplate[{index}]", "unstorable_character", "warning",
                           f"This unstructured option holds {removed} control character(s) or lone surrogate(s); "
                           "they were removed (the published object keeps them).")
            options.append(cleaned)
        else:
            node.fault(f"optionsUnstructuredTemplate[{index}]", "wrong_type", "warning",
                       f"This unstructured option is {fields.described(option)}, not text; it was left out.")
    return tuple(options)


def _unstructured_ksb_mapping(node: Node) -> tuple:
    """The published ``optionsUnstructuredKsbMapping`` entries, copied as plain JSON values."""
    entries = []
    for index, entry in enumerate(array(node, "optionsUnstructuredKsbMapping")):
        copied = fields.plain_json(entry)
        if copied is ABSENT:
            node.fault(f"optionsUnstructuredKsbMapping[{index}]", "wrong_type", "warning",
                       "This entry holds a value that is not plain JSON or is nested too deeply; it was left out.")
        else:
            entries.append(copied)
    return tuple(entries)


def _decoded(source: str | None) -> str | None:
    return None if source is None else html.unescape(source)


def _unread(message: str) -> StandardsReading:
    return StandardsReading((), (Fault("$", "invalid_json", "error", message),))


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _first_line(error: Exception) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0][:200]
