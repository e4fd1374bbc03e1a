"""Apprenticeships as tracked: unit criteria mapped to the KSBs of a standard version (by the unit's authors, served
both ways, carried to a later version by the KSBs' GUIDs), a learner on a standard version with the units that
deliver it, progress per KSB and duty from the decisions on mapped criteria, and the off-the-job (OTJ) ledger
(planned hours by the funding rule set of the start date, gateway, four weeks without training, CSV logs). The
acceptance test walks CS 34 to ST0072 version 1.1 through REST and GraphQL."""

import copy
import json
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tests.graphql_helpers import gql
from tests.tracking_helpers import enrol, make_learner, post

STANDARDS = Path(__file__).parent / "fixtures" / "apprenticeships"


def st0072() -> dict:
    return json.loads((STANDARDS / "ST0072_1.1.json").read_text(encoding="utf-8"))


def cs34_version(client, ids) -> tuple[str, dict]:
    """CS 34's published version id, and its criteria by number."""
    unit = client.get(f"/v1/units/{ids['CS 34']}").get_json()
    return unit["version_id"], {c["number"]: c["id"] for o in unit["learning_outcomes"] for c in o["criteria"]}


def map_ksb(client, auth, unit_version, ksb, criterion=None, caller="author_skills_cfa", version="1.1", status=201):
    body = {"unit_version_id": unit_version, "reference_number": "ST0072", "version": version, "ksb_code": ksb}
    if criterion:
        body["criterion_id"] = criterion
    return post(client, auth, caller, "/v1/ksb-mappings", body, status=status)


def apprentice(client, auth, identities, ids, *, start="2026-01-05", end="2027-01-04", **extra) -> tuple[dict, str]:
    """A new learner at centre A on CS 34 and on ST0072 (version 1.1): (the apprenticeship, the CS 34 enrolment)."""
    learner = make_learner(client, auth, identities)["id"]
    enrolment = enrol(client, auth, identities, learner, ids["CS 34"])["id"]
    body = {"learner_id": learner, "reference_number": "ST0072", "start_date": start, "planned_end_date": end,
            "enrolment_ids": [enrolment], **extra}
    return post(client, auth, "centre_admin_a", "/v1/apprenticeships", body), enrolment


def today() -> date:
    return datetime.now(UTC).date()


PROGRESS_QUERY = """query($id: UUID!) { apprenticeship(id: $id) { id version etag
  progress { ksbsTotal ksbsMapped ksbsComplete complete ksbs { code kind ksbId status criteria met } }
  otj { plannedHours hoursRecorded hoursConfirmed inactive asOf ruleSet { id method }
        inactivePeriods { after until days } } } }"""


