"""Every endpoint the app has x every kind of caller (own body or centre, other body or centre, anonymous, clients).

The endpoints come from the app's URL map: an endpoint without a policy here fails the suite, so nothing new can
escape the matrix. A policy lists concrete requests and, for each, who must be allowed; everyone else must be refused
(401 when anonymous and a token is needed, otherwise 404 so another tenant's data is not revealed).
"""

from dataclasses import dataclass

import pytest

from tests.conftest import CLIENTS, PEOPLE

CALLERS = [None, *PEOPLE, *CLIENTS]  # None is the anonymous caller
EVERYONE = set(CALLERS)
AUTHENTICATED = EVERYONE - {None}
SKILLS_CFA_CONTENT = {"admin", "author_skills_cfa", "sync_client_skills_cfa"}
CENTRE_A = {"admin", "centre_admin_a", "assessor_a", "trainee_assessor_a", "iqa_a", "learner_a", "lms_client_a"}


@dataclass
class Probe:
    """One request and who may make it successfully."""

    method: str
    url: str
    allowed: set
    ok_status: int = 200
    body: dict | None = None
    refusals: frozenset = frozenset({401, 404})  # 401 only for the anonymous caller, unless token_refusal
    token_refusal: bool = False  # True where a valid access token is itself the wrong credential (401 expected)
    shows: str | None = None  # for lists: allowed means this text is in the 200 body (filtered lists never 404)
    headers: dict | None = None
    error_mimetype: str = "application/problem+json"  # the CASE binding answers with imsx_StatusInfo JSON
    raw: bytes | None = None  # a body that is not JSON (sent with the Content-Type in headers)
    repeat_status: int | None = None  # a create each allowed caller repeats: the answer after the first (409 that
    # points at the first: it got past every access check too)


READERS_A = CENTRE_A - {"learner_a"}  # the learner account here is not linked to the test learner record
WRITERS_A = {"admin", "centre_admin_a", "lms_client_a"}
SUBMITTERS_A = WRITERS_A | {"assessor_a", "trainee_assessor_a"}
TRACKING_REFUSALS = frozenset({401, 403, 404})


