"""Reading Skills England standards JSON: the four published files read whole (every KSB and duty with its GUID,
order and code, dates in both published formats, decoded HTML), the v1.2 -> v1.3 diff of ST0071, one injected fault
of each kind reported at its exact path with nothing lost, and no exception for any mangled input."""

import copy
import json
import random
from datetime import date
from pathlib import Path

import pytest

from api.services.apprenticeships import reading
from api.services.apprenticeships.reading import read_standards, read_standards_bytes
from api.services.apprenticeships.records import SEVERITIES, STATUSES, StandardsReading
from api.services.apprenticeships.versions_diff import diff_versions

STANDARDS_DIR = Path(__file__).parent / "fixtures" / "apprenticeships"  # four versions as Skills England publishes them
FILES = ("ST0071_1.2.json", "ST0071_1.3.json", "ST0072_1.1.json", "ST0384_1.4.json")
READ_ON = date(2026, 6, 1)
FAULT_CODES = {"invalid_json", "not_an_object", "missing_key", "wrong_type", "repeated_id", "unknown_reference",
               "invalid_date", "string_boolean", "invalid_number", "unknown_status", "repeated_version",
               "unstorable_character"}
NEW_GUID = "0d1f6a3e-5c1b-4f7e-9a43-2b8d6c0e9f11"


SHARED = Path(__file__).resolve().parents[2] / "shared" / "apprenticeships"


def test_the_fixtures_are_the_published_files():
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is not on this machine")
    for name in FILES:
        assert (STANDARDS_DIR / name).read_bytes() == (SHARED / name).read_bytes(), name


def published(name: str):
    return json.loads((STANDARDS_DIR / name).read_text(encoding="utf-8"))


def read_one(document) -> tuple:
    """(the one version read, the faults as (path, code, severity) triples)."""
    result = read_standards(document, read_on=READ_ON)
    assert len(result.versions) == 1, result.faults
    return result.versions[0], [(fault.path, fault.code, fault.severity) for fault in result.faults]


def codes_and_ids(version) -> list[tuple[str, str]]:
    return [(ksb.code, ksb.ksb_id) for ksb in version.ksbs]


# --- the four published files -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name, counts", [
    ("ST0071_1.2.json", (18, 17, 12, 0)), ("ST0071_1.3.json", (18, 17, 12, 0)),
    ("ST0072_1.1.json", (15, 10, 10, 0)), ("ST0384_1.4.json", (23, 19, 5, 13))])
def test_every_ksb_and_duty_keeps_its_guid_order_and_text(name, counts):
    document = published(name)
    result = read_standards_bytes((STANDARDS_DIR / name).read_bytes(), read_on=READ_ON)
    assert result.faults == ()
    (version,) = result.versions
    assert (len(version.knowledges), len(version.skills), len(version.behaviours), len(version.duties)) == counts
    for array_key, id_key, letter, read in (("knowledges", "knowledgeId", "K", version.knowledges),
                                            ("skills", "skillId", "S", version.skills),
                                            ("behaviours", "behaviourId", "B", version.behaviours)):
        expected = [(f"{letter}{n}", entry[id_key], entry["detail"]) for n, entry in
                    enumerate(document[array_key], start=1)]
        assert [(ksb.code, ksb.ksb_id, ksb.detail_source) for ksb in read] == expected
    assert [(duty.code, duty.duty_id, duty.detail_source) for duty in version.duties] == [
        (f"D{n}", entry["dutyID"], entry["dutyDetail"]) for n, entry in enumerate(document["duties"], start=1)]


def test_hand_checked_guids_sit_at_their_codes():
    st0384, _ = read_one(published("ST0384_1.4.json"))
    found = dict(codes_and_ids(st0384))
    assert found["K1"] == "7905e032-ebfd-40d0-a9e8-7565cc0c6c96"
    assert found["K23"] == "c87e7c48-ba05-467d-82c8-c6cfa53b6f72"
    assert found["S19"] == "83cda10a-409f-42c3-ad89-eba1c706b402"
    assert found["B5"] == "9262e830-9939-492c-9fc4-b5d22143aab1"
    st0072, _ = read_one(published("ST0072_1.1.json"))
    found = dict(codes_and_ids(st0072))
    assert (found["K15"], found["S10"], found["B10"]) == ("44058ba9-5167-4465-bf99-81f5a073c1e6",
                                                          "4c3e5f70-564c-478e-a722-fb62cc1f1b7d",
                                                          "427ab329-8cab-4bed-a6da-d04d258f2fe1")