def test_cs34_criteria_mapped_to_st0072_give_ksb_progress_and_the_otj_position(client, auth, identities, ids):
    unit_version, criteria = cs34_version(client, ids)
    k1 = [ids["ksb_mapping"], map_ksb(client, auth, unit_version, "K1", criteria["1.2"])["id"]]  # 1.1: the world's
    s1 = map_ksb(client, auth, unit_version, "S1", criteria["2.1"])["id"]
    b1 = map_ksb(client, auth, unit_version, "B1")["id"]  # the whole unit
    again = map_ksb(client, auth, unit_version, "K1", criteria["1.1"], status=200)
    assert again["id"] == k1[0] and again["ksb_id"] == st0072()["knowledges"][0]["knowledgeId"]

    by_standard = client.get("/v1/ksb-mappings?reference_number=ST0072&version=1.1", headers=auth("admin")).get_json()
    by_unit = client.get(f"/v1/ksb-mappings?unit_version_id={unit_version}", headers=auth("admin")).get_json()
    assert {m["id"] for m in by_standard["items"]} == {m["id"] for m in by_unit["items"]} == {*k1, s1, b1}
    only_k1 = client.get("/v1/ksb-mappings?reference_number=ST0072&version=1.1&ksb_code=K1").get_json()
    assert {m["id"] for m in only_k1["items"]} == set(k1)  # published on both sides: anyone may read them

    apprenticeship, enrolment = apprentice(client, auth, identities, ids, prior_learning_hours=20)
    assert (apprenticeship["version"], apprenticeship["enrolment_ids"]) == ("1.1", [enrolment])  # 1.2: in development
    progress = client.get(apprenticeship["progress"], headers=auth("centre_admin_a")).get_json()
    ksbs = {k["code"]: k for k in progress["ksbs"]}
    assert (progress["ksbs_total"], progress["ksbs_mapped"], progress["ksbs_complete"]) == (35, 3, 0)
    assert (ksbs["K1"]["criteria"], ksbs["S1"]["criteria"], ksbs["B1"]["criteria"]) == (2, 1, len(criteria))
    assert ksbs["K1"]["status"] == "not_started" and ksbs["K2"]["status"] == "not_mapped"

    post(client, auth, "assessor_a", f"/v1/enrolments/{enrolment}/decisions", {
        "criterion_id": criteria["1.1"], "outcome": "met", "feedback": "explained clearly"})
    assert {k["code"]: k["status"] for k in client.get(apprenticeship["progress"], headers=auth(
        "centre_admin_a")).get_json()["ksbs"]}["K1"] == "in_progress"
    post(client, auth, "assessor_a", f"/v1/enrolments/{enrolment}/decisions/batch", {"decisions": [
        {"criterion_id": criteria[n], "outcome": "met", "feedback": "seen"} for n in ("1.2", "2.1")]})
    progress = client.get(apprenticeship["progress"], headers=auth("centre_admin_a")).get_json()
    ksbs = {k["code"]: k for k in progress["ksbs"]}
    assert [code for code, k in ksbs.items() if k["complete"]] == ["K1", "S1"]
    assert ksbs["B1"]["status"] == "in_progress" and ksbs["B1"]["met"] == 3
    assert progress["ksbs_complete"] == 2 and not progress["complete"]

    otj = f"{apprenticeship['href']}/otj-activities"
    first = post(client, auth, "assessor_a", otj, {"activity_date": "2026-01-12", "hours": 7.5, "kind": "teaching",
                                                   "description": "Customer types workshop", "ksb_codes": ["K1"]})
    post(client, auth, "lms_client_a", otj, {"activity_date": "2026-03-20", "hours": 3, "kind": "shadowing",
                                            "description": "Shadowed the service lead", "ksb_codes": ["S1", "B1"]})
    post(client, auth, "centre_admin_a", f"{first['href']}/confirm", {}, status=200)
    ledger = client.get(apprenticeship["otj"], headers=auth("centre_admin_a")).get_json()
    as_of = min(today(), date(2027, 1, 4))
    assert ledger["rule_set"]["id"] == "funding-rules-from-2025"
    assert (ledger["planned_hours"], ledger["hours_recorded"], ledger["hours_confirmed"]) == (258, 10.5, 7.5)
    assert ledger["inactive_periods"] == [
        {"after": "2026-01-12", "until": "2026-03-20", "days": 67},
        {"after": "2026-03-20", "until": as_of.isoformat(), "days": (as_of - date(2026, 3, 20)).days}]
    assert ledger["inactive"] and ledger["last_activity_date"] == "2026-03-20"

    graph = gql(client, PROGRESS_QUERY, {"id": apprenticeship["id"]}, auth("centre_admin_a"))["data"]["apprenticeship"]
    assert [(k["code"], k["status"], k["criteria"], k["met"]) for k in graph["progress"]["ksbs"]] == [
        (k["code"], k["status"], k["criteria"], k["met"]) for k in progress["ksbs"]]
    assert (graph["otj"]["plannedHours"], graph["otj"]["hoursRecorded"], graph["otj"]["hoursConfirmed"],
            graph["otj"]["inactive"], graph["otj"]["ruleSet"]["id"]) == (258, 10.5, 7.5, True,
                                                                        "funding-rules-from-2025")
    assert graph["etag"] == client.get(apprenticeship["href"], headers=auth("centre_admin_a")).headers["ETag"]