def tracking_probes(ids: dict) -> dict[str, list[Probe]]:
    """Probes against centre A's learner records (made fresh for each test by the ``records`` fixture)."""
    learner, enrolment, evidence = ids["learner"], ids["enrolment"], ids["evidence"]
    decision, trainee_decision, sample, plan = ids["decision"], ids["trainee_decision"], ids["sample"], ids["plan"]
    centre_a, unit, criterion = ids["centre_a"], ids["B13"], ids["b13_criterion"]
    any_match = {"If-Match": "*"}

    def p(method, url, allowed, ok=200, body=None, refusals=TRACKING_REFUSALS, **kw):
        return [Probe(method, url, allowed, ok_status=ok, body=body, refusals=refusals, **kw)]

    return {
        "learners.create_learner": p("POST", "/v1/learners", WRITERS_A, 201, {
            "centre_id": centre_a, "uln": "9999999999", "given_name": "A", "family_name": "B"}),
        "learners.list_learners": p("GET", "/v1/learners", READERS_A, shows=learner),
        "learners.get_learner": p("GET", f"/v1/learners/{learner}", READERS_A),
        "learners.update_learner": p("PATCH", f"/v1/learners/{learner}", WRITERS_A, body={"given_name": "Ada"},
                                     headers=any_match),
        "learners.withdraw_learner": p("POST", f"/v1/learners/{learner}/withdraw", WRITERS_A),
        "learners.pseudonymise_learner": p("POST", f"/v1/learners/{learner}/pseudonymise", {"admin"}),
        "learners.export_learner": p("GET", f"/v1/learners/{learner}/export", WRITERS_A),
        "learners.learner_progress": p("GET", f"/v1/learners/{learner}/progress", READERS_A),
        "learners.enrol_on_qualification": p(
            "POST", f"/v1/learners/{learner}/qualifications/{ids['qualification']}/enrolments", WRITERS_A, 201,
            {"start_date": "2026-09-01"}),
        "learners.qualification_progress": p(
            "GET", f"/v1/learners/{learner}/qualifications/{ids['qualification']}/progress", READERS_A),
        "learners.create_enrolment": p("POST", "/v1/enrolments", WRITERS_A, 201, {
            "learner_id": learner, "unit_id": ids["CS 34"], "start_date": "2026-09-01"}, repeat_status=409),
        "learners.create_enrolments": p("POST", "/v1/enrolment-batches", WRITERS_A, 201, {"enrolments": [{
            "learner_id": learner, "unit_id": ids["CS 34"], "start_date": "2026-09-01"}]}, repeat_status=409),
        "learners.list_enrolments": p("GET", "/v1/enrolments", READERS_A, shows=enrolment),
        "learners.get_enrolment": p("GET", f"/v1/enrolments/{enrolment}", READERS_A),
        "learners.update_enrolment": p("PATCH", f"/v1/enrolments/{enrolment}", WRITERS_A,
                                       body={"planned_end_date": "2027-08-01"}, headers=any_match),
        "enrolment_staff.list_staff": p("GET", f"/v1/enrolments/{enrolment}/staff", READERS_A),
        "enrolment_staff.add_staff": p("POST", f"/v1/enrolments/{enrolment}/staff", WRITERS_A, 200,
                                       {"account_id": ids["assessor_a"], "role": "assessor"}),  # already assigned
        # the first caller allowed unassigns, and every later one finds nothing to unassign (404), so this probe can
        # show one writer's right only; the others' are in tests/test_enrolment_staff.py
        "enrolment_staff.remove_staff": p("DELETE", f"/v1/enrolments/{enrolment}/staff/{ids['assessor_a']}"
                                                    "?role=assessor", {"admin"}, 204),
        "learners.enrolment_progress": p("GET", f"/v1/enrolments/{enrolment}/progress", READERS_A),
        "assessment.submit_evidence": p("POST", f"/v1/enrolments/{enrolment}/evidence", SUBMITTERS_A, 201, {
            "type": "observation", "title": "t", "date": "2026-10-01", "authenticity_declared": True}),
        "assessment.list_evidence": p("GET", f"/v1/enrolments/{enrolment}/evidence", READERS_A),
        "assessment.get_evidence": p("GET", f"/v1/evidence/{evidence}", READERS_A),
        "assessment.claim_criteria": p("POST", f"/v1/evidence/{evidence}/claims", SUBMITTERS_A,
                                       body={"criterion_ids": [criterion]}),
        "assessment.record_decision": p("POST", f"/v1/enrolments/{enrolment}/decisions",
                                        {"assessor_a", "trainee_assessor_a"}, 201, {
                                            "criterion_id": criterion, "outcome": "met", "feedback": "f",
                                            "reason": "re-assessed", "evidence_ids": [evidence]}),
        "assessment.record_decisions": p("POST", f"/v1/enrolments/{enrolment}/decisions/batch",
                                         {"assessor_a", "trainee_assessor_a"}, 201, {"decisions": [{
                                             "criterion_id": criterion, "outcome": "met", "feedback": "f",
                                             "reason": "re-assessed", "evidence_ids": [evidence]}]}),
        "assessment.list_decisions": p("GET", f"/v1/enrolments/{enrolment}/decisions", READERS_A),
        "assessment.get_decision": p("GET", f"/v1/decisions/{decision}", READERS_A),
        "assessment.list_all_decisions": p("GET", "/v1/decisions?limit=500", READERS_A, shows=decision),
        "assessment.list_all_evidence": p("GET", "/v1/evidence?limit=500", READERS_A, shows=evidence),
        "assessment.countersign": p("POST", f"/v1/decisions/{trainee_decision}/countersign", {"assessor_a"}),
        "assessment.create_plan": p("POST", "/v1/iqa/plans", {"admin", "iqa_a", "centre_admin_a"}, 201, {
            "centre_id": centre_a, "assessor_id": ids["assessor_a"], "rate": 0.25}),
        "assessment.plan_candidates": p("GET", f"/v1/iqa/plans/{plan}/candidates", {"admin", "iqa_a",
                                                                                      "centre_admin_a"}),
        "assessment.take_sample": p("POST", "/v1/iqa/samples", {"iqa_a"}, 201, {"decision_id": trainee_decision}),
        "assessment.get_sample": p("GET", f"/v1/iqa/samples/{sample}", READERS_A),
        "assessment.record_verdict": p("POST", f"/v1/iqa/samples/{sample}/verdict", {"iqa_a"},
                                       body={"verdict": "confirmed"}),
        "assessment.centre_progress": p("GET", f"/v1/centres/{centre_a}/progress", READERS_A),
        "sync.migrate_enrolment": p("POST", f"/v1/enrolments/{enrolment}/migrate", WRITERS_A, body={"dry_run": True}),
        "sync.migrate_cohort": p("POST", "/v1/enrolment-migrations", WRITERS_A, shows=enrolment, body={
            "unit_id": unit, "centre_id": centre_a, "dry_run": True}),
        "imports.import_learners": p("POST", f"/v1/imports/learners?centre_id={centre_a}&dry_run=true",
                                     {"admin", "centre_admin_a", "lms_client_a"}, body=None,
                                     headers={"Content-Type": "text/csv"}, raw=IMPORT_CSV),
        "imports.get_import": p("GET", f"/v1/imports/learners/{ids['import_job']}", {"admin", "centre_admin_a",
                                                                              "lms_client_a"}),
        "assessment.list_audit": p("GET", f"/v1/audit?centre_id={centre_a}", {"admin", "centre_admin_a"},
                                   refusals=frozenset({401, 403}), shows=centre_a),
    }


