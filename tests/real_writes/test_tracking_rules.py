"""Tracking rules one by one: ULNs, bad input of every kind (4xx problem, database unchanged), append-only records,
idempotent retries, optimistic concurrency, pseudonymisation and export."""

import pytest

from api.models import ALL_MODELS, AuditEvent, Decision
from api.services import accounts
from api.services.tracking.uln import uln_problem
from tests.tracking_helpers import criteria_of, enrol, make_learner, post

PROBLEM = "application/problem+json"


@pytest.mark.parametrize("uln, ok", [("9276308686", True), ("9999999999", True), ("9276308687", False),
                                     ("0276308686", False), ("927630868", False), ("92763086a6", False),
                                     ("١٢٣٤٥٦٧٨٩٠", False), ("1000000001", False)])
def test_uln_check_digit(uln, ok):
    assert (uln_problem(uln) is None) == ok


def row_counts() -> dict:
    return {model.__name__: model.select().count() for model in ALL_MODELS}


@pytest.fixture
def enrolment(client, auth, identities, unit_ids):
    learner = make_learner(client, auth, identities)
    enrolment = enrol(client, auth, identities, learner["id"], unit_ids["CS 34"],
                      assessors=("assessor_a", "trainee_assessor_a"))
    return {"learner": learner, "enrolment": enrolment, "criteria": criteria_of(client, unit_ids["CS 34"]),
            "b13_criteria": criteria_of(client, unit_ids["B13"])}


def bad_requests(ctx, identities):
    centre = str(identities.centres["A"].id)
    eid, lid = ctx["enrolment"]["id"], ctx["learner"]["id"]
    c1 = ctx["criteria"][0]
    learner = {"centre_id": centre, "uln": ctx["learner"]["uln"], "given_name": "A", "family_name": "B"}
    return {
        "bad check digit": ("POST", "/v1/learners", {**learner, "uln": "9276308687"}, 422, "uln"),
        "ULN already at the centre": ("POST", "/v1/learners", learner, 409, "uln"),
        "unknown field": ("POST", "/v1/learners", {**learner, "uln": "9999999999", "colour": "red"}, 422, "colour"),
        "missing field": ("POST", "/v1/learners", {"centre_id": centre, "uln": "9999999999"}, 422, "given_name"),
        "wrong type": ("POST", "/v1/learners", {**learner, "uln": 9276308686}, 422, "uln"),
        "bad date": ("POST", "/v1/learners", {**learner, "uln": "9999999999", "date_of_birth": "2001-02-30"}, 422,
                     "date_of_birth"),
        "control characters": ("POST", "/v1/learners", {**learner, "uln": "9999999999", "given_name": "A\x00"},
                               422, "given_name"),
        "other centre": ("POST", "/v1/learners", {**learner, "centre_id": str(identities.centres["B"].id)}, 404,
                         None),
        "not JSON": ("POST", "/v1/learners", "not json", 400, None),
        "JSON array": ("POST", "/v1/learners", [1, 2], 400, None),
        "NaN, which JSON has not": ("POST", f"/v1/enrolments/{eid}/decisions", '{"criterion_id": "' + c1
                                    + '", "outcome": "met", "feedback": "f", "expected_sequence": NaN}', 400, None),
        "a lone surrogate, which UTF-8 cannot store": ("POST", "/v1/learners", '{"centre_id": "' + centre
                                                       + '", "uln": "9999999999", "given_name": "\\ud800", '
                                                       '"family_name": "B"}', 400, None),
        "unpublished unit": ("POST", "/v1/enrolments", {"learner_id": lid, "unit_id": ctx["unit_ids"]["CS 39"],
                                                        "start_date": "2026-09-01"}, 422, "unit_id"),
        "end before start": ("POST", "/v1/enrolments", {"learner_id": lid, "unit_id": ctx["unit_ids"]["B13"],
                                                        "start_date": "2026-09-01",
                                                        "planned_end_date": "2026-01-01"}, 422, "planned_end_date"),
        "assessor of another centre": ("POST", "/v1/enrolments", {
            "learner_id": lid, "unit_id": ctx["unit_ids"]["B13"], "start_date": "2026-09-01",
            "assessor_ids": [str(identities.accounts["assessor_b"].id)]}, 422, "assessor_ids"),
        "claim outside the pinned version": ("POST", f"/v1/enrolments/{eid}/evidence", {
            "type": "observation", "title": "t", "date": "2026-10-01", "authenticity_declared": True,
            "criterion_ids": [ctx["b13_criteria"][0]]}, 422, "criterion_ids"),
        "evidence type not allowed for the outcome": ("POST", f"/v1/enrolments/{eid}/evidence", {
            "type": "observation", "title": "t", "date": "2026-10-01", "authenticity_declared": True,
            "criterion_ids": [c1]}, 422, "criterion_ids"),
        "unknown evidence type": ("POST", f"/v1/enrolments/{eid}/evidence", {
            "type": "telepathy", "title": "t", "date": "2026-10-01", "authenticity_declared": True}, 422, "type"),
        "bad sha256": ("POST", f"/v1/enrolments/{eid}/evidence", {
            "type": "observation", "title": "t", "date": "2026-10-01", "authenticity_declared": True,
            "sha256": "xyz"}, 422, "sha256"),
        "decision on a criterion outside the version": ("POST", f"/v1/enrolments/{eid}/decisions", {
            "criterion_id": ctx["b13_criteria"][0], "outcome": "met", "feedback": "f"}, 422, "criterion_id"),
        "unknown outcome": ("POST", f"/v1/enrolments/{eid}/decisions", {
            "criterion_id": c1, "outcome": "passed", "feedback": "f"}, 422, "outcome"),
    }


