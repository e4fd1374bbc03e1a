"""Concurrent creates of one identity, over HTTP against `qualtrack serve` (gunicorn, four workers) on a database of the
backend under test (on PostgreSQL, the pooled database the app builds): exactly one record is made, the other
requests get a 409 problem that points at it, and nothing else is written. Eight requests are released together by
a barrier, each from its own thread. Concurrent migrations of one enrolment to a new unit version likewise carry its
assessment over once."""

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from api.config import PROJECT_ROOT
from tests.conftest import empty_database_url
from tests.test_cli import qualtrack
from tests.test_deploy import PASSWORD, Host, call, make_centre_admin, token
from tests.test_serve import running_server
from tests.test_sync import revised_cs34
from tests.tracking_helpers import valid_uln

RACERS = 8
PROBLEM = "application/problem+json"


@dataclass
class Served:
    host: Host
    database_url: str
    centre_id: str
    bearer: dict

    def send(self, method: str, path: str, body=None, headers=None):
        return call(self.host, method, path, body, {**self.bearer, **(headers or {})})


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`qualtrack serve` with four workers over a fresh database, a centre and its admin's bearer token."""
    with empty_database_url(tmp_path_factory.mktemp("identity"), "identity") as url, \
            running_server(url, QUALTRACK_WORKERS="4") as base:
        host = Host(process=None, base=base, log=None)  # call() and token() need only its address
        centre_id, email = make_centre_admin(url, "IDN")
        yield Served(host, url, centre_id, {"Authorization": f"Bearer {token(host, email)}"})


def together(sends: list[Callable[[], tuple]]) -> list[tuple]:
    """Run every send at the same moment (one thread each, released by a barrier); their answers, in order."""
    barrier = threading.Barrier(len(sends))

    def run(send):
        barrier.wait(timeout=60)
        return send()

    with ThreadPoolExecutor(len(sends)) as pool:
        return list(pool.map(run, sends))


def one_made_the_rest_point_at_it(answers: list[tuple], made_status: int = 201, field: str | None = None) -> dict:
    """Exactly one answer is ``made_status``; every other is a 409 problem whose existing_id and existing_href name
    the record it made (and whose errors name ``field``). Returns that record."""
    statuses = sorted(status for status, _, _ in answers)
    assert statuses == [made_status] + [409] * (len(answers) - 1), [(s, b) for s, _, b in answers]
    made = next(body for status, _, body in answers if status == made_status)
    for status, headers, body in answers:
        if status == 409:
            assert headers["Content-Type"].startswith(PROBLEM), body
            assert (body["existing_id"], body["existing_href"]) == (made["id"], made["href"]), body
            if field:
                assert field in body["errors"], body
    return made


def new_learner(served: Served, seed: int, **extra) -> dict:
    body = {"centre_id": served.centre_id, "uln": valid_uln(seed), "given_name": "Race", "family_name": f"L{seed}",
            **extra}
    status, _, made = served.send("POST", "/v1/learners", body)
    assert status == 201, made
    return made


def unit_id(served: Served, code: str) -> str:
    status, _, page = served.send("GET", f"/v1/units?code={code.replace(' ', '%20')}")
    assert status == 200 and len(page["items"]) == 1, page
    return page["items"][0]["id"]


def listed(served: Served, path: str) -> list[dict]:
    status, _, page = served.send("GET", path)
    assert status == 200, page
    return page["items"]


def test_concurrent_creates_of_one_uln_make_one_learner(served):
    body = {"centre_id": served.centre_id, "uln": valid_uln(101), "given_name": "Ada", "family_name": "Lovelace"}
    answers = together([lambda: served.send("POST", "/v1/learners", body)] * RACERS)
    made = one_made_the_rest_point_at_it(answers, field="uln")
    found = listed(served, f"/v1/learners?centre_id={served.centre_id}&uln={body['uln']}")
    assert [learner["id"] for learner in found] == [made["id"]]