IMPORT_CSV = b"uln,given_name,family_name\n9999999999,Matrix,Probe\n"  # the temporary ULN: always valid
MATRIX_PACKAGE = {  # the smallest CASE package: a document with one unit (for the import probe)
    "CFDocument": {"identifier": "5f0c3c1e-2b1a-4c4e-9a57-3f4f1c2d7a10", "title": "Matrix framework",
                   "creator": "Skills CFA"},
    "CFItems": [{"identifier": "6a1d4d2f-3c2b-4d5f-8b68-4a5a2d3e8b21", "fullStatement": "A unit for the matrix",
                 "humanCodingScheme": "MATRIX 1"}],
    "CFAssociations": [{"associationType": "isChildOf", "sequenceNumber": 1,
                        "originNodeURI": {"identifier": "6a1d4d2f-3c2b-4d5f-8b68-4a5a2d3e8b21"},
                        "destinationNodeURI": {"identifier": "5f0c3c1e-2b1a-4c4e-9a57-3f4f1c2d7a10"}}],
}


def case_probes(ids: dict) -> dict[str, list[Probe]]:
    """The CASE provider serves published content to everyone; our units have no subjects, concepts, licences,
    groupings or rubrics (404 for all: only frameworks imported whole hold them)."""
    from api.models.base import content_id
    from api.services.interop.case import TYPE_IDS

    base, b13 = "/ims/case/v1p1", ids["B13"]
    suite = str(content_id("case-document", "unit-suite", "ocr"))
    association = str(content_id("case-association", "isChildOf", b13, suite))
    imsx = "application/json"
    nobody = {f"case.get_cf{kind.lower()}": [Probe("GET", f"{base}/CF{kind}s/{b13}", set(), refusals=frozenset({404}),
                                                   error_mimetype=imsx)]
              for kind in ("Subject", "Concept", "License", "AssociationGrouping", "Rubric")}
    return {
        "case.discovery": [Probe("GET", f"{base}/discovery/imscasev1p1_openapi3_v1p0.json", EVERYONE)],
        "case.get_all_documents": [Probe("GET", f"{base}/CFDocuments", EVERYONE)],
        "case.get_document": [Probe("GET", f"{base}/CFDocuments/{suite}", EVERYONE)],
        "case.get_package": [Probe("GET", f"{base}/CFPackages/{suite}", EVERYONE)],
        "case.get_item": [Probe("GET", f"{base}/CFItems/{b13}", EVERYONE),
                          Probe("GET", f"{base}/CFItems/{ids['CS 39']}", set(), refusals=frozenset({404}),
                                error_mimetype=imsx)],
        "case.get_item_associations": [Probe("GET", f"{base}/CFItemAssociations/{b13}", EVERYONE)],
        "case.get_association": [Probe("GET", f"{base}/CFAssociations/{association}", EVERYONE)],
        "case.get_item_type": [Probe("GET", f"{base}/CFItemTypes/{TYPE_IDS['unit']}", EVERYONE)],
        **nobody,
    }