def test_every_bad_input_is_a_4xx_problem_and_changes_nothing(client, auth, identities, enrolment, unit_ids):
    enrolment["unit_ids"] = unit_ids
    for name, (method, url, body, status, field) in bad_requests(enrolment, identities).items():
        before = row_counts()
        headers = auth("assessor_a" if url.endswith("/decisions") else "centre_admin_a")
        if isinstance(body, str):
            response = client.open(url, method=method, data=body, content_type="application/json", headers=headers)
        else:
            response = client.open(url, method=method, json=body, headers=headers)
        assert response.status_code == status, (name, response.get_data(as_text=True))
        assert response.mimetype == PROBLEM, name
        if field:
            assert any(k.startswith(field) for k in response.get_json().get("errors", {})), (name, response.get_json())
        assert row_counts() == before, name


def test_evidence_type_refusals_say_what_is_allowed_and_name_criteria_by_number(client, auth, unit_ids, enrolment):
    from api.models import AssessmentCriterion, EvidenceType, OutcomeEvidenceType

    url = f"/v1/enrolments/{enrolment['enrolment']['id']}/evidence"
    body = {"title": "t", "date": "2026-10-01", "authenticity_declared": True}
    unknown = client.post(url, json={**body, "type": "telepathy"}, headers=auth("centre_admin_a")).get_json()
    every_type = [t.code for t in EvidenceType.select().order_by(EvidenceType.code)]
    assert f"the types are {', '.join(every_type)}" in unknown["detail"]
    first, second = (AssessmentCriterion.get_by_id(c) for c in enrolment["criteria"][:2])
    accepted = sorted(r.evidence_type_id for r in OutcomeEvidenceType.select().where(
        OutcomeEvidenceType.outcome == first.outcome_id))
    assert "observation" not in accepted and second.outcome_id == first.outcome_id
    refused = client.post(url, json={**body, "type": "observation", "criterion_ids": enrolment["criteria"][:2]},
                          headers=auth("centre_admin_a")).get_json()
    assert refused["detail"] == (f"evidence of type 'observation' cannot be claimed for criteria {first.number}, "
                                 f"{second.number} (outcome {first.outcome.number} accepts {', '.join(accepted)})")
    assert sorted(refused["errors"]["criterion_ids"]) == sorted(enrolment["criteria"][:2])  # ids, for programs