def test_concurrent_creates_with_one_external_id_make_one_learner(served):
    ulns = [valid_uln(200 + i) for i in range(RACERS)]
    shared = [{"system": "mis", "id": "MIS-0001"}]
    answers = together([lambda uln=uln: served.send("POST", "/v1/learners", {
        "centre_id": served.centre_id, "uln": uln, "given_name": "Ada", "family_name": "Byron",
        "external_ids": shared}) for uln in ulns])
    made = one_made_the_rest_point_at_it(answers, field="external_ids[0]")
    found = listed(served, f"/v1/learners?centre_id={served.centre_id}&external_system=mis&external_id=MIS-0001")
    assert [learner["id"] for learner in found] == [made["id"]]
    for uln in ulns:  # the refused creates left no learner behind
        expected = [made["id"]] if uln == made["uln"] else []
        assert [learner["id"] for learner in listed(served, f"/v1/learners?uln={uln}")] == expected


def test_concurrent_updates_claiming_one_external_id_give_it_to_one_learner(served):
    learners = [new_learner(served, 300 + i) for i in range(RACERS)]
    claim = {"external_ids": [{"system": "lms", "id": "LMS-shared"}]}
    answers = together([lambda learner=learner: served.send("PATCH", learner["href"], claim, {"If-Match": "*"})
                        for learner in learners])
    made = one_made_the_rest_point_at_it(answers, made_status=200, field="external_ids[0]")
    holders = listed(served, f"/v1/learners?centre_id={served.centre_id}&external_system=lms&external_id=LMS-shared")
    assert [learner["id"] for learner in holders] == [made["id"]]


def test_concurrent_enrolments_of_one_learner_on_one_unit_make_one(served):
    learner, unit = new_learner(served, 400), unit_id(served, "B13")
    body = {"learner_id": learner["id"], "unit_id": unit, "start_date": "2026-09-01"}
    answers = together([lambda: served.send("POST", "/v1/enrolments", body)] * RACERS)
    made = one_made_the_rest_point_at_it(answers, field="unit_id")
    active = listed(served, f"/v1/enrolments?learner_id={learner['id']}&status=active")
    assert [enrolment["id"] for enrolment in active] == [made["id"]]


def test_concurrent_graphql_enrolments_make_one_and_the_rest_point_at_it(served):
    learner, unit = new_learner(served, 500), unit_id(served, "B13")
    query = ("mutation($l: UUID!, $u: UUID!) { enrolLearner(input: {learnerId: $l, unitId: $u, startDate: "
             '"2026-09-01"}) { __typename ... on Enrolment { id } ... on Conflict { existingId existingHref '
             "httpStatus fields { field } } } }")
    request = {"query": query, "variables": {"l": learner["id"], "u": unit}}
    answers = together([lambda: served.send("POST", "/graphql", request)] * RACERS)
    assert all(status == 200 and "errors" not in body for status, _, body in answers), answers
    results = [body["data"]["enrolLearner"] for _, _, body in answers]
    made = [r for r in results if r["__typename"] == "Enrolment"]
    assert len(made) == 1, results
    made_id = made[0]["id"]
    assert sorted(r["__typename"] for r in results) == ["Conflict"] * (RACERS - 1) + ["Enrolment"]
    for result in results:
        if result["__typename"] == "Conflict":
            assert result == {"__typename": "Conflict", "existingId": made_id,
                              "existingHref": f"/v1/enrolments/{made_id}", "httpStatus": 409,
                              "fields": [{"field": "unit_id"}]}
    active = listed(served, f"/v1/enrolments?learner_id={learner['id']}&status=active")
    assert [enrolment["id"] for enrolment in active] == [made_id]


def test_concurrent_reactivations_of_one_unit_leave_one_enrolment_active(served):
    learner, unit = new_learner(served, 600), unit_id(served, "CS 34")
    withdrawn = []
    for _ in range(RACERS):
        status, _, made = served.send("POST", "/v1/enrolments", {"learner_id": learner["id"], "unit_id": unit,
                                                                 "start_date": "2026-09-01"})
        assert status == 201, made
        status, _, _ = served.send("PATCH", made["href"], {"status": "withdrawn"}, {"If-Match": "*"})
        assert status == 200
        withdrawn.append(made)
    answers = together([lambda e=enrolment: served.send("PATCH", e["href"], {"status": "active"}, {"If-Match": "*"})
                        for enrolment in withdrawn])
    made = one_made_the_rest_point_at_it(answers, made_status=200, field="unit_id")
    active = listed(served, f"/v1/enrolments?learner_id={learner['id']}&status=active")
    assert [enrolment["id"] for enrolment in active] == [made["id"]]


