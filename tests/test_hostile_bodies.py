"""Strict JSON bodies: every field takes exactly its JSON type ("yes", 1 or "true" is not a boolean, "0.5" is not a
number, 5 is not a string), unknown fields are refused, and an operation without a body refuses one. Swept over every
body schema and every write route found in the URL map, over HTTP: a 4xx problem+json naming the field, and nothing
written. (GraphQL inputs are typed and closed by GraphQL itself, and then checked by the same schemas.)"""

import uuid

import pytest
from marshmallow import fields

from api.errors import ValidationFailed
from api.inputs import bodies, load_body, strict
from api.models import ALL_MODELS

BODY_SCHEMAS = [s for s in vars(bodies).values()
                if isinstance(s, type) and issubclass(s, strict.StrictBody) and s is not strict.StrictBody]
A_UUID = str(uuid.uuid4())

# One value of each JSON type, and the spellings that a lenient parser takes for another type.
OF_TYPE = {"string": "x", "integer": 1, "number": 0.5, "boolean": True, "array": ["x"], "object": {"a": 1}}
SPELLINGS = {
    strict.JsonBoolean: ["true", "yes", "1", "on", 1, 0, 1.0],
    strict.JsonNumber: ["0.5", "1", "NaN"],
    strict.JsonInteger: ["1", 1.5, "1e3"],
    strict.JsonUUID: ["{" + A_UUID + "}", "urn:uuid:" + A_UUID, A_UUID.replace("-", ""), 12345],
    strict.JsonDate: ["20261001", "2026-W40-1", "2026-10-01T00:00:00", 20261001],
}


def json_types(field) -> set[str]:
    if isinstance(field, strict.JsonBoolean):
        return {"boolean"}
    if isinstance(field, strict.JsonInteger):
        return {"integer"}
    if isinstance(field, strict.JsonNumber):
        return {"integer", "number"}
    if isinstance(field, fields.List):
        return {"array"}
    if isinstance(field, fields.Nested):
        return {"object"}
    assert isinstance(field, fields.String | strict.JsonUUID | strict.JsonDate), f"add {type(field)} to this test"
    return {"string"}


def wrong_values(field) -> list:
    """Values of every other JSON type, the other spellings of this one, and null unless it is allowed."""
    values = [v for t, v in OF_TYPE.items() if t not in json_types(field)]
    values += next((spellings for kind, spellings in SPELLINGS.items() if isinstance(field, kind)), [])
    if isinstance(field, fields.List):
        values += [[v] for v in wrong_values(field.inner)]
    return values + ([] if field.allow_none else [None])