def probes(ids: dict) -> dict[str, list[Probe]]:
    """Endpoint name -> the probes that exercise it. ``ids`` has a published unit, a draft unit and centre ids."""
    b13, cs39 = ids["B13"], ids["CS 39"]
    pub_criterion, draft_criterion = ids["b13_criterion"], ids["cs39_criterion"]
    pub_outcome, draft_outcome = ids["b13_outcome"], ids["cs39_outcome"]
    return {
        "content.list_units": [Probe("GET", "/v1/units", EVERYONE),
                               Probe("GET", "/v1/units?status=draft&code=CS%2039", SKILLS_CFA_CONTENT,
                                     shows='"code": "CS 39"')],
        "content.get_unit": [Probe("GET", f"/v1/units/{b13}", EVERYONE),
                             Probe("GET", f"/v1/units/{cs39}?status=draft", SKILLS_CFA_CONTENT)],
        "content.get_unit_source": [Probe("GET", f"/v1/units/{b13}/document", EVERYONE),
                                    Probe("GET", f"/v1/units/{cs39}/document?status=draft", SKILLS_CFA_CONTENT)],
        "content.list_unit_versions": [Probe("GET", f"/v1/units/{b13}/versions", EVERYONE),
                                       Probe("GET", f"/v1/units/{cs39}/versions?status=draft", SKILLS_CFA_CONTENT)],
        "content.get_unit_version": [Probe("GET", f"/v1/units/{b13}/versions/1", EVERYONE),
                                     Probe("GET", f"/v1/units/{cs39}/versions/1?status=draft", SKILLS_CFA_CONTENT)],
        "content.get_learning_outcome": [
            Probe("GET", f"/v1/learning-outcomes/{pub_outcome}", EVERYONE),
            Probe("GET", f"/v1/learning-outcomes/{draft_outcome}?status=draft", SKILLS_CFA_CONTENT)],
        "content.get_criterion": [Probe("GET", f"/v1/criteria/{pub_criterion}", EVERYONE),
                                  Probe("GET", f"/v1/criteria/{draft_criterion}?status=draft", SKILLS_CFA_CONTENT)],
        "content.list_evidence_types": [Probe("GET", "/v1/evidence-types", EVERYONE)],
        "imports.import_template": [Probe("GET", "/v1/imports/learners/template.csv", EVERYONE)],
        "content.list_standards": [Probe("GET", "/v1/standards", EVERYONE)],
        "content.get_standard": [Probe("GET", f"/v1/standards/{ids['standard']}", EVERYONE)],
        "content.list_qualifications": [Probe("GET", "/v1/qualifications", EVERYONE)],
        "content.get_qualification": [],  # no qualification in data/units; covered in test_rest_content
        "meta.openapi_document": [Probe("GET", "/v1/openapi.yaml", EVERYONE)],
        "meta.openapi_bundled": [Probe("GET", "/v1/openapi.json", EVERYONE)],
        "meta.json_schema": [Probe("GET", "/v1/schema/unit.schema.json", EVERYONE)],
        "docs.guide": [Probe("GET", "/docs", EVERYONE)],
        "docs.swagger_ui": [Probe("GET", "/docs/api", EVERYONE)],
        "docs.walkthrough": [Probe("GET", "/docs/walkthroughs/lms", EVERYONE)],
        "docs.asset": [Probe("GET", "/docs/assets/swagger-ui.css", EVERYONE)],
        # operations endpoints: public, and answering the same whoever asks (run them on an internal network)
        "health.healthz": [Probe("GET", "/healthz", EVERYONE)],
        "health.readyz": [Probe("GET", "/readyz", EVERYONE)],
        "metrics": [Probe("GET", "/metrics", EVERYONE)],
        # each GraphQL field applies the same rules: see tests/test_graphql_authorization.py
        "graphql": [Probe("POST", "/graphql", EVERYONE, body={"query": "{ units { totalCount } }"})],
        "auth.token": [Probe("POST", "/v1/auth/token", set(), refusals=frozenset({400}),
                             body={"grant_type": "password", "username": "x@y.z", "password": "wrong password"})],
        # an access token is not a refresh token: everyone is refused here
        "auth.refresh": [Probe("POST", "/v1/auth/refresh", set(), refusals=frozenset({401}), token_refusal=True)],
        "auth.revoke": [Probe("POST", "/v1/auth/revoke", AUTHENTICATED, ok_status=204)],
        "auth.me": [Probe("GET", "/v1/auth/me", AUTHENTICATED)],
        # a person's own setting (allowing it again changes nothing); a client has none
        "auth.set_delegation": [Probe("PUT", "/v1/auth/me/delegation", set(PEOPLE), body={"accepts_delegation": True},
                                      refusals=frozenset({401, 403}))],
        "centres.list_centres": [Probe("GET", "/v1/centres", AUTHENTICATED)],
        "sync.save_draft": [Probe("PUT", f"/v1/units/{cs39}/draft", SKILLS_CFA_CONTENT, body=ids["cs39_document"],
                                  refusals=frozenset({401, 403, 404}))],
        "sync.publish": [Probe("POST", f"/v1/units/{ids['CS 34']}/publish", SKILLS_CFA_CONTENT,  # no draft: no-op
                               refusals=frozenset({401, 403}))],
        "sync.withdraw": [Probe("POST", f"/v1/units/{b13}/withdraw", {"admin", "author_ocr"},
                                refusals=frozenset({401, 403, 404}))],
        "sync.diff_versions": [Probe("GET", f"/v1/units/{b13}/versions/1/diff/2", EVERYONE)],
        "sync.list_changes": [Probe("GET", "/v1/changes", EVERYONE)],
        "sync.import_case": [Probe("POST", "/v1/imports/case?awarding_body=skills-cfa", SKILLS_CFA_CONTENT,
                                   body=MATRIX_PACKAGE, refusals=frozenset({401, 403, 404}))],
        # a published framework of Skills CFA: everyone reads it; its writers publish (a no-op) and withdraw it,
        # after which it is hidden from everyone else
        "sync.get_framework": [Probe("GET", f"/v1/frameworks/{ids['framework']}", EVERYONE)],
        "sync.diff_framework_versions": [Probe("GET", f"/v1/frameworks/{ids['framework']}/versions/1/diff/1",
                                               EVERYONE)],
        "sync.publish_framework": [Probe("POST", f"/v1/frameworks/{ids['framework']}/publish", SKILLS_CFA_CONTENT,
                                         refusals=frozenset({401, 403}))],
        "sync.withdraw_framework": [Probe("POST", f"/v1/frameworks/{ids['framework']}/withdraw", SKILLS_CFA_CONTENT,
                                          refusals=frozenset({401, 403, 404}))],
        **case_probes(ids),
        "centres.get_centre": [Probe("GET", f"/v1/centres/{ids['centre_a']}", CENTRE_A | {"hooks_client_a"}),
                               Probe("GET", f"/v1/centres/{ids['centre_b']}",
                                     {"admin", "centre_admin_b", "assessor_b", "import_client_b"})],
        **tracking_probes(ids),
        **admin_probes(ids),
        **credential_probes(ids),
        **apprenticeship_probes(ids),
        **webhook_probes(ids),
    }