def test_mappings_are_made_by_the_units_authors_and_checked(client, auth, ids):
    unit_version, criteria = cs34_version(client, ids)
    body = {"unit_version_id": unit_version, "reference_number": "ST0072", "version": "1.1", "ksb_code": "K1"}
    for caller, status in (("author_ocr", 403), ("centre_admin_a", 403), ("assessor_a", 403)):
        assert client.post("/v1/ksb-mappings", json=body, headers=auth(caller)).status_code == status, caller
    assert client.post("/v1/ksb-mappings", json=body).status_code == 401
    for change, field in (({"ksb_code": "K99"}, "ksb_code"), ({"version": "9.9"}, "version"),
                          ({"criterion_id": ids["b13_criterion"]}, "criterion_id"),
                          ({"unit_version_id": ids["b13_criterion"]}, "unit_version_id")):
        answer = client.post("/v1/ksb-mappings", json={**body, **change}, headers=auth("author_skills_cfa"))
        assert answer.status_code == 422 and field in answer.get_json()["errors"], (change, answer.get_json())
    assert client.post("/v1/ksb-mappings", json={**body, "version": "1.2"},  # in development: admins only
                       headers=auth("author_skills_cfa")).status_code == 422
    made = map_ksb(client, auth, unit_version, "K1", criteria["1.4"], caller="sync_client_skills_cfa")
    assert client.delete(made["href"], headers=auth("author_ocr")).status_code == 403
    assert client.delete(made["href"], headers=auth("author_skills_cfa")).status_code == 204
    assert client.get(made["href"], headers=auth("admin")).status_code == 404


def test_mappings_carry_to_a_later_version_by_ksb_guid_and_the_diff_names_those_at_risk(client, auth, ids):
    later = st0072() | {"version": "1.3"}
    later["knowledges"] = copy.deepcopy(later["knowledges"])
    later["knowledges"][0]["detail"] = "Understand who customers are and what they need."  # K1 reworded
    removed = later["knowledges"].pop(1)  # K2 removed: K3 becomes K2
    assert client.post("/v1/imports/apprenticeship-standards", json=later, headers=auth("admin")).status_code == 200
    unit_version, criteria = cs34_version(client, ids)
    mapped = {"K1": ids["ksb_mapping"],  # criterion 1.1 -> K1: the world's
              **{code: map_ksb(client, auth, unit_version, code, criteria[number])["id"]
                 for code, number in (("K2", "1.2"), ("K3", "1.3"))}}

    changes = client.get("/v1/apprenticeship-standards/ST0072/versions/1.3/changes?from_version=1.1",
                         headers=auth("author_skills_cfa")).get_json()
    assert {(m["ksb_code"], tuple(m["changes"])) for m in changes["ksb_mappings_affected"]} == {
        ("K1", ("reworded",)), ("K2", ("removed",)), ("K3", ("recoded",))}

    carry = {"reference_number": "ST0072", "from_version": "1.1", "to_version": "1.3"}
    result = post(client, auth, "author_skills_cfa", "/v1/ksb-mapping-carries", carry, status=200)
    assert {(c["old_ksb_code"], c["new_ksb_code"]) for c in result["carried"]} == {("K1", "K1"), ("K3", "K2")}
    assert result["not_carried"] == [{"mapping_id": mapped["K2"], "ksb_code": "K2",
                                      "reason": f"no KSB with GUID {removed['knowledgeId']} in version 1.3"}]
    again = post(client, auth, "author_skills_cfa", "/v1/ksb-mapping-carries", carry, status=200)
    assert again["carried"] == [] and len(again["already_present"]) == 2
    assert post(client, auth, "author_ocr", "/v1/ksb-mapping-carries", carry, status=200)["carried"] == []
    on_later = client.get("/v1/ksb-mappings?reference_number=ST0072&version=1.3").get_json()["items"]
    assert {(m["ksb_code"], m["criterion_id"], m["carried_from"]) for m in on_later} == {
        ("K1", criteria["1.1"], mapped["K1"]), ("K2", criteria["1.3"], mapped["K3"])}


