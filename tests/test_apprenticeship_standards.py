"""Apprenticeship standards imported as Skills England publishes them and served: every KSB and duty keeps its GUID,
code and order; importing again changes nothing; a new or changed version says what changed; every fault is
reported with its JSON path and nothing is dropped; versions published for delivery are public and only admins
import."""

import copy
import json
from pathlib import Path

import pytest

PUBLISHED = Path(__file__).parent / "fixtures" / "apprenticeships"  # four versions as Skills England publishes them
IMPORT = "/v1/imports/apprenticeship-standards"


def published(name: str):
    return json.loads((PUBLISHED / f"{name}.json").read_text(encoding="utf-8"))


def send(client, auth, document, caller="admin", status=200):
    answer = client.post(IMPORT, data=json.dumps(document), content_type="application/json", headers=auth(caller))
    assert answer.status_code == status, answer.get_data(as_text=True)
    return answer.get_json()


def version(client, reference, number, headers=None, status=200):
    answer = client.get(f"/v1/apprenticeship-standards/{reference}/versions/{number}", headers=headers or {})
    assert answer.status_code == status, answer.get_data(as_text=True)
    return answer.get_json()


def test_the_four_published_versions_import_and_are_served_as_published(client, auth):
    files = ["ST0071_1.2", "ST0071_1.3", "ST0072_1.1", "ST0384_1.4"]
    report = send(client, auth, [published(name) for name in files])
    assert [(v["reference_number"], v["version"], v["outcome"]) for v in report["versions"]] == [
        ("ST0071", "1.2", "created"), ("ST0071", "1.3", "created"), ("ST0072", "1.1", "created"),
        ("ST0384", "1.4", "created")]
    assert report["faults"] == [] and report["counts"] == {"created": 4, "updated": 0, "unchanged": 0}
    for name in files:
        source = published(name)
        served = version(client, source["referenceNumber"], source["version"])
        for array, id_key, letter, served_key in (("knowledges", "knowledgeId", "K", "knowledge"),
                                                  ("skills", "skillId", "S", "skills"),
                                                  ("behaviours", "behaviourId", "B", "behaviours")):
            assert [(k["code"], k["ksb_id"], k["detail_source"]) for k in served[served_key]] == [
                (f"{letter}{n}", entry[id_key].lower(), entry["detail"]) for n, entry in enumerate(source[array], 1)]
        assert [(d["code"], d["duty_id"]) for d in served["duties"]] == [
            (f"D{n}", duty["dutyID"].lower()) for n, duty in enumerate(source["duties"], 1)]
        assert served["title"] == source["title"] and served["level"] == source["level"]
        assert served["minimum_otj_hours"] == (int(source["minimumHoursForCompliance"])
                                               if source["minimumHoursForCompliance"] else None)
    team_leader = version(client, "ST0384", "1.4")
    codes = {k["code"] for kind in ("knowledge", "skills", "behaviours") for k in team_leader[kind]}
    by_guid = {k["ksb_id"]: k["code"] for kind in ("knowledge", "skills", "behaviours") for k in team_leader[kind]}
    for duty, source in zip(team_leader["duties"], published("ST0384_1.4")["duties"], strict=True):
        mapped = source["mappedKnowledge"] + source["mappedSkills"] + source["mappedBehaviour"]
        assert duty["unresolved_ksb_ids"] == [] and set(duty["ksb_codes"]) <= codes
        assert sorted(duty["ksb_codes"]) == sorted(by_guid[guid.lower()] for guid in mapped)
    listed = client.get("/v1/apprenticeship-standards").get_json()
    assert [(s["reference_number"], [v["version"] for v in s["versions"]]) for s in listed["items"]] == [
        ("ST0071", ["1.2", "1.3"]), ("ST0072", ["1.1"]), ("ST0384", ["1.4"])]
    assert listed["items"][0]["title"] == published("ST0071_1.3")["title"]