def webhook_probes(ids: dict) -> dict[str, list[Probe]]:
    """Webhook endpoints: centre A's are managed by its admins and its webhooks client (and admins)."""
    managers = {"admin", "centre_admin_a", "hooks_client_a"}
    endpoint = f"/v1/webhooks/endpoints/{ids['webhook']}"
    refusals = frozenset({401, 403, 404})

    def p(method, url, allowed=managers, **kw):
        return [Probe(method, url, allowed, refusals=refusals, **kw)]

    return {
        "webhooks.create_endpoint": p("POST", "/v1/webhooks/endpoints", ok_status=201,
                                      body={"url": "http://127.0.0.1:9/x", "centre_id": ids["centre_a"]}),
        "webhooks.list_endpoints": p("GET", "/v1/webhooks/endpoints", shows=ids["webhook"]),
        "webhooks.get_endpoint": p("GET", endpoint),
        "webhooks.update_endpoint": p("PATCH", endpoint, body={"description": "probed"}),
        "webhooks.get_secret": p("GET", f"{endpoint}/secret"),
        "webhooks.rotate_secret": p("POST", f"{endpoint}/rotate-secret"),
        "webhooks.recover": p("POST", f"{endpoint}/recover?since=2026-01-01T00:00:00Z"),
        "webhooks.list_attempts": p("GET", f"{endpoint}/attempts"),
        # the first caller allowed deletes it, and every later one finds nothing (404), so this probe can show one
        # manager's right only; the others' are in tests/test_webhooks.py (test_who_manages_which_endpoints)
        "webhooks.delete_endpoint": p("DELETE", endpoint, allowed={"admin"}, ok_status=204),
    }