@pytest.mark.parametrize(("start", "end", "extra", "rule", "planned", "below"), [
    ("2021-09-06", "2022-09-05", {"weekly_hours": 37.5}, "funding-rules-2017-to-2022", 278.4, False),
    ("2021-09-06", "2022-09-05", {"weekly_hours": 20}, "funding-rules-2017-to-2022", 185.6, False),
    ("2021-09-06", "2022-09-05", {}, "funding-rules-2017-to-2022", None, False),
    ("2023-09-04", "2024-09-02", {}, "funding-rules-2022-to-2025", 278.4, False),
    ("2023-09-04", "2024-09-02", {"weekly_hours": 15}, "funding-rules-2022-to-2025", 139.2, False),
    ("2023-09-04", "2024-09-02", {"weekly_hours": 45, "prior_learning_hours": 78}, "funding-rules-2022-to-2025",
     200.4, False),
    ("2025-08-01", "2026-08-01", {"weekly_hours": 10}, "funding-rules-from-2025", 278, False),
    ("2025-09-01", "2026-09-01", {"prior_learning_hours": 100}, "funding-rules-from-2025", 178, True),
])
def test_planned_otj_hours_follow_the_rule_set_of_the_start_date(client, auth, identities, ids, start, end, extra,
                                                                 rule, planned, below):
    apprenticeship, _ = apprentice(client, auth, identities, ids, start=start, end=end, version="1.1", **extra)
    ledger = client.get(apprenticeship["otj"], headers=auth("centre_admin_a")).get_json()
    assert (ledger["rule_set"]["id"], ledger["planned_hours"], ledger["below_funding_minimum"]) == (
        rule, planned, below)
    assert (ledger["reason"] is None) == (planned is not None)


def test_an_operator_replaces_the_rule_sets(client, auth, identities, ids, tmp_path):
    from api.models import AuditEvent
    from api.services.apprenticeships.otj_rules import DEFAULT_RULE_SETS, load_rule_sets
    from api.services.common.access import Principal

    operator = Principal(kind="account", id=uuid.UUID(int=0), roles=frozenset({"admin"}))  # as the CLI's
    rules = json.loads(DEFAULT_RULE_SETS.read_text(encoding="utf-8"))
    rules["rule_sets"][1]["weekly_hours"] = 8
    (tmp_path / "rules.json").write_text(json.dumps(rules), encoding="utf-8")
    assert load_rule_sets(tmp_path / "rules.json", operator) == {"loaded": 3}
    assert AuditEvent.select().where(AuditEvent.action == "otj_rule_sets.loaded").count() == 1
    apprenticeship, _ = apprentice(client, auth, identities, ids, start="2023-09-04", end="2024-09-02",
                                   version="1.1")
    assert client.get(apprenticeship["otj"], headers=auth("centre_admin_a")).get_json()["planned_hours"] == 371.2
    (tmp_path / "bad.json").write_text('{"rule_sets": [{"id": "x", "method": "guess"}]}', encoding="utf-8")
    with pytest.raises(Exception, match="not a rule-set file"):
        load_rule_sets(tmp_path / "bad.json", operator)