def test_importing_again_changes_nothing_and_a_changed_object_updates_its_version(client, auth):
    source = published("ST0384_1.4")
    send(client, auth, source)
    first = version(client, "ST0384", "1.4")
    again = send(client, auth, source)
    assert again["versions"][0]["outcome"] == "unchanged" and again["counts"]["unchanged"] == 1
    changed = copy.deepcopy(source)
    changed["knowledges"][2]["detail"] = "Reworded by the publisher."
    changed["minimumHoursForCompliance"] = "360"
    [update] = send(client, auth, changed)["versions"]
    assert update["outcome"] == "updated"
    [reworded] = update["changes"]["ksbs_reworded"]
    assert (reworded["new_code"], reworded["new_text"]) == ("K3", "Reworded by the publisher.")
    assert {"field": "minimum_otj_hours", "old": 348, "new": 360} in update["changes"]["fields_changed"]
    now = version(client, "ST0384", "1.4")
    assert now["knowledge"][2]["detail"] == "Reworded by the publisher." and now["minimum_otj_hours"] == 360
    assert [k["id"] for k in now["knowledge"]] == [k["id"] for k in first["knowledge"]]


def test_a_new_version_says_what_changed_since_the_one_before(client, auth):
    send(client, auth, published("ST0071_1.2"))
    [created] = send(client, auth, published("ST0071_1.3"))["versions"]
    assert created["outcome"] == "created"
    changes = client.get("/v1/apprenticeship-standards/ST0071/versions/1.3/changes?from_version=1.2").get_json()
    assert changes == {**created["changes"], "ksb_mappings_affected": []}  # the import's report has no mappings
    assert changes["ksbs_added"] == changes["ksbs_removed"] == changes["ksbs_reworded"] == []
    assert {change["field"] for change in changes["fields_changed"]} == {"status", "earliest_start_date",
                                                                         "latest_start_date"}


def test_faults_are_reported_at_their_paths_and_nothing_readable_is_lost(client, auth):
    broken = published("ST0384_1.4")
    broken["duties"][0]["mappedKnowledge"].append("00000000-0000-4000-8000-000000000000")
    broken["skills"][1]["skillId"] = broken["skills"][0]["skillId"]
    report = send(client, auth, [broken, "not a standard", published("ST0072_1.1")])
    faults = {(f["path"], f["code"], f["severity"]) for f in report["faults"]}
    assert ("$[1]", "not_an_object", "error") in faults
    assert ("$[0].skills[1].skillId", "repeated_id", "warning") in faults
    missing = len(published("ST0384_1.4")["duties"][0]["mappedKnowledge"])
    assert (f"$[0].duties[0].mappedKnowledge[{missing}]", "unknown_reference", "warning") in faults
    assert report["counts"]["created"] == 2
    served = version(client, "ST0384", "1.4")
    assert [s["code"] for s in served["skills"]][:2] == ["S1", "S2"]  # the repeated one is kept, in its place
    # D1 maps S2's own GUID, which S2 no longer has, and the id that names nothing: both kept, unresolved
    assert set(served["duties"][0]["unresolved_ksb_ids"]) == {"00000000-0000-4000-8000-000000000000",
                                                              published("ST0384_1.4")["skills"][1]["skillId"]}
    assert ("$.skills[1].skillId", "repeated_id") in {(f["path"], f["code"]) for f in served["import_faults"]}


@pytest.mark.parametrize("body, content_type, status", [
    (b"{not json", "application/json", 422), (b'[1, "two"]', "application/json", 422),
    (json.dumps({"title": "no reference number or version"}).encode(), "application/json", 422),
    (b'{"referenceNumber": "ST0384"}', "text/plain", 415)])
def test_a_document_with_nothing_readable_is_refused_whole(client, auth, body, content_type, status):
    answer = client.post(IMPORT, data=body, content_type=content_type, headers=auth("admin"))
    assert answer.status_code == status and answer.mimetype == "application/problem+json", answer.get_data()
    if status == 422:
        assert answer.get_json()["faults"] and all(f["severity"] == "error" for f in answer.get_json()["faults"])
    assert client.get("/v1/apprenticeship-standards").get_json()["items"] == []