def test_st0384_thirteen_duties_resolve_every_mapping_in_published_kind_order():
    version, faults = read_one(published("ST0384_1.4.json"))
    assert faults == []
    assert [duty.code for duty in version.duties] == [f"D{n}" for n in range(1, 14)]
    assert all(duty.is_core is True for duty in version.duties)
    assert all(duty.unresolved_ksb_ids == () and duty.unresolved_option_ids == () for duty in version.duties)
    document = published("ST0384_1.4.json")
    for duty, entry in zip(version.duties, document["duties"], strict=True):
        assert duty.ksb_ids == tuple(entry["mappedKnowledge"] + entry["mappedSkills"] + entry["mappedBehaviour"])
    d1, d6 = version.duties[0], version.duties[5]
    assert d1.ksb_codes == ("K1", "K2", "K5", "K6", "K7", "K9", "K10", "K17", "K18", "K19", "K23",
                            "S1", "S2", "S4", "S9", "S11", "S13", "S17", "B1", "B2", "B4", "B5")
    assert d6.ksb_codes == ("K1", "K3", "K5", "K9", "K10", "K20", "S3", "S12", "S17")
    assert (version.title, version.level, version.status, version.lars_code) == ("Team leader", 3, "approved", 105)


def test_st0072_older_template_has_ksbs_and_no_duties():
    version, faults = read_one(published("ST0072_1.1.json"))
    assert faults == []
    assert (version.reference_number, version.version, version.version_number) == ("ST0072", "1.1", "1.1")
    assert (version.title, version.level, version.status) == ("Customer service practitioner", 2, "approved")
    assert version.duties == () and version.options == () and version.core_and_options is False
    assert (len(version.knowledges), len(version.skills), len(version.behaviours)) == (15, 10, 10)
    assert version.minimum_otj_hours == 278 and version.minimum_otj_hours_read_on == READ_ON
    assert version.typical_duration_months == 12
    assert version.source_path == "$"


def test_dates_in_both_published_formats():
    version, _ = read_one(published("ST0071_1.2.json"))
    assert version.status == "retired" and version.status_source == "Retired"
    assert version.earliest_start_date == date(2024, 12, 9)     # "2024-12-09T00:00:00"
    assert version.latest_start_date == date(2025, 12, 9)
    assert version.latest_end_date is None                       # null
    assert version.approved_for_delivery == date(2018, 5, 10)   # "2018-05-10T00:00:00 +00:00"
    assert version.last_updated == date(2025, 12, 10)           # "2025-12-10T00:00:00 +00:00"
    assert version.changed_date == date(2025, 12, 10)
    document = published("ST0071_1.2.json")
    document["earliestStartDate"] = "2024-12-09T00:00:00 +00:00"
    document["latestStartDate"] = "2025-12-09"
    document["approvedForDelivery"] = "2018-05-10T00:00:00"
    swapped, faults = read_one(document)
    assert faults == []
    assert (swapped.earliest_start_date, swapped.latest_start_date, swapped.approved_for_delivery) == (
        date(2024, 12, 9), date(2025, 12, 9), date(2018, 5, 10))


def test_empty_otj_hours_means_none_published():
    document = published("ST0384_1.4.json")
    assert read_one(document)[0].minimum_otj_hours == 348
    document["minimumHoursForCompliance"] = ""
    version, faults = read_one(document)
    assert version.minimum_otj_hours is None and version.minimum_otj_hours_read_on == READ_ON
    assert faults == []