def refused(body_schema, body: dict, field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        load_body(body_schema, body)
    assert any(name == field or name.startswith(f"{field}[") for name in caught.value.errors), caught.value.errors


@pytest.mark.parametrize("schema", BODY_SCHEMAS, ids=lambda s: s.__name__)
def test_every_body_field_takes_only_its_json_type(schema):
    for name, field in schema().fields.items():
        for value in wrong_values(field):
            refused(schema(), {name: value}, name)


@pytest.mark.parametrize("schema", BODY_SCHEMAS, ids=lambda s: s.__name__)
def test_every_body_refuses_unknown_fields(schema):
    for name in ("unknown", "dry_rn", "Centre_Id"):
        refused(schema(), {name: 1}, name)
    for name, field in schema().fields.items():  # and inside nested objects
        inner = field.inner if isinstance(field, fields.List) else field
        if isinstance(inner, fields.Nested):
            with pytest.raises(ValidationFailed) as caught:
                load_body(schema(), {name: [{"unknown": 1}]})
            assert caught.value.errors[f"{name}[0].unknown"] == ["unknown field"]


def test_a_schema_cannot_declare_a_coercing_field():
    from marshmallow import Schema

    for loose in (fields.Boolean(), fields.Float(), fields.Integer(), fields.UUID(), fields.Date(),
                  fields.List(fields.Boolean())):
        schema = type("Loose", (strict.StrictBody,), {"flag": loose})
        with pytest.raises(TypeError, match="coerces its input"):
            schema()
    lenient = type("Lenient", (Schema,), {"name": fields.String()})
    with pytest.raises(TypeError, match="must derive from StrictBody"):
        type("Outer", (strict.StrictBody,), {"inner": fields.Nested(lenient)})()


# -- over HTTP: every write route ------------------------------------------------------------------------------------

def json_routes(ids) -> dict[str, tuple]:
    """endpoint -> (method, url, caller, schema, a valid body) for every write that takes a JSON body schema."""
    enrolment, evidence, centre, unit = ids["enrolment"], ids["evidence"], ids["centre_a"], ids["B13"]
    return {
        "learners.create_learner": ("POST", "/v1/learners", "admin", bodies.LearnerCreate, {
            "centre_id": centre, "uln": "9999999999", "given_name": "A", "family_name": "B"}),
        "learners.update_learner": ("PATCH", f"/v1/learners/{ids['learner']}", "admin", bodies.LearnerUpdate,
                                    {"given_name": "Ada"}),
        "learners.create_enrolment": ("POST", "/v1/enrolments", "admin", bodies.EnrolmentCreate, {
            "learner_id": ids["learner"], "unit_id": ids["CS 34"], "start_date": "2026-09-01"}),
        "learners.create_enrolments": ("POST", "/v1/enrolment-batches", "admin", bodies.EnrolmentBatchCreate, {
            "enrolments": [{"learner_id": ids["learner"], "unit_id": ids["CS 34"], "start_date": "2026-09-01"}]}),
        "learners.update_enrolment": ("PATCH", f"/v1/enrolments/{enrolment}", "admin", bodies.EnrolmentUpdate,
                                      {"planned_end_date": "2027-08-01"}),
        "learners.enrol_on_qualification": (
            "POST", f"/v1/learners/{ids['learner']}/qualifications/{ids['qualification']}/enrolments", "admin",
            bodies.QualificationEnrolmentCreate, {"start_date": "2026-09-01"}),
        "assessment.submit_evidence": ("POST", f"/v1/enrolments/{enrolment}/evidence", "admin", bodies.EvidenceCreate,
                                       {"type": "observation", "title": "t", "date": "2026-10-01",
                                        "authenticity_declared": True}),
        "assessment.claim_criteria": ("POST", f"/v1/evidence/{evidence}/claims", "admin", bodies.ClaimCreate,
                                      {"criterion_ids": [ids["b13_criterion"]]}),
        "assessment.record_decision": ("POST", f"/v1/enrolments/{enrolment}/decisions", "assessor_a",
                                       bodies.DecisionCreate, {"criterion_id": ids["b13_criterion"], "outcome": "met",
                                                               "feedback": "f", "evidence_ids": [evidence]}),
        "assessment.record_decisions": ("POST", f"/v1/enrolments/{enrolment}/decisions/batch", "assessor_a",
                                        bodies.DecisionBatchCreate, {"decisions": [{
                                            "criterion_id": ids["b13_criterion"], "outcome": "met", "feedback": "f",
                                            "evidence_ids": [evidence]}]}),
        "assessment.create_plan": ("POST", "/v1/iqa/plans", "iqa_a", bodies.PlanCreate, {
            "centre_id": centre, "assessor_id": ids["assessor_a"], "rate": 0.25}),
        "assessment.take_sample": ("POST", "/v1/iqa/samples", "iqa_a", bodies.SampleCreate,
                                   {"decision_id": ids["trainee_decision"]}),
        "assessment.record_verdict": ("POST", f"/v1/iqa/samples/{ids['sample']}/verdict", "iqa_a",
                                      bodies.VerdictCreate, {"verdict": "confirmed"}),
        "sync.migrate_enrolment": ("POST", f"/v1/enrolments/{enrolment}/migrate", "admin", bodies.EnrolmentMigrate,
                                   {"dry_run": True}),
        "sync.migrate_cohort": ("POST", "/v1/enrolment-migrations", "admin", bodies.CohortMigrate,
                                {"unit_id": unit, "centre_id": centre, "dry_run": True}),
        "enrolment_staff.add_staff": ("POST", f"/v1/enrolments/{enrolment}/staff", "admin", bodies.StaffAssign,
                                      {"account_id": ids["assessor_a"], "role": "assessor"}),
        "webhooks.create_endpoint": ("POST", "/v1/webhooks/endpoints", "centre_admin_a",
                                     bodies.WebhookEndpointCreate, {"url": "http://127.0.0.1:9/x"}),
        "auth.set_delegation": ("PUT", "/v1/auth/me/delegation", "assessor_a", bodies.Delegation,
                                {"accepts_delegation": True}),
        "webhooks.update_endpoint": ("PATCH", f"/v1/webhooks/endpoints/{ids['webhook']}", "centre_admin_a",
                                     bodies.WebhookEndpointUpdate, {"description": "d"}),
        **apprenticeship_routes(ids),
    }


def apprenticeship_routes(ids) -> dict[str, tuple]:
    """json_routes for KSB mappings, apprenticeships and off-the-job training."""
    standard = {"reference_number": ids["apprenticeship_standard"]}
    apprenticeship = f"/v1/apprenticeships/{ids['apprenticeship']}"
    return {
        "apprenticeship_tracking.create_mapping": ("POST", "/v1/ksb-mappings", "author_skills_cfa",
                                                   bodies.KsbMappingCreate, {
                                                       **standard, "unit_version_id": ids["cs34_version"],
                                                       "version": ids["apprenticeship_version"], "ksb_code": "K2"}),
        "apprenticeship_tracking.carry_mappings": ("POST", "/v1/ksb-mapping-carries", "admin", bodies.KsbMappingCarry, {
            **standard, "from_version": ids["apprenticeship_version"],
            "to_version": ids["apprenticeship_version_in_development"]}),
        "apprenticeship_tracking.create_apprenticeship": ("POST", "/v1/apprenticeships", "admin",
                                                          bodies.ApprenticeshipCreate, {
                                                              **standard, "learner_id": ids["credential_learner"],
                                                              "start_date": "2026-01-05",
                                                              "planned_end_date": "2027-01-04"}),
        "apprenticeship_tracking.update_apprenticeship": ("PATCH", apprenticeship, "admin", bodies.ApprenticeshipUpdate,
                                                          {"weekly_hours": 30}),
        "apprenticeship_tracking.record_otj_activity": ("POST", f"{apprenticeship}/otj-activities", "admin",
                                                        bodies.OtjActivityCreate, {
                                                            "activity_date": "2026-03-02", "hours": 1,
                                                            "kind": "mentoring", "description": "d"}),
        "ksb_assessment.submit_evidence": ("POST", f"{apprenticeship}/ksb-evidence", "lms_client_a",
                                           bodies.KsbEvidenceCreate, {
                                               "type": "observation", "title": "t", "date": "2026-02-03",
                                               "authenticity_declared": True, "ksb_codes": ["K3"]}),
        "ksb_assessment.record_decision": ("POST", f"{apprenticeship}/ksb-decisions", "assessor_a",
                                           bodies.KsbDecisionCreate, {
                                               "ksb_code": "K3", "outcome": "met", "feedback": "f"}),
        "ksb_assessment.record_verdict": ("POST", f"/v1/ksb-decisions/{ids['ksb_decision']}/iqa-verdict", "iqa_a",
                                          bodies.VerdictCreate, {"verdict": "confirmed"}),
    }


def bodiless_routes(ids) -> dict[str, tuple]:
    """endpoint -> (url, caller) for every write that takes no body."""
    return {
        "learners.withdraw_learner": (f"/v1/learners/{ids['learner']}/withdraw", "admin"),
        "learners.pseudonymise_learner": (f"/v1/learners/{ids['learner']}/pseudonymise", "admin"),
        "assessment.countersign": (f"/v1/decisions/{ids['trainee_decision']}/countersign", "assessor_a"),
        "sync.publish": (f"/v1/units/{ids['CS 39']}/publish", "admin"),
        "sync.withdraw": (f"/v1/units/{ids['B13']}/withdraw", "admin"),
        "sync.publish_framework": (f"/v1/frameworks/{ids['framework']}/publish", "admin"),
        "sync.withdraw_framework": (f"/v1/frameworks/{ids['framework']}/withdraw", "admin"),
        **{f"admin.{verb}_account": (f"/v1/admin/accounts/{ids['spare_account']}/{verb}", "admin")
           for verb in ("disable", "enable")},
        **{f"admin.{verb}_client": (f"/v1/admin/clients/{ids['spare_client']}/{verb}", "admin")
           for verb in ("disable", "enable")},
        "webhooks.rotate_secret": (f"/v1/webhooks/endpoints/{ids['webhook']}/rotate-secret", "centre_admin_a"),
        "apprenticeship_tracking.confirm_otj_activity": (f"/v1/otj-activities/{ids['otj_activity']}/confirm",
                                                         "admin"),
        "ksb_assessment.countersign": (f"/v1/ksb-decisions/{ids['ksb_trainee_decision']}/countersign", "assessor_a"),
        "ksb_assessment.take_sample": (f"/v1/ksb-decisions/{ids['ksb_trainee_decision']}/iqa-sample", "iqa_a"),
        "webhooks.recover": (f"/v1/webhooks/endpoints/{ids['webhook']}/recover?since=2026-01-01T00:00:00Z",
                             "centre_admin_a"),
    }


# Writes whose body is not a JSON object of fields: checked by their own tests (test_hostile_documents.py for unit
# drafts and CASE packages; the import and token tests for files and credentials; test_apprenticeship_standards.py
# for published standards; test_apprenticeship_tracking.py for off-the-job CSV logs).
OTHER_BODIES = {"sync.save_draft", "sync.import_case", "imports.import_learners", "auth.token", "auth.refresh",
                "auth.revoke", "apprenticeships.import_standards", "apprenticeship_tracking.import_otj_activities"}


def row_counts() -> tuple:
    """How many rows every table holds."""
    return tuple(model.select().count() for model in ALL_MODELS)


def test_type_confused_bodies_are_refused_and_write_nothing(app, client, auth, ids):
    writes = {rule.endpoint for rule in app.url_map.iter_rules() if rule.methods & {"POST", "PUT", "PATCH"}}
    assert writes - {"graphql"} == set(json_routes(ids)) | set(bodiless_routes(ids)) | OTHER_BODIES  # all swept
    for endpoint, (method, url, caller, schema, valid) in json_routes(ids).items():
        headers = {**auth(caller), "If-Match": "*"}
        before = row_counts()
        etag = client.get(url, headers=headers).headers["ETag"] if method == "PATCH" else None
        for name, field in schema().fields.items():
            for value in [*wrong_values(field)[:6], "\x00"] if isinstance(field, fields.String) else \
                    wrong_values(field):
                response = client.open(url, method=method, json={**valid, name: value}, headers=headers)
                assert response.status_code in (400, 422), (endpoint, name, value, response.get_json())
                assert response.mimetype == "application/problem+json"
                assert any(n == name or n.startswith(f"{name}[") for n in response.get_json()["errors"]), \
                    (endpoint, name, response.get_json())
        for unknown in ({"unknown": 1}, {"dry_rn": True}):
            response = client.open(url, method=method, json={**valid, **unknown}, headers=headers)
            assert response.status_code == 422 and set(unknown) <= set(response.get_json()["errors"]), endpoint
        assert row_counts() == before, endpoint
        if method == "PATCH":
            assert client.get(url, headers=headers).headers["ETag"] == etag, endpoint


def test_an_operation_without_a_body_refuses_one_and_writes_nothing(client, auth, ids):
    for endpoint, (url, caller) in bodiless_routes(ids).items():
        headers = auth(caller)
        before = row_counts()
        response = client.post(url, json={"reason": "left the course"}, headers=headers)
        assert response.status_code == 422, (endpoint, response.get_json())
        assert response.get_json()["errors"] == {"reason": ["unknown field"]}
        assert client.post(url, data="reason", content_type="text/plain", headers=headers).status_code == 415
        assert client.post(url, data="[1]", content_type="application/json", headers=headers).status_code == 400
        assert row_counts() == before, endpoint
    url, caller = bodiless_routes(ids)["learners.withdraw_learner"]
    assert client.post(url, json={}, headers=auth(caller)).status_code == 200  # {} is no body