def test_an_empty_array_imports_nothing(client, auth):
    assert send(client, auth, [])["counts"] == {"created": 0, "updated": 0, "unchanged": 0}


def test_only_admins_import_and_versions_in_development_are_theirs_alone(client, auth):
    assert client.post(IMPORT, data=b"{}", content_type="application/json").status_code == 401
    for caller in ("centre_admin_a", "author_ocr", "sync_client_skills_cfa"):
        answer = client.post(IMPORT, data=json.dumps(published("ST0072_1.1")), content_type="application/json",
                             headers=auth(caller))
        assert answer.status_code == 403, caller
    proposed = {**published("ST0072_1.1"), "version": "1.2", "status": "In development"}
    send(client, auth, [published("ST0072_1.1"), proposed])
    assert version(client, "ST0072", "1.1")["status"] == "approved"  # anonymous
    version(client, "ST0072", "1.2", status=404)
    version(client, "ST0072", "1.2", headers=auth("centre_admin_a"), status=404)
    assert version(client, "ST0072", "1.2", headers=auth("admin"))["status"] == "in_development"
    listed = client.get("/v1/apprenticeship-standards/ST0072").get_json()
    assert [v["version"] for v in listed["versions"]] == ["1.1"]
    assert client.get("/v1/apprenticeship-standards/ST9999").status_code == 404


def test_the_command_imports_a_file_of_the_api_s_array_once(fresh_url, tmp_path):
    from tests.test_cli import qualtrack

    whole = tmp_path / "apprenticeshipstandards.json"
    whole.write_text(json.dumps([published(name) for name in ("ST0071_1.2", "ST0071_1.3", "ST0072_1.1",
                                                               "ST0384_1.4")]), encoding="utf-8")
    qualtrack("init-db", database_url=fresh_url)
    first = qualtrack("import-standards", str(whole), database_url=fresh_url)
    assert "created   ST0384 version 1.4" in first.stdout and "4 created, 0 updated, 0 unchanged" in first.stdout
    assert "0 created, 0 updated, 4 unchanged; 0 fault(s)" in qualtrack("import-standards", str(whole),
                                                                        database_url=fresh_url).stdout
    broken = tmp_path / "broken.json"
    broken.write_text("[1]", encoding="utf-8")
    refused = qualtrack("import-standards", str(broken), database_url=fresh_url, check=False)
    assert refused.returncode == 1 and "error: $[0]:" in refused.stderr


VERSION_FIELDS = """id standardId referenceNumber version href status statusSource title titleSource level route
larsCode typicalDurationMonths earliestStartDate latestStartDate latestEndDate approvedForDelivery minimumOtjHours
minimumOtjHoursReadOn coreAndOptions options { optionId title occupationCode } unstructuredOptions overviewOfRole
overviewOfRoleSource changeNote changedDate sourceUrl lastUpdated licence importFaults { path code severity message }
knowledge { id ksbId code detail detailSource } skills { id ksbId code detail detailSource }
behaviours { id ksbId code detail detailSource }
duties { id dutyId code detail detailSource isCore ksbCodes unresolvedKsbIds optionIds unresolvedOptionIds criteria }"""


def snake_keys(value):
    from tests.graphql_helpers import snake

    if isinstance(value, dict):
        return {snake(key): snake_keys(item) for key, item in value.items()}
    return [snake_keys(item) for item in value] if isinstance(value, list) else value