def test_gateway_ends_otj_training_and_confirmation_needs_someone_else(client, auth, identities, ids):
    apprenticeship, _ = apprentice(client, auth, identities, ids)
    otj = f"{apprenticeship['href']}/otj-activities"
    activity = {"hours": 2, "kind": "mentoring", "description": "Mentor session"}
    kept = post(client, auth, "assessor_a", otj, {**activity, "activity_date": "2026-02-02"})
    late = post(client, auth, "assessor_a", otj, {**activity, "activity_date": "2026-06-01"})
    for day in ("2025-12-31", (today().replace(year=today().year + 1)).isoformat()):
        answer = client.post(otj, json={**activity, "activity_date": day}, headers=auth("assessor_a"))
        assert answer.status_code == 422 and "activity_date" in answer.get_json()["errors"], day
    etag = client.get(apprenticeship["href"], headers=auth("centre_admin_a")).headers["ETag"]
    changed = client.patch(apprenticeship["href"], json={"gateway_date": "2026-05-01"},
                           headers={**auth("centre_admin_a"), "If-Match": etag})
    assert changed.status_code == 200, changed.get_json()
    ledger = client.get(apprenticeship["otj"], headers=auth("centre_admin_a")).get_json()
    assert (ledger["hours_recorded"], ledger["hours_after_gateway_excluded"], ledger["as_of"]) == (2, 2, "2026-05-01")
    after = client.post(otj, json={**activity, "activity_date": "2026-05-02"}, headers=auth("assessor_a"))
    assert after.status_code == 422
    assert client.post(f"{kept['href']}/confirm", headers=auth("assessor_a")).status_code == 403  # its recorder
    assert client.post(f"{kept['href']}/confirm", headers=auth("learner_a")).status_code in (403, 404)
    confirmed = client.post(f"{kept['href']}/confirm", headers=auth("centre_admin_a"))
    assert confirmed.status_code == 200 and confirmed.get_json()["confirmed_by"].startswith("account:")
    again = client.post(f"{kept['href']}/confirm", headers=auth("lms_client_a"))  # a retry: nothing changes
    assert again.status_code == 200 and again.get_json() == confirmed.get_json()
    assert client.get(late["href"], headers=auth("centre_admin_b")).status_code == 404


def test_apprenticeships_are_one_per_learner_and_version_and_need_a_deliverable_version(client, auth, identities,
                                                                                       ids):
    apprenticeship, enrolment = apprentice(client, auth, identities, ids)
    body = {"learner_id": apprenticeship["learner_id"], "reference_number": "ST0072", "start_date": "2026-02-01",
            "planned_end_date": "2027-02-01"}
    again = client.post("/v1/apprenticeships", json=body, headers=auth("centre_admin_a"))
    assert again.status_code == 409 and again.get_json()["existing_id"] == apprenticeship["id"]
    for change, field in (({"version": "1.2"}, "version"), ({"reference_number": "ST0384"}, "start_date"),
                          ({"option_id": "x"}, "option_id"), ({"planned_end_date": "2026-01-01"}, "planned_end_date"),
                          ({"enrolment_ids": [ids["enrolment"]]}, "enrolment_ids")):
        answer = client.post("/v1/apprenticeships", json={**body, **change}, headers=auth("centre_admin_a"))
        assert answer.status_code == 422 and field in answer.get_json()["errors"], (change, answer.get_json())
    for caller in ("assessor_a", "centre_admin_b", "lms_client_a"):
        status = client.post("/v1/apprenticeships", json=body, headers=auth(caller)).status_code
        assert status in ((403, 404) if caller != "lms_client_a" else (409,)), (caller, status)
    listed = client.get(f"/v1/learners/{apprenticeship['learner_id']}/apprenticeships",
                        headers=auth("assessor_a")).get_json()
    assert [a["id"] for a in listed["items"]] == [apprenticeship["id"]]