def credential_probes(ids: dict) -> dict[str, list[Probe]]:
    """Credentials: a learner's list is for those who read the learner's records; a credential, its issuer's profile
    and status list are public (a verifier has no account)."""
    centre_a, credential = ids["centre_a"], ids["credential"]
    return {
        "credentials.list_learner_credentials": [Probe("GET", f"/v1/learners/{ids['credential_learner']}/credentials",
                                                       READERS_A, shows=credential, refusals=TRACKING_REFUSALS)],
        "credentials.get_credential": [Probe("GET", f"/v1/credentials/{credential}", EVERYONE)],
        "credentials.get_issuer": [Probe("GET", f"/v1/issuers/{centre_a}", EVERYONE)],
        "credentials.get_status_list": [Probe("GET", f"/v1/issuers/{centre_a}/status/1", EVERYONE)],
    }


def apprenticeship_probes(ids: dict) -> dict[str, list[Probe]]:
    """Apprenticeship standards: versions published for delivery are everyone's; one in development, and imports,
    are admins' (anyone else finds no such version: 404)."""
    standard = f"/v1/apprenticeship-standards/{ids['apprenticeship_standard']}"
    published = f"{standard}/versions/{ids['apprenticeship_version']}"
    in_development = f"{standard}/versions/{ids['apprenticeship_version_in_development']}"
    return {
        "apprenticeships.list_standards": [Probe("GET", "/v1/apprenticeship-standards", EVERYONE,
                                                 shows=ids["apprenticeship_standard"])],
        "apprenticeships.get_standard": [Probe("GET", standard, EVERYONE)],
        "apprenticeships.get_standard_version": [Probe("GET", published, EVERYONE),
                                                 Probe("GET", in_development, {"admin"})],
        "apprenticeships.get_standard_version_changes": [
            Probe("GET", f"{published}/changes?from_version={ids['apprenticeship_version']}", EVERYONE)],
        "apprenticeships.import_standards": [Probe("POST", "/v1/imports/apprenticeship-standards", {"admin"},
                                                   body=[], refusals=frozenset({401, 403}))],
        **apprenticeship_tracking_probes(ids),
    }