def test_graphql_serves_what_rest_serves(client, auth):
    from tests.graphql_helpers import gql

    send(client, auth, [published("ST0071_1.2"), published("ST0071_1.3"), published("ST0384_1.4")])
    query = f"""query($r: String!, $v: String!) {{ apprenticeshipStandardVersion(referenceNumber: $r, version: $v)
      {{ {VERSION_FIELDS} changesFrom(version: "1.2") }} }}"""
    for reference, number in (("ST0071", "1.3"), ("ST0384", "1.4")):
        served = gql(client, query, {"r": reference, "v": number})["data"]["apprenticeshipStandardVersion"]
        changes = served.pop("changesFrom")
        assert snake_keys(served) == version(client, reference, number)
        rest_changes = client.get(f"/v1/apprenticeship-standards/{reference}/versions/{number}/changes",
                                  query_string={"from_version": "1.2"})
        assert changes == (rest_changes.get_json() if rest_changes.status_code == 200 else None)
    listed = gql(client, """{ apprenticeshipStandards { nodes { id referenceNumber title level route href
      versions { version status title earliestStartDate latestStartDate minimumOtjHours updatedAt href } } } }""")
    assert [snake_keys(node) for node in listed["data"]["apprenticeshipStandards"]["nodes"]] == \
        client.get("/v1/apprenticeship-standards").get_json()["items"]
    one = gql(client, '{ apprenticeshipStandard(referenceNumber: "ST9999") { id } }')
    assert one["data"]["apprenticeshipStandard"] is None


def test_hostile_text_is_stored_without_what_no_column_holds_and_reported(client, auth):
    """NUL and other control characters, and lone surrogates (which JSON may spell as \\ud800), in any text or id
    of a real file: the import answers 200, stores the version with those characters removed, and reports each;
    the published object is kept as it came."""
    hostile = published("ST0384_1.4")
    hostile["title"] = "Team\x00 leader\x1b"
    hostile["knowledges"][0]["detail"] = "Perfor\ud800mance management."
    hostile["skills"][0]["skillId"] = "not-a-guid\x00"
    hostile["duties"][0]["dutyDetail"] += "\x7f"
    hostile["optionsUnstructuredTemplate"] = ["Option\x00 A"]
    body = json.dumps(hostile).encode()  # ASCII: the surrogate travels as \ud800, as a hostile client would send it
    answer = client.post(IMPORT, data=body, content_type="application/json", headers=auth("admin"))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    faults = {(f["path"], f["code"]) for f in answer.get_json()["faults"]}
    assert {("$.title", "unstorable_character"), ("$.knowledges[0].detail", "unstorable_character"),
            ("$.skills[0].skillId", "wrong_type"), ("$.duties[0].dutyDetail", "unstorable_character"),
            ("$.optionsUnstructuredTemplate[0]", "unstorable_character")} <= faults
    served = version(client, "ST0384", "1.4")
    assert served["title"] == "Team leader" and served["knowledge"][0]["detail"] == "Performance management."
    assert served["skills"][0]["ksb_id"] is None and served["unstructured_options"] == ["Option A"]
    assert send(client, auth, hostile)["versions"][0]["outcome"] == "unchanged"


def test_imports_tell_the_change_feed_and_only_admins_see_versions_in_development(client, auth):
    seen = client.get("/v1/changes?type=apprenticeship_standard.*", headers=auth("admin")).get_json()
    since = seen["next_cursor"]
    send(client, auth, [published("ST0071_1.2"), {**published("ST0071_1.3"), "status": "In development"}])
    send(client, auth, published("ST0071_1.2"))  # unchanged: no event
    changed = {**published("ST0071_1.2"), "minimumHoursForCompliance": "400"}
    send(client, auth, changed)

    def events(caller):
        page = client.get(f"/v1/changes?type=apprenticeship_standard.*&since={since}", headers=auth(caller))
        return [(e["type"], e["code"], e["href"]) for e in page.get_json()["items"]]

    created, updated = "apprenticeship_standard.created", "apprenticeship_standard.updated"
    path = "/v1/apprenticeship-standards/ST0071/versions/"
    assert events("admin") == [(created, "ST0071", path + "1.2"), (created, "ST0071", path + "1.3"),
                               (updated, "ST0071", path + "1.2")]
    assert events("centre_admin_a") == [(created, "ST0071", path + "1.2"), (updated, "ST0071", path + "1.2")]
    [entry] = [e for e in client.get(f"/v1/changes?since={since}", headers=auth("admin")).get_json()["items"]
               if e["type"] == updated]
    assert entry["version_id"] == version(client, "ST0071", "1.2")["id"] == entry["subject_id"]