def test_html_entities_are_decoded_for_display_and_kept_as_published():
    version, _ = read_one(published("ST0384_1.4.json"))
    assert version.standard_information_source.startswith("&lt;h3&gt;&lt;strong&gt;O&lt;/strong&gt;")
    assert version.standard_information.startswith("<h3><strong>O</strong>")
    assert 'class="MsoNormal"' in version.occupational_summary
    assert "&quot;MsoNormal&quot;" in version.occupational_summary_source
    st0071, _ = read_one(published("ST0071_1.2.json"))
    k11 = st0071.knowledges[10]
    assert k11.detail == k11.detail_source == ("Customer Service culture & environment awareness: Keep current, "
                                               "knowledge and understanding of regulatory considerations, drivers "
                                               "and impacts in relation to how you deliver for customers")
    document = published("ST0384_1.4.json")
    document["skills"][2]["detail"] = "Collate data &amp; write &lt;p&gt;reports&lt;/p&gt;."
    document["duties"][0]["criteriaForMeasuringPerformance"] = "&lt;p&gt;On time&lt;/p&gt;"
    version, faults = read_one(document)
    assert version.skills[2].detail == "Collate data & write <p>reports</p>."
    assert version.skills[2].detail_source == "Collate data &amp; write &lt;p&gt;reports&lt;/p&gt;."
    assert version.duties[0].criteria == "<p>On time</p>"
    assert faults == []


def test_st0071_v1_2_to_v1_3_changes_the_window_and_status_and_no_ksb():
    old, _ = read_one(published("ST0071_1.2.json"))
    new, _ = read_one(published("ST0071_1.3.json"))
    diff = diff_versions(old, new)
    assert (diff.ksbs_added, diff.ksbs_removed, diff.ksbs_reworded, diff.ksbs_recoded) == ((), (), (), ())
    assert (diff.duties_added, diff.duties_removed, diff.duty_mappings_changed) == ((), (), ())
    assert diff.fields_changed == (("status", "retired", "approved"),
                                   ("earliest_start_date", date(2024, 12, 9), date(2025, 12, 10)),
                                   ("latest_start_date", date(2025, 12, 9), None))
    assert json.loads(json.dumps(diff.to_dict()))["fields_changed"][1] == {
        "field": "earliest_start_date", "old": "2024-12-09", "new": "2025-12-10"}


def test_diff_reports_added_removed_reworded_recoded_ksbs_and_mapping_changes():
    document = published("ST0384_1.4.json")
    old, _ = read_one(document)
    changed = copy.deepcopy(document)
    changed["title"] = "Team leader and supervisor"
    changed["typicalDuration"] = 18
    changed["minimumHoursForCompliance"] = ""
    changed["knowledges"].insert(0, {"knowledgeId": NEW_GUID, "detail": "Carbon literacy."})
    changed["knowledges"][3]["detail"] = "Processes and policies that support operational delivery."
    removed_skill = changed["skills"].pop()                               # S19
    for duty in changed["duties"]:
        duty["mappedSkills"] = [ksb_id for ksb_id in duty["mappedSkills"] if ksb_id != removed_skill["skillId"]]
    changed["duties"][0]["mappedKnowledge"].append("0e43cfa1-257b-433c-8504-8aadca14aefe")  # old K8
    new, faults = read_one(changed)
    assert faults == []
    diff = diff_versions(old, new)
    assert [(e.item_id, e.code, e.text) for e in diff.ksbs_added] == [(NEW_GUID, "K1", "Carbon literacy.")]
    assert [(e.item_id, e.code) for e in diff.ksbs_removed] == [("83cda10a-409f-42c3-ad89-eba1c706b402", "S19")]
    (reworded,) = diff.ksbs_reworded
    assert (reworded.item_id, reworded.old_code, reworded.new_code) == ("d3544137-a086-49af-9879-ede091c29812",
                                                                        "K3", "K4")
    assert reworded.new_text == "Processes and policies that support operational delivery."
    assert reworded.old_text == document["knowledges"][2]["detail"]
    assert [(r.old_code, r.new_code) for r in diff.ksbs_recoded] == [(f"K{n}", f"K{n + 1}") for n in range(1, 24)]
    assert diff.duties_added == diff.duties_removed == diff.duties_reworded == diff.duties_recoded == ()
    assert [(c.new_code, c.ksb_codes_added, c.ksb_codes_removed) for c in diff.duty_mappings_changed] == [
        ("D1", ("K9",), ()), ("D2", (), ("S19",)), ("D13", (), ("S19",))]
    assert diff.fields_changed == (("title", "Team leader", "Team leader and supervisor"),
                                   ("minimum_otj_hours", 348, None), ("typical_duration_months", 15, 18))
    assert json.loads(json.dumps(diff.to_dict()))["ksbs_reworded"][0]["old_code"] == "K3"