def test_concurrent_qualification_enrolments_enrol_each_mandatory_unit_once(served):
    qualtrack("load-units", str(PROJECT_ROOT / "tests" / "fixtures" / "qualification.yaml"),
              database_url=served.database_url)
    qualification = listed(served, "/v1/qualifications?owner=ocr")[0]["id"]
    learner = new_learner(served, 700)
    path = f"/v1/learners/{learner['id']}/qualifications/{qualification}/enrolments"
    answers = together([lambda: served.send("POST", path, {"start_date": "2026-09-01"})] * RACERS)
    assert [status for status, _, _ in answers] == [201] * RACERS, answers  # a unit enrolled meanwhile is kept
    made = [item["id"] for _, _, body in answers for item in body["items"]]
    active = listed(served, f"/v1/enrolments?learner_id={learner['id']}&status=active")
    assert len(made) == 1 and [enrolment["id"] for enrolment in active] == made  # B13, the one mandatory unit


def signed_in(served: Served, email: str, *options: str) -> dict:
    """A new account made with the CLI (as an operator would); its bearer header."""
    qualtrack("create-user", "--email", email, *options, database_url=served.database_url,
              env={"QUALTRACK_NEW_PASSWORD": PASSWORD})
    return {"Authorization": f"Bearer {token(served.host, email)}"}


def test_concurrent_migrations_of_one_enrolment_carry_its_assessment_once(served):
    assessor = signed_in(served, "assessor.idn@deploy.test", "--role", "assessor", "--centre", "IDN",
                         "--assessor-status", "qualified")
    author = signed_in(served, "author.idn@deploy.test", "--role", "author", "--awarding-body", "skills-cfa")
    assessor_id = served.send("GET", "/v1/auth/me", headers=assessor)[2]["id"]
    learner, unit = new_learner(served, 800), unit_id(served, "CS 34")
    status, _, enrolment = served.send("POST", "/v1/enrolments", {
        "learner_id": learner["id"], "unit_id": unit, "start_date": "2026-09-01", "assessor_ids": [assessor_id]})
    assert status == 201, enrolment
    status, _, document = served.send("GET", f"/v1/units/{unit}")
    criteria = [c["id"] for outcome in document["learning_outcomes"] for c in outcome["criteria"]][:3]
    status, _, evidence = served.send("POST", f"{enrolment['href']}/evidence", {
        "type": "professional_discussion", "title": "Discussion", "date": "2026-10-01",
        "authenticity_declared": True, "criterion_ids": criteria})
    assert status == 201, evidence
    for criterion in criteria:
        status, _, decision = served.send("POST", f"{enrolment['href']}/decisions", {
            "criterion_id": criterion, "outcome": "met", "feedback": "ok", "evidence_ids": [evidence["id"]]},
            headers=assessor)
        assert status == 201, decision
    assert served.send("PUT", f"/v1/units/{unit}/draft", revised_cs34(), headers=author)[0] == 201
    assert served.send("POST", f"/v1/units/{unit}/publish", headers=author)[0] == 200

    answers = together([lambda: served.send("POST", f"{enrolment['href']}/migrate", {})] * RACERS)
    assert sorted(status for status, _, _ in answers) == [200] + [409] * (RACERS - 1), answers
    assert all(headers["Content-Type"].startswith(PROBLEM) for status, headers, _ in answers if status == 409)
    status, _, decisions = served.send("GET", f"{enrolment['href']}/decisions")
    carried = [d for d in decisions["items"] if d["carried_from"]]
    assert status == 200 and len(carried) == len(criteria), decisions  # carried over once, not once per request



@pytest.fixture(scope="module")
def st0072(served) -> None:
    """ST0072 version 1.1 imported, by an admin made with the CLI."""
    admin = signed_in(served, "standards.admin@deploy.test", "--role", "admin")
    standard = json.loads((PROJECT_ROOT / "tests" / "fixtures" / "apprenticeships" / "ST0072_1.1.json").read_text())
    status, _, report = served.send("POST", "/v1/imports/apprenticeship-standards", standard, admin)
    assert status == 200, report