def test_otj_logs_import_as_csv_all_or_nothing_and_once(client, auth, identities, ids):
    apprenticeship, _ = apprentice(client, auth, identities, ids)
    a = apprenticeship["id"]
    header = "apprenticeship_id,activity_date,hours,kind,description,ksb_codes,external_ref\n"
    good = (f"{a},2026-01-10,2.5,teaching,Workshop one,K1;K2,log-1\n"
            f"{a},2026-01-17,1,online_learning,Module two,S3 B1,log-2\n")

    def send(text, caller="lms_client_a"):
        return client.post("/v1/imports/otj-activities", data=(header + text).encode(), content_type="text/csv",
                           headers=auth(caller))

    bad = send(good + f"{a},2026-01-24,-1,teaching,Bad hours,,log-3\n{a},2026-01-31,1,nap,Bad kind,,log-4\n"
                      f"{a},2026-02-07,1,teaching,No such KSB,K99,log-5\n{a},2026-02-14,1,teaching,Again,,log-2\n")
    assert bad.status_code == 422
    assert set(bad.get_json()["errors"]) == {"row 4.hours", "row 5.kind", "row 6.ksb_codes", "row 7.external_ref"}
    assert client.get(f"{apprenticeship['href']}/otj-activities", headers=auth("admin")).get_json()["items"] == []
    first = send(good)
    assert first.status_code == 200, first.get_json()
    assert (first.get_json()["recorded"], first.get_json()["unchanged"]) == (2, 0)
    repeat = send(good).get_json()
    assert (repeat["recorded"], repeat["unchanged"]) == (0, 2)
    changed = send(f"{a},2026-01-10,3,teaching,Workshop one,K1;K2,log-1\n")
    assert changed.status_code == 422 and "row 2.external_ref" in changed.get_json()["errors"]
    assert send(good, caller="centre_admin_b").status_code == 422  # not theirs: named on each row, nothing written
    ledger = client.get(apprenticeship["otj"], headers=auth("admin")).get_json()
    assert ledger["hours_recorded"] == 3.5
    events = client.get(f"/v1/changes?type=otj_activity.*&learner_id={apprenticeship['learner_id']}",
                        headers=auth("admin")).get_json()
    assert [e["type"] for e in events["items"]] == ["otj_activity.recorded"] * 2


def test_progress_and_the_ledger_cost_the_same_queries_however_much_is_mapped_and_logged(client, auth, identities,
                                                                                           ids):
    from tests.test_query_counts import queries_for

    unit_version, criteria = cs34_version(client, ids)
    apprenticeship, enrolment = apprentice(client, auth, identities, ids)
    b13 = enrol(client, auth, identities, apprenticeship["learner_id"], ids["B13"])["id"]
    etag = client.get(apprenticeship["href"], headers=auth("centre_admin_a")).headers["ETag"]
    assert client.patch(apprenticeship["href"], json={"enrolment_ids": [enrolment, b13]},
                        headers={**auth("centre_admin_a"), "If-Match": etag}).status_code == 200
    admin = auth("admin")
    reads = [apprenticeship["progress"], apprenticeship["otj"], f"{apprenticeship['href']}/otj-activities"]
    otj = f"{apprenticeship['href']}/otj-activities"
    post(client, auth, "assessor_a", otj, {"activity_date": "2026-01-12", "hours": 1, "kind": "teaching",
                                           "description": "One"})
    before = [queries_for(client, url, admin) for url in reads]
    for n, number in enumerate(("1.2", "1.3", "1.4", "2.1", "2.2")):
        map_ksb(client, auth, unit_version, f"S{n + 1}", criteria[number])
        post(client, auth, "assessor_a", f"/v1/enrolments/{enrolment}/decisions", {
            "criterion_id": criteria[number], "outcome": "met", "feedback": "seen"})
        post(client, auth, "assessor_a", otj, {"activity_date": f"2026-02-0{n + 1}", "hours": 1, "kind": "mentoring",
                                               "description": "More", "ksb_codes": [f"S{n + 1}"]})
    map_ksb(client, auth, unit_version, "B2")
    assert [queries_for(client, url, admin) for url in reads] == before


def test_a_learner_s_export_holds_their_apprenticeships_and_off_the_job_training(client, auth, identities, ids):
    apprenticeship, _ = apprentice(client, auth, identities, ids, weekly_hours=30)
    activity = post(client, auth, "assessor_a", f"{apprenticeship['href']}/otj-activities", {
        "activity_date": "2026-01-12", "hours": 2, "kind": "teaching", "description": "Workshop"})
    export = client.get(f"/v1/learners/{apprenticeship['learner_id']}/export", headers=auth("centre_admin_a"))
    assert export.status_code == 200
    [held] = export.get_json()["apprenticeships"]
    assert (held["id"], held["weekly_hours"], held["start_date"]) == (apprenticeship["id"], 30, "2026-01-05")
    assert export.get_json()["otj_activities"] == [activity]