def apprenticeship_tracking_probes(ids: dict) -> dict[str, list[Probe]]:
    """KSB mappings are written by the unit's authors and read by anyone who may read both sides; a learner's
    apprenticeship and OTJ ledger follow the learner's records (centre A's)."""
    mapping, apprenticeship = f"/v1/ksb-mappings/{ids['ksb_mapping']}", f"/v1/apprenticeships/{ids['apprenticeship']}"
    activity = f"/v1/otj-activities/{ids['otj_activity']}"
    mapping_body = {"unit_version_id": ids["cs34_version"], "criterion_id": ids["cs34_criterion"],
                    "reference_number": ids["apprenticeship_standard"], "version": ids["apprenticeship_version"],
                    "ksb_code": "K2"}
    otj_csv = (f"apprenticeship_id,activity_date,hours,kind,description,external_ref\n{ids['apprenticeship']},"
               "2026-03-02,1.5,mentoring,Matrix probe,matrix-1\n").encode()
    refusals = TRACKING_REFUSALS

    def p(method, url, allowed, ok=200, **kw):
        return [Probe(method, url, allowed, ok_status=ok, refusals=kw.pop("refusals", refusals), **kw)]

    return {
        "apprenticeship_tracking.create_mapping": p("POST", "/v1/ksb-mappings", SKILLS_CFA_CONTENT, 201,
                                                    body=mapping_body, repeat_status=200),
        "apprenticeship_tracking.list_mappings": p(
            "GET", f"/v1/ksb-mappings?reference_number={ids['apprenticeship_standard']}&version="
                   f"{ids['apprenticeship_version']}", EVERYONE, shows=ids["ksb_mapping"]),
        "apprenticeship_tracking.get_mapping": p("GET", mapping, EVERYONE),
        # the first caller allowed removes it and every later one finds nothing (404): one writer's right is shown
        # here, the others' in tests/test_apprenticeship_tracking.py
        "apprenticeship_tracking.delete_mapping": p("DELETE", mapping, {"admin"}, 204),
        # to a version in development: only admins may name it (anyone else finds no such version: 422)
        "apprenticeship_tracking.carry_mappings": p("POST", "/v1/ksb-mapping-carries", {"admin"}, body={
            "reference_number": ids["apprenticeship_standard"], "from_version": ids["apprenticeship_version"],
            "to_version": ids["apprenticeship_version_in_development"]}, refusals=frozenset({401, 422})),
        "apprenticeship_tracking.create_apprenticeship": p("POST", "/v1/apprenticeships", WRITERS_A, 201, body={
            "learner_id": ids["credential_learner"], "reference_number": ids["apprenticeship_standard"],
            "start_date": "2026-01-05", "planned_end_date": "2027-01-04"}, repeat_status=409),
        "apprenticeship_tracking.get_apprenticeship": p("GET", apprenticeship, READERS_A),
        "apprenticeship_tracking.update_apprenticeship": p("PATCH", apprenticeship, WRITERS_A,
                                                           body={"weekly_hours": 30}, headers={"If-Match": "*"}),
        "apprenticeship_tracking.list_apprenticeships": p(
            "GET", f"/v1/learners/{ids['learner']}/apprenticeships", READERS_A, shows=ids["apprenticeship"]),
        "apprenticeship_tracking.apprenticeship_progress": p("GET", f"{apprenticeship}/progress", READERS_A),
        "apprenticeship_tracking.otj_ledger": p("GET", f"{apprenticeship}/otj", READERS_A),
        "apprenticeship_tracking.record_otj_activity": p(
            "POST", f"{apprenticeship}/otj-activities", SUBMITTERS_A, 201,
            body={"activity_date": "2026-03-02", "hours": 1, "kind": "mentoring", "description": "Probe"}),
        "apprenticeship_tracking.list_otj_activities": p("GET", f"{apprenticeship}/otj-activities", READERS_A,
                                                         shows=ids["otj_activity"]),
        "apprenticeship_tracking.get_otj_activity": p("GET", activity, READERS_A),
        # assessor_a recorded it, so may not confirm it (403); the first other confirms, the rest change nothing
        "apprenticeship_tracking.confirm_otj_activity": p(
            "POST", f"{activity}/confirm", {"admin", "centre_admin_a", "trainee_assessor_a", "lms_client_a"}),
        **ksb_assessment_probes(ids, p),
        # a row for an apprenticeship the caller may not record for is refused on the row (422, nothing written)
        "apprenticeship_tracking.import_otj_activities": p(
            "POST", "/v1/imports/otj-activities", SUBMITTERS_A, headers={"Content-Type": "text/csv"}, raw=otj_csv,
            refusals=frozenset({401, 422})),
    }


def ksb_assessment_probes(ids: dict, p) -> dict[str, list[Probe]]:
    """KSBs assessed directly follow the learner's records: evidence from whoever may submit it, decisions and
    countersignatures from the centre's assessors (a trainee's countersigned by a qualified one), samples and verdicts
    from its IQAs."""
    apprenticeship = f"/v1/apprenticeships/{ids['apprenticeship']}"
    decision, trainee_decision = f"/v1/ksb-decisions/{ids['ksb_decision']}", ids["ksb_trainee_decision"]
    return {
        "ksb_assessment.submit_evidence": p("POST", f"{apprenticeship}/ksb-evidence", SUBMITTERS_A, 201, body={
            "type": "observation", "title": "t", "date": "2026-02-03", "authenticity_declared": True,
            "ksb_codes": ["K3"]}),
        "ksb_assessment.list_evidence": p("GET", f"{apprenticeship}/ksb-evidence", READERS_A,
                                          shows=ids["ksb_evidence"]),
        "ksb_assessment.get_evidence": p("GET", f"/v1/ksb-evidence/{ids['ksb_evidence']}", READERS_A),
        "ksb_assessment.record_decision": p("POST", f"{apprenticeship}/ksb-decisions",
                                            {"assessor_a", "trainee_assessor_a"}, 201, body={
                                                "ksb_code": "K2", "outcome": "met", "feedback": "f",
                                                "reason": "re-assessed", "evidence_ids": [ids["ksb_evidence"]]}),
        "ksb_assessment.list_decisions": p("GET", f"{apprenticeship}/ksb-decisions", READERS_A,
                                           shows=ids["ksb_decision"]),
        "ksb_assessment.get_decision": p("GET", decision, READERS_A),
        "ksb_assessment.countersign": p("POST", f"/v1/ksb-decisions/{trainee_decision}/countersign", {"assessor_a"}),
        "ksb_assessment.take_sample": p("POST", f"/v1/ksb-decisions/{trainee_decision}/iqa-sample", {"iqa_a"}),
        "ksb_assessment.record_verdict": p("POST", f"{decision}/iqa-verdict", {"iqa_a"},
                                           body={"verdict": "confirmed"}),
    }