def test_diff_matches_a_repeated_guid_by_occurrence():
    document = published("ST0072_1.1.json")
    document["knowledges"][6]["knowledgeId"] = document["knowledges"][1]["knowledgeId"]
    old, _ = read_one(document)
    document["knowledges"][6]["detail"] = "Know the legislation that affects your business."
    new, _ = read_one(document)
    diff = diff_versions(old, new)
    assert [(r.item_id, r.occurrence, r.old_code, r.new_code) for r in diff.ksbs_reworded] == [
        ("0b8cbf90-4f9a-466c-a4c8-ed8f3386d5d1", 1, "K7", "K7")]
    assert diff.ksbs_added == diff.ksbs_removed == diff.ksbs_recoded == ()
    with pytest.raises(ValueError):
        diff_versions(old, read_one(published("ST0384_1.4.json"))[0])


# --- one injected fault of each kind -------------------------------------------------------------------------------

def test_repeated_knowledge_id_keeps_both_and_reports_the_later():
    document = published("ST0072_1.1.json")
    repeated = document["knowledges"][1]["knowledgeId"]
    document["knowledges"][4]["knowledgeId"] = repeated
    version, faults = read_one(document)
    assert faults == [("$.knowledges[4].knowledgeId", "repeated_id", "warning")]
    assert len(version.knowledges) == 15
    assert [(k.code, k.ksb_id) for k in version.knowledges[1:6:3]] == [("K2", repeated), ("K5", repeated)]
    assert version.knowledges[5].code == "K6"


def test_mappings_to_a_repeated_id_resolve_to_the_first():
    document = published("ST0384_1.4.json")
    k1 = document["knowledges"][0]["knowledgeId"]
    document["knowledges"].append({"knowledgeId": k1.upper(), "detail": "Performance management, again."})
    version, faults = read_one(document)
    assert faults == [("$.knowledges[23].knowledgeId", "repeated_id", "warning")]
    assert (version.knowledges[23].code, version.knowledges[23].ksb_id) == ("K24", k1)
    assert version.duties[0].ksb_codes[0] == "K1"


def test_a_duty_mapping_a_missing_ksb_or_option_is_kept_with_the_unresolved_guid():
    document = published("ST0384_1.4.json")
    document["duties"][2]["mappedSkills"].append(NEW_GUID)
    document["duties"][4]["mappedOptions"] = [NEW_GUID.upper()]
    version, faults = read_one(document)
    assert faults == [("$.duties[2].mappedSkills[5]", "unknown_reference", "warning"),
                      ("$.duties[4].mappedOptions[0]", "unknown_reference", "warning")]
    assert len(version.duties) == 13
    d3, d5 = version.duties[2], version.duties[4]
    assert d3.unresolved_ksb_ids == (NEW_GUID,) and len(d3.ksb_ids) == 11 + 5 + 2
    assert d5.unresolved_option_ids == (NEW_GUID,) and d5.option_ids == ()


def test_a_mapping_to_a_ksb_of_another_kind_resolves_to_it_with_a_warning():
    document = published("ST0384_1.4.json")
    document["duties"][5]["mappedBehaviour"] = [document["skills"][0]["skillId"]]
    version, faults = read_one(document)
    assert faults == [("$.duties[5].mappedBehaviour[0]", "unknown_reference", "warning")]
    assert version.duties[5].ksb_codes[-1] == "S1"