def apprenticeship_body(served: Served, seed: int) -> dict:
    """The body that puts a new learner on ST0072."""
    return {"learner_id": new_learner(served, seed)["id"], "reference_number": "ST0072", "start_date": "2026-01-05",
            "planned_end_date": "2027-01-04"}


def test_concurrent_creates_of_one_apprenticeship_make_one(served, st0072):
    body = apprenticeship_body(served, 900)
    answers = together([lambda: served.send("POST", "/v1/apprenticeships", body)] * RACERS)
    made = one_made_the_rest_point_at_it(answers, field="reference_number")
    assert [a["id"] for a in listed(served, f"/v1/learners/{body['learner_id']}/apprenticeships")] == [made["id"]]


def test_concurrent_records_of_one_off_the_job_activity_make_one(served, st0072):
    status, _, apprenticeship = served.send("POST", "/v1/apprenticeships", apprenticeship_body(served, 910))
    assert status == 201, apprenticeship
    activity = {"activity_date": "2026-02-02", "hours": 2, "kind": "teaching", "description": "Workshop",
                "external_ref": "lms-1"}
    answers = together([lambda: served.send("POST", f"{apprenticeship['href']}/otj-activities", activity)] * RACERS)
    made = one_made_the_rest_point_at_it(answers, field="external_ref")
    assert [a["id"] for a in listed(served, f"{apprenticeship['href']}/otj-activities")] == [made["id"]]


def send_csv(served: Served, path: str, text: str) -> tuple:
    """(status, parsed JSON body) of a CSV POST."""
    request = urllib.request.Request(served.host.base + path, data=text.encode(), method="POST",
                                     headers={**served.bearer, "Content-Type": "text/csv"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_concurrent_imports_of_one_off_the_job_log_record_each_activity_once(served, st0072):
    status, _, apprenticeship = served.send("POST", "/v1/apprenticeships", apprenticeship_body(served, 920))
    assert status == 201, apprenticeship
    log = "apprenticeship_id,activity_date,hours,kind,description,external_ref\n" + "".join(
        f"{apprenticeship['id']},2026-02-0{n},1.5,mentoring,Session {n},log-{n}\n" for n in range(1, 4))
    answers = together([lambda: send_csv(served, "/v1/imports/otj-activities", log)] * RACERS)
    statuses = [status for status, _ in answers]
    assert set(statuses) <= {200, 409} and 200 in statuses, answers  # a 409 records nothing: sent again, unchanged
    assert sum(body["recorded"] for status, body in answers if status == 200) == 3, answers
    recorded = listed(served, f"{apprenticeship['href']}/otj-activities")
    assert sorted(a["external_ref"] for a in recorded) == ["log-1", "log-2", "log-3"]


def test_concurrent_decisions_on_one_ksb_keep_one_history_and_one_countersignature(served, st0072):
    status, _, apprenticeship = served.send("POST", "/v1/apprenticeships", apprenticeship_body(served, 930))
    assert status == 201, apprenticeship
    qualified = signed_in(served, "ksb.assessor@deploy.test", "--role", "assessor", "--centre", "IDN",
                          "--assessor-status", "qualified")
    trainee = signed_in(served, "ksb.trainee@deploy.test", "--role", "assessor", "--centre", "IDN",
                        "--assessor-status", "trainee")
    body = {"ksb_code": "K1", "outcome": "met", "feedback": "seen", "reason": "seen again"}
    url = f"{apprenticeship['href']}/ksb-decisions"
    answers = together([lambda: served.send("POST", url, body, qualified)] * RACERS)
    assert {status for status, _, _ in answers} <= {201, 409}, answers  # a 409: another took the sequence; retry
    recorded = served.send("GET", url)[2]["items"]
    assert recorded, answers  # at least the first to commit was recorded
    assert sorted(d["sequence"] for d in recorded) == list(range(1, len(recorded) + 1))
    assert len(recorded) == sum(1 for status, _, _ in answers if status == 201)

    status, _, decision = served.send("POST", url, {**body, "ksb_code": "S1"}, trainee)
    assert status == 201, decision
    signs = together([lambda: served.send("POST", f"{decision['href']}/countersign", None, qualified)] * RACERS)
    assert sorted(status for status, _, _ in signs) == [200] + [409] * (RACERS - 1), signs