def test_decision_rules(client, auth, enrolment):
    eid, c1 = enrolment["enrolment"]["id"], enrolment["criteria"][0]
    url = f"/v1/enrolments/{eid}/decisions"
    not_assigned = client.post(url, json={"criterion_id": c1, "outcome": "met", "feedback": "f"},
                               headers=auth("assessor_b"))
    assert not_assigned.status_code == 404  # another centre's enrolment does not exist for them
    assert client.post(url, json={"criterion_id": c1, "outcome": "met", "feedback": "f"},
                       headers=auth("iqa_a")).status_code == 403
    evidence = post(client, auth, "assessor_a", f"/v1/enrolments/{eid}/evidence", {
        "type": "questioning", "title": "Q&A", "date": "2026-10-01", "authenticity_declared": True,
        "criterion_ids": [c1]})
    own = client.post(url, json={"criterion_id": c1, "outcome": "met", "feedback": "f",
                                 "evidence_ids": [evidence["id"]]}, headers=auth("assessor_a"))
    assert own.status_code == 403 and "evidence they submitted" in own.get_json()["detail"]
    first = post(client, auth, "assessor_a", url, {"criterion_id": c1, "outcome": "met", "feedback": "f"})
    stale = client.post(url, json={"criterion_id": c1, "outcome": "referred", "feedback": "f", "reason": "r",
                                   "expected_sequence": 0}, headers=auth("assessor_a"))
    assert stale.status_code == 409
    assert client.post(f"/v1/decisions/{first['id']}/countersign", headers=auth("assessor_a")).status_code == 403
    trainee = post(client, auth, "trainee_assessor_a", url, {"criterion_id": c1, "outcome": "met", "feedback": "f",
                                                              "reason": "second look"})
    assert client.post(f"/v1/decisions/{trainee['id']}/countersign",
                       headers=auth("trainee_assessor_a")).status_code == 403  # not qualified, and their own
    post(client, auth, "assessor_a", f"/v1/decisions/{trainee['id']}/countersign", None, status=200)
    assert client.post(f"/v1/decisions/{trainee['id']}/countersign",
                       headers=auth("assessor_a")).status_code == 409
    sample = post(client, auth, "iqa_a", "/v1/iqa/samples", {"decision_id": first["id"]})
    assert client.post("/v1/iqa/samples", json={"decision_id": first["id"]},
                       headers=auth("iqa_a")).status_code == 409
    no_actions = client.post(f"/v1/iqa/samples/{sample['id']}/verdict", json={"verdict": "not_confirmed"},
                             headers=auth("iqa_a"))
    assert no_actions.status_code == 422
    post(client, auth, "iqa_a", f"/v1/iqa/samples/{sample['id']}/verdict", {"verdict": "confirmed"}, status=200)
    assert client.post(f"/v1/iqa/samples/{sample['id']}/verdict", json={"verdict": "not_confirmed", "actions": "x"},
                       headers=auth("iqa_a")).status_code == 409


def test_decisions_verdicts_and_audit_events_cannot_be_changed_or_deleted(app, client, auth, enrolment):
    eid, c1 = enrolment["enrolment"]["id"], enrolment["criteria"][0]
    decision = post(client, auth, "assessor_a", f"/v1/enrolments/{eid}/decisions",
                    {"criterion_id": c1, "outcome": "met", "feedback": "f"})
    sample = post(client, auth, "iqa_a", "/v1/iqa/samples", {"decision_id": decision["id"]})
    post(client, auth, "iqa_a", f"/v1/iqa/samples/{sample['id']}/verdict", {"verdict": "confirmed"}, status=200)
    event = client.get("/v1/audit?subject_type=decision", headers=auth("admin")).get_json()["items"][0]
    urls = [f"/v1/decisions/{decision['id']}", f"/v1/iqa/samples/{sample['id']}",
            f"/v1/iqa/samples/{sample['id']}/verdict", "/v1/audit", f"/v1/audit/{event['id']}",
            f"/v1/enrolments/{eid}/decisions"]
    before = (Decision.select().count(), AuditEvent.select().count())
    for url in urls:
        for method in ("PUT", "PATCH", "DELETE"):
            response = client.open(url, method=method, json={"outcome": "not_yet_met"}, headers=auth("admin"))
            assert response.status_code in (404, 405), (method, url, response.status_code)
    assert (Decision.select().count(), AuditEvent.select().count()) == before
    writable = {(rule.rule, m) for rule in app.url_map.iter_rules() for m in rule.methods & {"PUT", "PATCH", "DELETE"}}
    # the only routes that change or replace a record: learners, enrolments (and their staff), apprenticeships, and a
    # unit's draft and KSB mappings (content, not records); webhook endpoints and a person's delegation setting
    # (configuration)
    assert {rule for rule, _ in writable} <= {"/v1/learners/<learner_id>", "/v1/enrolments/<enrolment_id>",
                                              "/v1/enrolments/<enrolment_id>/staff/<account_id>",
                                              "/v1/apprenticeships/<apprenticeship_id>",
                                              "/v1/ksb-mappings/<mapping_id>",
                                              "/v1/units/<unit_id>/draft", "/v1/webhooks/endpoints/<endpoint_id>",
                                              "/v1/auth/me/delegation"}