def test_keys_an_older_template_lacks_are_notices_and_others_warnings():
    document = published("ST0072_1.1.json")
    for key in ("duties", "options", "coreAndOptions", "minimumHoursForCompliance", "optionsUnstructuredKsbMapping",
                "latestEndDate", "level"):
        del document[key]
    result = read_standards(document, read_on=READ_ON)
    assert sorted((f.path, f.code, f.severity) for f in result.faults) == [
        ("$.coreAndOptions", "missing_key", "notice"), ("$.duties", "missing_key", "notice"),
        ("$.latestEndDate", "missing_key", "notice"), ("$.level", "missing_key", "warning"),
        ("$.minimumHoursForCompliance", "missing_key", "notice"), ("$.options", "missing_key", "notice"),
        ("$.optionsUnstructuredKsbMapping", "missing_key", "notice")]
    assert all("read as" in fault.message for fault in result.faults)
    (version,) = result.versions
    assert (version.duties, version.core_and_options, version.minimum_otj_hours, version.level) == ((), False, None,
                                                                                                    None)
    assert len(version.ksbs) == 35


@pytest.mark.parametrize("key", ["referenceNumber", "version"])
def test_a_version_without_its_key_is_left_out_as_an_error(key):
    document = published("ST0072_1.1.json")
    del document[key]
    result = read_standards([published("ST0071_1.2.json"), document], read_on=READ_ON)
    assert [(f.path, f.code, f.severity) for f in result.faults] == [(f"$[1].{key}", "missing_key", "error")]
    assert result.errors == result.faults
    assert [v.reference_number for v in result.versions] == ["ST0071"]
    document[key] = 1.1
    assert [(f.path, f.code) for f in read_standards(document, read_on=READ_ON).errors] == [(f"$.{key}",
                                                                                           "wrong_type")]


def test_a_garbage_date_is_reported_and_read_as_none():
    document = published("ST0071_1.2.json")
    document["earliestStartDate"] = "09/12/2024"
    document["latestStartDate"] = "2025-02-30T00:00:00"
    document["changedDate"] = "2025-12-10T14:30:00 +00:00"
    version, faults = read_one(document)
    assert faults == [("$.earliestStartDate", "invalid_date", "warning"),
                      ("$.latestStartDate", "invalid_date", "warning"),
                      ("$.changedDate", "invalid_date", "notice")]
    assert (version.earliest_start_date, version.latest_start_date, version.changed_date) == (None, None,
                                                                                              date(2025, 12, 10))


def test_booleans_given_as_strings_are_read_with_a_notice():
    document = published("ST0384_1.4.json")
    document["coreAndOptions"] = "true"
    document["duties"][0]["isThisACoreDuty"] = "0"
    document["duties"][1]["isThisACoreDuty"] = True
    document["duties"][2]["isThisACoreDuty"] = "yes"
    version, faults = read_one(document)
    assert faults == [("$.coreAndOptions", "string_boolean", "notice"),
                      ("$.duties[0].isThisACoreDuty", "string_boolean", "notice"),
                      ("$.duties[1].isThisACoreDuty", "wrong_type", "notice"),
                      ("$.duties[2].isThisACoreDuty", "wrong_type", "warning")]
    assert version.core_and_options is True
    assert [duty.is_core for duty in version.duties[:4]] == [False, True, None, True]


@pytest.mark.parametrize("hours, severity", [("348 hours", "warning"), ("-5", "warning"), (348, "notice")])
def test_otj_hours_that_are_not_digits_as_text(hours, severity):
    document = published("ST0072_1.1.json")
    document["minimumHoursForCompliance"] = hours
    version, faults = read_one(document)
    code = "invalid_number" if severity == "warning" else "wrong_type"
    assert faults == [("$.minimumHoursForCompliance", code, severity)]
    assert version.minimum_otj_hours == (348 if severity == "notice" else None)


@pytest.mark.parametrize("status, severity, read", [("Approved", "warning", None), ("Suspended", "warning", None),
                                                    ("approved  for delivery", "notice", "approved"),
                                                    ("Proposal in development", None, "in_development"),
                                                    ("Withdrawn", None, "withdrawn")])
def test_status_outside_the_published_set(status, severity, read):
    document = published("ST0071_1.3.json")
    document["status"] = status
    version, faults = read_one(document)
    assert faults == ([("$.status", "unknown_status", severity)] if severity else [])
    assert (version.status, version.status_source) == (read, status)