def admin_probes(ids: dict) -> dict[str, list[Probe]]:
    """Account administration: admins only (on an account and a client that no caller uses; ids without them, as
    the GraphQL matrix passes, get placeholders: these endpoints are REST only)."""
    account, client = ids.get("spare_account", "unused"), ids.get("spare_client", "unused")
    admin_only = {"admin"}
    refusals = frozenset({401, 404})  # no account or client exists for anyone but an admin
    return {
        "admin.get_account": [Probe("GET", f"/v1/admin/accounts/{account}", admin_only, refusals=refusals)],
        "admin.disable_account": [Probe("POST", f"/v1/admin/accounts/{account}/disable", admin_only,
                                        refusals=refusals)],
        "admin.enable_account": [Probe("POST", f"/v1/admin/accounts/{account}/enable", admin_only, refusals=refusals)],
        "admin.get_client": [Probe("GET", f"/v1/admin/clients/{client}", admin_only, refusals=refusals)],
        "admin.disable_client": [Probe("POST", f"/v1/admin/clients/{client}/disable", admin_only, refusals=refusals)],
        "admin.enable_client": [Probe("POST", f"/v1/admin/clients/{client}/enable", admin_only, refusals=refusals)],
    }


ID_NAMES = ("cs39_document", "B13", "CS 39", "CS 34", "b13_criterion", "cs39_criterion", "b13_outcome", "cs39_outcome",
            "standard", "centre_a", "centre_b", "learner", "enrolment", "evidence", "decision", "trainee_decision",
            "sample", "plan", "assessor_a", "qualification", "import_job", "spare_account", "spare_client",
            "framework", "webhook", "credential_learner", "credential", "apprenticeship_standard",
            "apprenticeship_version", "apprenticeship_version_in_development", "cs34_version", "cs34_criterion",
            "ksb_mapping", "apprenticeship", "otj_activity", "ksb_evidence", "ksb_decision", "ksb_trainee_decision")


def app_endpoints(app) -> set[str]:
    return {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static"}


def test_every_endpoint_has_a_policy(app, ids):
    assert app_endpoints(app) == set(probes(ids)), "add the new endpoint to probes() in this file"


@pytest.mark.parametrize("endpoint", sorted(probes(dict.fromkeys(ID_NAMES, "x"))))
def test_authorisation_matrix(app, client, auth, ids, endpoint):
    unexpected = []
    for probe in probes(ids)[endpoint]:
        for caller in CALLERS:
            response = client.open(probe.url, method=probe.method, headers={**auth(caller), **(probe.headers or {})},
                                   json=probe.body if probe.raw is None else None, data=probe.raw)
            succeeded = response.status_code < 400 or response.status_code == probe.repeat_status
            allowed = succeeded and (probe.shows is None or probe.shows in response.get_data(as_text=True))
            if allowed != (caller in probe.allowed):
                unexpected.append((probe.method, probe.url, caller, response.status_code))
            elif allowed:
                assert response.status_code in (probe.ok_status, probe.repeat_status), (probe.url, caller)
            elif not succeeded:
                assert response.mimetype == probe.error_mimetype
                assert response.status_code in probe.refusals, (probe.url, caller, response.status_code)
                if caller is not None and response.status_code == 401 and not probe.token_refusal:
                    unexpected.append((probe.method, probe.url, caller, "401 for a valid token"))
    assert unexpected == []


def test_centre_list_shows_only_your_centres(client, auth, identities):
    def codes(caller):
        return {c["code"] for c in client.get("/v1/centres", headers=auth(caller)).get_json()["items"]}

    assert codes("admin") == {"A", "B"}
    assert codes("assessor_a") == codes("lms_client_a") == {"A"}
    assert codes("centre_admin_b") == codes("import_client_b") == {"B"}
    assert codes("author_ocr") == set()