def test_retried_post_with_an_idempotency_key_writes_once(client, auth, identities):
    body = {"centre_id": str(identities.centres["A"].id), "uln": "9999999999", "given_name": "R",
            "family_name": "Retry"}
    headers = {**auth("centre_admin_a"), "Idempotency-Key": "import-row-17"}
    first = client.post("/v1/learners", json=body, headers=headers)
    before = row_counts()
    again = client.post("/v1/learners", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert row_counts() == before
    different = client.post("/v1/learners", json={**body, "given_name": "Other"}, headers=headers)
    assert different.status_code == 409 and different.mimetype == PROBLEM
    assert row_counts() == before


def test_updates_need_the_current_etag(client, auth, identities):
    learner = client.post("/v1/learners", json={"centre_id": str(identities.centres["A"].id), "uln": "9999999999",
                                                "given_name": "E", "family_name": "Tag"},
                          headers=auth("centre_admin_a"))
    etag, url = learner.headers["ETag"], learner.get_json()["href"]
    assert client.patch(url, json={"given_name": "F"}, headers=auth("centre_admin_a")).status_code == 428
    updated = client.patch(url, json={"given_name": "F"}, headers={**auth("centre_admin_a"), "If-Match": etag})
    assert updated.status_code == 200 and updated.headers["ETag"] != etag
    stale = client.patch(url, json={"given_name": "G"}, headers={**auth("centre_admin_a"), "If-Match": etag})
    assert stale.status_code == 412 and stale.mimetype == PROBLEM
    assert client.get(url, headers=auth("centre_admin_a")).get_json()["given_name"] == "F"


def test_pseudonymise_keeps_records_and_export_has_everything(client, auth, identities, enrolment):
    eid, lid, c1 = enrolment["enrolment"]["id"], enrolment["learner"]["id"], enrolment["criteria"][0]
    uln = enrolment["learner"]["uln"]
    post(client, auth, "assessor_a", f"/v1/enrolments/{eid}/decisions",
         {"criterion_id": c1, "outcome": "met", "feedback": "f"})
    before = client.get(f"/v1/enrolments/{eid}/progress", headers=auth("assessor_a")).get_json()
    exported = client.get(f"/v1/learners/{lid}/export", headers=auth("centre_admin_a")).get_json()
    assert exported["learner"]["uln"] == uln and len(exported["decisions"]) == 1
    assert client.post(f"/v1/learners/{lid}/pseudonymise", headers=auth("centre_admin_a")).status_code == 403
    done = client.post(f"/v1/learners/{lid}/pseudonymise", headers=auth("admin")).get_json()
    assert done["pseudonymised"] and done["uln"] != uln and "Lovelace" not in str(done)
    assert client.get(f"/v1/enrolments/{eid}/progress", headers=auth("assessor_a")).get_json() == before
    events = client.get(f"/v1/audit?subject_id={lid}", headers=auth("admin")).get_json()["items"]
    assert [e["action"] for e in events][-1] == "learner.pseudonymised"
    assert "Lovelace" not in str(events) and uln not in str(events)


def test_request_id_is_recorded_in_the_audit_log(client, auth, identities):
    response = client.post("/v1/learners", json={"centre_id": str(identities.centres["A"].id), "uln": "9999999999",
                                                 "given_name": "I", "family_name": "D"},
                           headers={**auth("centre_admin_a"), "X-Request-ID": "req-123"})
    assert response.headers["X-Request-ID"] == "req-123"
    events = client.get(f"/v1/audit?subject_id={response.get_json()['id']}", headers=auth("admin")).get_json()
    assert events["items"][0]["request_id"] == "req-123"


def test_a_learner_account_sees_and_exports_only_its_own_record(client, auth, identities, app):
    from api.auth import issue_tokens
    from api.services import accounts

    mine = make_learner(client, auth, identities)
    other = make_learner(client, auth, identities, uln="9999999999")
    account = accounts.create_account("self@example.test", "a long enough password", roles=["learner"],
                                      centres=["A"], learner_id=mine["id"])
    with app.test_request_context():
        token = issue_tokens(f"account:{account.id}", accounts.account_claims(account), with_refresh=False)
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert [row["id"] for row in client.get("/v1/learners", headers=headers).get_json()["items"]] == [mine["id"]]
    assert client.get(f"/v1/learners/{mine['id']}/export", headers=headers).status_code == 200
    assert client.get(f"/v1/learners/{other['id']}", headers=headers).status_code == 404


def test_an_enrolment_update_changes_what_it_names_and_nothing_else(client, auth, identities, unit_ids):
    admin, ids = auth("centre_admin_a"), identities.accounts
    learner = make_learner(client, auth, identities)
    first = enrol(client, auth, identities, learner["id"], unit_ids["CS 34"],
                  assessors=("assessor_a", "trainee_assessor_a"))
    other = enrol(client, auth, identities, make_learner(client, auth, identities)["id"], unit_ids["CS 34"],
                  assessors=("assessor_a", "trainee_assessor_a"))
    url = first["href"]

    def patch(body, status=200, caller=admin):
        etag = client.get(url, headers=admin).headers["ETag"]
        response = client.patch(url, json=body, headers={**caller, "If-Match": etag})
        assert response.status_code == status, response.get_data(as_text=True)
        return response.get_json()

    assert client.patch(url, json={"status": "completed"}, headers=admin).status_code == 428
    refused = patch({"status": "completed"}, 403, caller=auth("assessor_a"))
    assert refused["detail"] == "only the centre's admins change enrolments"
    assert patch({"planned_end_date": "2026-09-01"})["planned_end_date"] == "2026-09-01"  # may end the day it starts
    too_early = patch({"planned_end_date": "2026-08-31"}, 422)
    assert too_early["detail"] == "planned_end_date is before start_date"
    assert too_early["errors"] == {"planned_end_date": ["before start_date"]}
    moved = patch({"start_date": "2026-08-01", "planned_end_date": "2027-06-30"})
    assert (moved["start_date"], moved["planned_end_date"], moved["status"]) == ("2026-08-01", "2027-06-30", "active")
    not_assessors = patch({"assessor_ids": [str(ids["iqa_a"].id), str(ids["assessor_b"].id)]}, 422)
    assert not_assessors["detail"] == f"not assessors of this centre: {ids['iqa_a'].id}, {ids['assessor_b'].id}"
    assert not_assessors["errors"] == {"assessor_ids": [f"{ids['iqa_a'].id} is not an assessor of this centre",
                                                        f"{ids['assessor_b'].id} is not an assessor of this centre"]}
    disabled = accounts.create_account("disabled.assessor@example.test", "a long enough password", roles=["assessor"],
                                       centres=["A"], assessor_status="qualified")
    admin_principal = accounts.principal_from_claims(f"account:{ids['admin'].id}",
                                                     accounts.account_claims(ids["admin"]))
    accounts.set_active(admin_principal, disabled, False)
    refused = patch({"assessor_ids": [str(disabled.id)]}, 422)
    assert refused["errors"] == {"assessor_ids": [f"{disabled.id} is not an assessor of this centre"]}
    staffed = patch({"assessor_ids": [str(ids["assessor_a"].id)]})
    assert staffed["assessor_ids"] == [str(ids["assessor_a"].id)] and staffed["iqa_ids"] == [str(ids["iqa_a"].id)]
    assert patch({"iqa_ids": []})["iqa_ids"] == []
    untouched = client.get(other["href"], headers=admin).get_json()
    assert (untouched["assessor_ids"], untouched["iqa_ids"]) == (other["assessor_ids"], other["iqa_ids"])
    assert patch({"status": "withdrawn"})["status"] == "withdrawn"
    again = enrol(client, auth, identities, learner["id"], unit_ids["CS 34"])
    clash = patch({"status": "active"}, 409)
    assert clash["existing_id"] == again["id"] and clash["existing_href"] == again["href"]
    assert client.get(url, headers=admin).get_json()["status"] == "withdrawn"
    events = client.get(f"/v1/audit?subject_id={first['id']}", headers=auth("admin")).get_json()["items"]
    updates = [e for e in events if e["action"] == "enrolment.updated"]
    assert [e["after"]["fields"] for e in updates] == [["planned_end_date"], ["planned_end_date", "start_date"],
                                                       ["assessor_ids"], ["iqa_ids"], ["status"]]
    assert updates[-1]["before"]["status"] == "active" and updates[-1]["after"]["status"] == "withdrawn"