def test_a_repeated_version_in_an_array_keeps_the_first_and_leaves_out_the_later():
    later = published("ST0071_1.2.json")
    later["title"] = "Customer service specialist (copy)"
    result = read_standards([published("ST0071_1.2.json"), published("ST0071_1.3.json"), later], read_on=READ_ON)
    assert [(f.path, f.code, f.severity) for f in result.faults] == [("$[0]", "repeated_version", "warning"),
                                                                      ("$[2]", "repeated_version", "error")]
    assert "left out" in result.errors[0].message and "$[0]" in result.errors[0].message
    assert [(v.version, v.title, v.source_path) for v in result.versions] == [
        ("1.2", "Customer service specialist", "$[0]"), ("1.3", "Customer service specialist", "$[1]")]


@pytest.mark.parametrize("raw, code", [
    (b'{"referenceNumber": "ST0071",', "invalid_json"), (b"\xff\xfe{}", "invalid_json"), (b"", "invalid_json"),
    (b'{"level": NaN}', "invalid_json"), (b"[" * 100_000, "invalid_json"), (b"42", "not_an_object"),
    (b"null", "not_an_object"), (b'"ST0071"', "not_an_object")])
def test_bytes_that_are_not_a_standards_document(raw, code):
    result = read_standards_bytes(raw, read_on=READ_ON)
    assert result.versions == ()
    assert [(f.path, f.code, f.severity) for f in result.faults] == [("$", code, "error")]
    assert result.faults[0].message.endswith(".")


def test_paths_in_an_array_name_the_element_and_unreadable_entries_keep_codes():
    document = published("ST0072_1.1.json")
    document["skills"][2] = "Use questioning skills"
    document["knowledges"][3]["knowledgeId"] = "K-4"
    document["level"] = "2"
    result = read_standards([published("ST0071_1.3.json"), document, 7], read_on=READ_ON)
    assert [(f.path, f.code, f.severity) for f in result.faults] == [
        ("$[1].knowledges[3].knowledgeId", "wrong_type", "warning"), ("$[1].skills[2]", "not_an_object", "warning"),
        ("$[1].level", "wrong_type", "notice"), ("$[2]", "not_an_object", "error")]
    version = result.versions[1]
    assert version.knowledges[3].ksb_id == "K-4" and version.level == 2
    assert [s.code for s in version.skills] == ["S1", "S2"] + [f"S{n}" for n in range(4, 11)]


# --- no input makes the reader raise --------------------------------------------------------------------------------

GARBAGE = (None, True, False, 0, 1, -1, 2**80, 10**5000, 1.5, float("nan"), float("inf"), "", " ", "x", "true",
           "2025-13-45T00:00:00", "0", "\ud800", [], [None], [[]], ["x", 3], [1, {}], {}, {"a": None},
           {"detail": {}}, [{"knowledgeId": [], "detail": 5}], ("a",), {1: 2}, object())


def assert_well_formed(result):
    assert isinstance(result, StandardsReading)
    assert isinstance(result.versions, tuple) and isinstance(result.faults, tuple)
    for fault in result.faults:
        assert fault.code in FAULT_CODES and fault.severity in SEVERITIES
        assert fault.path.startswith("$") and fault.message.endswith(".")
    for version in result.versions:
        assert version.status in STATUSES or version.status is None
        assert isinstance(version.ksbs, tuple) and isinstance(version.duties, tuple)


def fuzz_base() -> dict:
    """ST0384 cut to three KSBs of each kind and two duties (mappings kept where they resolve), with an option, an
    option mapping and an unstructured option: every shape the reader handles, small enough to mangle thousands of
    times."""
    document = published("ST0384_1.4.json")
    kept = set()
    for array_key, id_key in (("knowledges", "knowledgeId"), ("skills", "skillId"), ("behaviours", "behaviourId")):
        document[array_key] = document[array_key][:3]
        kept.update(entry[id_key] for entry in document[array_key])
    document["duties"] = document["duties"][:2]
    for duty in document["duties"]:
        for mapping in ("mappedKnowledge", "mappedSkills", "mappedBehaviour"):
            duty[mapping] = [ksb_id for ksb_id in duty[mapping] if ksb_id in kept]
    document["standardInformation"] = document["standardInformation"][:400]
    document["occupationalSummary"] = document["occupationalSummary"][:400]
    document["coreAndOptions"] = True
    document["options"] = [{"optionId": NEW_GUID, "title": "Option", "occupationCode": "OCC0384"}]
    document["duties"][0]["mappedOptions"] = [NEW_GUID]
    document["optionsUnstructuredTemplate"] = ["Option A"]
    document["optionsUnstructuredKsbMapping"] = [{"option": "Option A", "ksbs": ["K1"]}]
    return document


ENTRY_ARRAYS = ("knowledges", "skills", "behaviours", "duties", "options", "optionsUnstructuredKsbMapping")


def variants(base: dict):
    """The base document with each key of it, and of the first entry of each array of objects, deleted or replaced
    by each garbage value; each such first entry, and each duty mapping's first id, replaced by each garbage value."""
    containers = [()] + [(array_key, 0) for array_key in ENTRY_ARRAYS]
    for location in containers:
        for key in list(base if not location else base[location[0]][location[1]]):
            for value in (*GARBAGE, KeyError):
                document = copy.deepcopy(base)
                target = document if not location else document[location[0]][location[1]]
                if value is KeyError:
                    del target[key]
                else:
                    target[key] = value
                yield document
    for array_key in (*ENTRY_ARRAYS, "optionsUnstructuredTemplate"):
        for value in GARBAGE:
            document = copy.deepcopy(base)
            document[array_key][0] = value
            yield document
    for mapping in ("mappedKnowledge", "mappedSkills", "mappedBehaviour", "mappedOptions"):
        for value in GARBAGE:
            document = copy.deepcopy(base)
            document["duties"][0][mapping][0] = value
            yield document


def test_no_mangled_document_makes_the_reader_raise():
    base = fuzz_base()
    assert read_one(base)[1] == []
    count = 0
    for document in variants(base):
        assert_well_formed(read_standards(document, read_on=READ_ON))
        assert_well_formed(read_standards([document, document, None], read_on=READ_ON))
        count += 1
    assert count > 2000
    for value in GARBAGE:
        assert_well_formed(read_standards(value, read_on=READ_ON))
        assert_well_formed(read_standards([value, {"referenceNumber": value, "version": value}], read_on=READ_ON))
    deep = []
    for _ in range(5000):
        deep = [deep]
    base["optionsUnstructuredKsbMapping"] = deep
    base["knowledges"] = deep
    assert_well_formed(read_standards(base, read_on=READ_ON))


def test_randomly_mangled_nodes_and_bytes_never_raise():
    randomness = random.Random(20261206)
    base = fuzz_base()
    for _ in range(400):
        document = copy.deepcopy(base)
        for _ in range(randomness.randint(1, 4)):
            node = document
            while True:
                keys = list(node) if isinstance(node, dict) else list(range(len(node)))
                key = randomness.choice(keys) if keys else None
                if key is None or not isinstance(node[key], dict | list) or randomness.random() < 0.3:
                    break
                node = node[key]
            if key is not None:
                node[key] = randomness.choice(GARBAGE)
        assert_well_formed(read_standards(document, read_on=READ_ON))
    raw = bytearray((STANDARDS_DIR / "ST0072_1.1.json").read_bytes())
    for _ in range(200):
        mangled = bytearray(raw)
        for _ in range(randomness.randint(1, 8)):
            mangled[randomness.randrange(len(mangled))] = randomness.randrange(256)
        assert_well_formed(read_standards_bytes(bytes(mangled), read_on=READ_ON))


def test_the_status_table_is_das_courses_apis():
    assert set(reading.PUBLISHED_STATUSES) == {"Approved for delivery", "In development", "Proposal in development",
                                               "Retired", "Withdrawn"}
    assert set(reading.PUBLISHED_STATUSES.values()) == set(STATUSES)
