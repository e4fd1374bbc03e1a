"""The authorisation matrix of tests/test_authorization_matrix.py, run through GraphQL.

Each REST endpoint either has GraphQL operations here, with the *same* set of allowed callers taken from the REST
probes, or is listed in REST_ONLY with the reason (every tracking write has its mutation). A new REST endpoint fails
test_every_endpoint_is_covered until someone decides which. "Allowed" means: a query field returns the record (or the
list shows it) without errors; a mutation returns its success type (showing the id, where one is named). Everyone
else gets null, an empty list, an error or a Problem member: never data.
"""

from dataclasses import dataclass

import pytest

from tests.conftest import CLIENTS, PEOPLE
from tests.graphql_helpers import gql
from tests.test_authorization_matrix import ID_NAMES, app_endpoints, probes

CALLERS = [None, *PEOPLE, *CLIENTS]

REST_ONLY = {
    "auth.token": "tokens are issued by REST only", "auth.refresh": "tokens are issued by REST only",
    "auth.revoke": "tokens are revoked by REST only", "auth.me": "REST only",
    "auth.set_delegation": "a person's token settings are REST only, beside the token endpoint",
    **{f"admin.{name}": "account administration is REST (and CLI) only: GraphQL has no account operations"
       for name in ("get_account", "disable_account", "enable_account", "get_client", "disable_client",
                    "enable_client")},
    "meta.openapi_document": "the REST contract", "meta.openapi_bundled": "the REST contract",
    "meta.json_schema": "the data-file schemas",
    "graphql": "the GraphQL endpoint itself",
    "health.healthz": "operations", "health.readyz": "operations", "metrics": "operations",
    "docs.guide": "a web page", "docs.swagger_ui": "a web page", "docs.walkthrough": "a web page",
    "docs.asset": "the web pages' files",
    "imports.import_learners": "bulk import takes a file: REST only", "imports.get_import": "bulk import: REST only",
    "imports.import_template": "a file to download: REST only",
    "learners.export_learner": "a download, REST only",
    **dict.fromkeys(("credentials.get_credential", "credentials.get_issuer", "credentials.get_status_list"),
                    "public documents a verifier fetches by the URL in a credential: REST by definition"),
    "apprenticeships.import_standards": "a document import: REST and the command line, as the CASE import",
    "apprenticeship_tracking.import_otj_activities": "a CSV file import: REST, as the learner import",
    "assessment.plan_candidates": "a work list for IQA planning tools: REST only (sampleDecision takes its ids)",
    "content.get_qualification": "no qualification in data/units (the REST matrix has no probe either)",
    "content.get_unit_source": "the document PUT /v1/units/{id}/draft takes: awarding-body sync is REST",
    **dict.fromkeys(("sync.save_draft", "sync.publish", "sync.withdraw", "sync.diff_versions",
                     "sync.import_case", "sync.get_framework", "sync.publish_framework", "sync.withdraw_framework",
                     "sync.diff_framework_versions"),
                    "awarding-body sync is a REST integration (documents, ETags, the change feed)"),
    **{f"case.{name}": "the CASE 1.1 binding is REST by definition" for name in (
        "discovery", "get_all_documents", "get_document", "get_package", "get_item", "get_item_associations",
        "get_association", "get_item_type", "get_cfsubject", "get_cfconcept", "get_cflicense",
        "get_cfassociationgrouping", "get_cfrubric")},
}


@dataclass
class Operation:
    query: str
    variables: dict
    field: str  # the (dotted) field whose value decides success, e.g. "centre.progress"
    shows: str | None = None  # for lists (and a mutation's list): success means this id is in the result
    success_type: str | None = None  # for mutations: success means this __typename
    repeatable: bool = False  # a create each allowed caller repeats: after the first, a Conflict naming it


def operations(ids: dict) -> dict[str, list[Operation]]:
    """REST endpoint -> GraphQL operations with the same meaning, in the same order as its REST probes."""
    b13, cs39 = ids["B13"], ids["CS 39"]
    e, learner = ids["enrolment"], ids["learner"]

    def q(text, field, shows=None, **variables):
        return Operation(text, variables, field, shows)

    def m(text, field, success_type, **variables):
        return Operation(text, variables, field, success_type=success_type)

    return {
        "content.list_units": [q("{ units { nodes { code } } }", "units"),
                               q('{ units(status: DRAFT, code: "CS 39") { nodes { code } } }', "units", "CS 39")],
        "content.get_unit": [q("query($id: UUID!) { unit(id: $id) { code } }", "unit", id=b13),
                             q("query($id: UUID!) { unit(id: $id, status: DRAFT) { code } }", "unit", id=cs39)],
        "content.list_unit_versions": [
            q("query($id: UUID!) { unit(id: $id) { versions { number } } }", "unit", id=b13),
            q("query($id: UUID!) { unit(id: $id, status: DRAFT) { versions(status: DRAFT) { number } } }", "unit",
              id=cs39)],
        "content.get_unit_version": [
            q("query($id: UUID!) { unitVersion(unitId: $id, number: 1) { code } }", "unitVersion", id=b13),
            q("query($id: UUID!) { unitVersion(unitId: $id, number: 1, status: DRAFT) { code } }", "unitVersion",
              id=cs39)],
        "content.get_learning_outcome": [
            q("query($id: UUID!) { learningOutcome(id: $id) { id } }", "learningOutcome", id=ids["b13_outcome"]),
            q("query($id: UUID!) { learningOutcome(id: $id, status: DRAFT) { id } }", "learningOutcome",
              id=ids["cs39_outcome"])],
        "content.get_criterion": [
            q("query($id: UUID!) { criterion(id: $id) { id } }", "criterion", id=ids["b13_criterion"]),
            q("query($id: UUID!) { criterion(id: $id, status: DRAFT) { id } }", "criterion",
              id=ids["cs39_criterion"])],
        "content.list_evidence_types": [q("{ evidenceTypes { totalCount } }", "evidenceTypes")],
        "content.list_standards": [q("{ standards { totalCount } }", "standards")],
        "content.get_standard": [q("query($id: UUID!) { standard(id: $id) { id } }", "standard", id=ids["standard"])],
        "content.list_qualifications": [q("{ qualifications { totalCount } }", "qualifications")],
        "centres.list_centres": [q("{ centres { totalCount } }", "centres")],
        "centres.get_centre": [q("query($id: UUID!) { centre(id: $id) { id } }", "centre", id=ids["centre_a"]),
                               q("query($id: UUID!) { centre(id: $id) { id } }", "centre", id=ids["centre_b"])],
        "learners.create_learner": [
            m('mutation($c: UUID!) { createLearner(input: {centreId: $c, uln: "9999999999", givenName: "A", '
              'familyName: "B"}) { __typename } }', "createLearner", "Learner", c=ids["centre_a"])],
        "learners.update_learner": [
            m('mutation($id: UUID!) { updateLearner(id: $id, etag: "*", input: {givenName: "Ada"}) { __typename } }',
              "updateLearner", "Learner", id=learner)],
        "learners.withdraw_learner": [
            m("mutation($id: UUID!) { withdrawLearner(id: $id) { __typename } }", "withdrawLearner", "Learner",
              id=learner)],
        "learners.pseudonymise_learner": [
            m("mutation($id: UUID!) { pseudonymiseLearner(id: $id) { __typename } }", "pseudonymiseLearner",
              "Learner", id=learner)],
        "learners.enrol_on_qualification": [
            m('mutation($l: UUID!, $q: UUID!) { enrolOnQualification(learnerId: $l, qualificationId: $q, '
              'input: {startDate: "2026-09-01"}) { __typename } }', "enrolOnQualification", "Enrolments",
              l=learner, q=ids["qualification"])],
        "learners.update_enrolment": [
            m('mutation($id: UUID!) { updateEnrolment(id: $id, etag: "*", input: {plannedEndDate: "2027-08-01"}) '
              "{ __typename } }", "updateEnrolment", "Enrolment", id=e)],
        "sync.migrate_enrolment": [
            m("mutation($id: UUID!) { migrateEnrolment(id: $id, dryRun: true) { __typename } }", "migrateEnrolment",
              "EnrolmentMigration", id=e)],
        "sync.migrate_cohort": [Operation(
            "mutation($u: UUID!, $c: UUID!) { migrateCohort(input: {unitId: $u, centreId: $c, dryRun: true}) "
            "{ __typename ... on CohortMigration { alreadyCurrent plans { enrolmentId } } } }",
            {"u": b13, "c": ids["centre_a"]}, "migrateCohort", shows=e, success_type="CohortMigration")],
        "assessment.create_plan": [
            m('mutation($c: UUID!, $a: UUID!) { createSamplingPlan(input: {centreId: $c, assessorId: $a, '
              "rate: 0.25}) { __typename } }", "createSamplingPlan", "SamplingPlan", c=ids["centre_a"],
              a=ids["assessor_a"])],
        "assessment.take_sample": [
            m("mutation($d: UUID!) { sampleDecision(decisionId: $d) { __typename } }", "sampleDecision", "IqaSample",
              d=ids["trainee_decision"])],
        "learners.list_learners": [q("{ learners(first: 100) { nodes { id } } }", "learners", learner)],
        "learners.get_learner": [q("query($id: UUID!) { learner(id: $id) { id } }", "learner", id=learner)],
        "learners.learner_progress": [
            q("query($id: UUID!) { learner(id: $id) { progress { units } } }", "learner.progress", id=learner)],
        "apprenticeships.list_standards": [
            q("{ apprenticeshipStandards { nodes { referenceNumber } } }", "apprenticeshipStandards",
              shows=ids["apprenticeship_standard"])],
        "apprenticeships.get_standard": [
            q("query($r: String!) { apprenticeshipStandard(referenceNumber: $r) { id } }", "apprenticeshipStandard",
              r=ids["apprenticeship_standard"])],
        "apprenticeships.get_standard_version": [
            q("query($r: String!, $v: String!) { apprenticeshipStandardVersion(referenceNumber: $r, version: $v) "
              "{ id } }", "apprenticeshipStandardVersion", r=ids["apprenticeship_standard"], v=version)
            for version in (ids["apprenticeship_version"], ids["apprenticeship_version_in_development"])],
        "apprenticeships.get_standard_version_changes": [
            q("query($r: String!, $v: String!, $s: String!) { apprenticeshipStandardVersion(referenceNumber: $r, "
              "version: $v) { changesFrom(version: $s) } }", "apprenticeshipStandardVersion.changesFrom",
              r=ids["apprenticeship_standard"], v=ids["apprenticeship_version"], s=ids["apprenticeship_version"])],
        "credentials.list_learner_credentials": [
            q("query($id: UUID!) { learner(id: $id) { credentials { id } } }", "learner.credentials",
              shows=ids["credential"], id=ids["credential_learner"])],
        "learners.qualification_progress": [
            q("query($l: UUID!, $q: UUID!) { qualificationProgress(learnerId: $l, qualificationId: $q) { achieved } }",
              "qualificationProgress", l=learner, q=ids["qualification"])],
        "learners.create_enrolment": [Operation(
            "mutation($l: UUID!, $u: UUID!) { enrolLearner(input: {learnerId: $l, unitId: $u, "
            'startDate: "2026-09-01"}) { __typename ... on Conflict { existingId } } }',
            {"l": learner, "u": ids["CS 34"]}, "enrolLearner", success_type="Enrolment", repeatable=True)],
        "learners.create_enrolments": [Operation(
            "mutation($l: UUID!, $u: UUID!) { enrolLearners(input: [{learnerId: $l, unitId: $u, "
            'startDate: "2026-09-01"}]) { __typename ... on Conflict { existingId } } }',
            {"l": learner, "u": ids["CS 34"]}, "enrolLearners", success_type="Enrolments", repeatable=True)],
        "learners.list_enrolments": [q("{ enrolments(first: 100) { nodes { id } } }", "enrolments", e)],
        "learners.get_enrolment": [q("query($id: UUID!) { enrolment(id: $id) { id } }", "enrolment", id=e)],
        "enrolment_staff.list_staff": [q("query($id: UUID!) { enrolment(id: $id) { staff { accountId role } } }",
                                         "enrolment.staff", id=e)],
        "enrolment_staff.add_staff": [
            m("mutation($e: UUID!, $a: UUID!) { assignEnrolmentStaff(enrolmentId: $e, accountId: $a, role: ASSESSOR) "
              "{ __typename } }", "assignEnrolmentStaff", "Enrolment", e=e, a=ids["assessor_a"])],
        "enrolment_staff.remove_staff": [
            m("mutation($e: UUID!, $a: UUID!) { unassignEnrolmentStaff(enrolmentId: $e, accountId: $a, "
              "role: ASSESSOR) { __typename } }", "unassignEnrolmentStaff", "Enrolment", e=e, a=ids["assessor_a"])],
        "learners.enrolment_progress": [
            q("query($id: UUID!) { enrolment(id: $id) { progress { met } } }", "enrolment.progress", id=e)],
        "assessment.submit_evidence": [
            m('mutation($e: UUID!) { submitEvidence(enrolmentId: $e, input: {type: "observation", title: "t", '
              'date: "2026-10-01", authenticityDeclared: true}) { __typename } }', "submitEvidence", "Evidence", e=e)],
        "assessment.list_evidence": [q("query($id: UUID!) { enrolment(id: $id) { evidence { id } } }",
                                       "enrolment.evidence", id=e)],
        "assessment.get_evidence": [q("query($id: UUID!) { evidence(id: $id) { id } }", "evidence",
                                      id=ids["evidence"])],
        "assessment.list_all_evidence": [q("{ evidenceItems(first: 100) { nodes { id } } }", "evidenceItems",
                                           ids["evidence"])],
        "assessment.list_all_decisions": [q("{ decisions(first: 100) { nodes { id } } }", "decisions",
                                            ids["decision"])],
        "assessment.claim_criteria": [
            m("mutation($v: UUID!, $c: UUID!) { claimCriteria(evidenceId: $v, criterionIds: [$c]) { __typename } }",
              "claimCriteria", "Evidence", v=ids["evidence"], c=ids["b13_criterion"])],
        "assessment.record_decision": [
            m('mutation($e: UUID!, $c: UUID!, $v: UUID!) { recordDecision(enrolmentId: $e, input: {criterionId: $c, '
              'outcome: MET, feedback: "f", reason: "re-assessed", evidenceIds: [$v]}) { __typename } }',
              "recordDecision", "Decision", e=e, c=ids["b13_criterion"], v=ids["evidence"])],
        "assessment.record_decisions": [
            m('mutation($e: UUID!, $c: UUID!, $v: UUID!) { recordDecisions(enrolmentId: $e, decisions: [{criterionId: '
              '$c, outcome: MET, feedback: "f", reason: "re-assessed", evidenceIds: [$v]}]) { __typename } }',
              "recordDecisions", "DecisionBatch", e=e, c=ids["b13_criterion"], v=ids["evidence"])],
        "assessment.list_decisions": [q("query($id: UUID!) { enrolment(id: $id) { decisions { id } } }",
                                        "enrolment.decisions", id=e)],
        "assessment.get_decision": [q("query($id: UUID!) { decision(id: $id) { id } }", "decision",
                                      id=ids["decision"])],
        "assessment.countersign": [
            m("mutation($d: UUID!) { countersignDecision(decisionId: $d) { __typename } }", "countersignDecision",
              "Decision", d=ids["trainee_decision"])],
        "assessment.get_sample": [q("query($id: UUID!) { iqaSample(id: $id) { id } }", "iqaSample", id=ids["sample"])],
        "assessment.record_verdict": [
            m("mutation($s: UUID!) { recordIqaVerdict(sampleId: $s, input: {verdict: CONFIRMED}) { __typename } }",
              "recordIqaVerdict", "IqaSample", s=ids["sample"])],
        "assessment.centre_progress": [
            q("query($id: UUID!) { centre(id: $id) { progress { enrolments } } }", "centre.progress",
              id=ids["centre_a"])],
        "assessment.list_audit": [
            q("query($c: UUID!) { auditEvents(centreId: $c) { nodes { centreId } } }", "auditEvents",
              shows=ids["centre_a"], c=ids["centre_a"])],
        "sync.list_changes": [q("{ changes { items { cursor } nextCursor } }", "changes")],
        **webhook_operations(ids),
        **apprenticeship_operations(ids),
    }


def apprenticeship_operations(ids: dict) -> dict[str, list[Operation]]:
    """As apprenticeship_tracking_probes in the REST matrix."""
    standard = {"r": ids["apprenticeship_standard"], "v": ids["apprenticeship_version"]}
    apprenticeship, activity = {"a": ids["apprenticeship"]}, {"id": ids["otj_activity"]}

    def q(text, field, shows=None, **variables):
        return [Operation(text, variables, field, shows)]

    def m(text, field, success_type, repeatable=False, **variables):
        return [Operation(text, variables, field, success_type=success_type, repeatable=repeatable)]

    return {
        "apprenticeship_tracking.create_mapping": m(
            "mutation($u: UUID!, $c: UUID!, $r: String!, $v: String!) { createKsbMapping(input: {unitVersionId: $u, "
            'criterionId: $c, referenceNumber: $r, version: $v, ksbCode: "K2"}) { __typename } }', "createKsbMapping",
            "KsbMapping", u=ids["cs34_version"], c=ids["cs34_criterion"], **standard),
        "apprenticeship_tracking.list_mappings": q(
            "query($r: String!, $v: String!) { ksbMappings(referenceNumber: $r, version: $v) { nodes { id } } }",
            "ksbMappings", ids["ksb_mapping"], **standard),
        "apprenticeship_tracking.get_mapping": q("query($id: UUID!) { ksbMapping(id: $id) { id } }", "ksbMapping",
                                                 id=ids["ksb_mapping"]),
        "apprenticeship_tracking.delete_mapping": m("mutation($id: UUID!) { deleteKsbMapping(id: $id) "
                                                    "{ __typename } }", "deleteKsbMapping", "KsbMapping",
                                                    id=ids["ksb_mapping"]),
        "apprenticeship_tracking.carry_mappings": m(
            "mutation($r: String!, $v: String!, $t: String!) { carryKsbMappings(input: {referenceNumber: $r, "
            "fromVersion: $v, toVersion: $t}) { __typename } }", "carryKsbMappings", "KsbMappingCarry",
            t=ids["apprenticeship_version_in_development"], **standard),
        "apprenticeship_tracking.create_apprenticeship": m(
            "mutation($l: UUID!, $r: String!) { createApprenticeship(input: {learnerId: $l, referenceNumber: $r, "
            'startDate: "2026-01-05", plannedEndDate: "2027-01-04"}) { __typename ... on Conflict { existingId } } }',
            "createApprenticeship", "Apprenticeship", repeatable=True, l=ids["credential_learner"],
            r=ids["apprenticeship_standard"]),
        "apprenticeship_tracking.get_apprenticeship": q("query($a: UUID!) { apprenticeship(id: $a) { id } }",
                                                        "apprenticeship", **apprenticeship),
        "apprenticeship_tracking.update_apprenticeship": m(
            'mutation($a: UUID!) { updateApprenticeship(id: $a, etag: "*", input: {weeklyHours: 30}) '
            "{ __typename } }", "updateApprenticeship", "Apprenticeship", **apprenticeship),
        "apprenticeship_tracking.list_apprenticeships": q(
            "query($l: UUID!) { learner(id: $l) { apprenticeships { nodes { id } } } }", "learner.apprenticeships",
            ids["apprenticeship"], l=ids["learner"]),
        "apprenticeship_tracking.apprenticeship_progress": q(
            "query($a: UUID!) { apprenticeship(id: $a) { progress { ksbsTotal } } }", "apprenticeship.progress",
            **apprenticeship),
        "apprenticeship_tracking.otj_ledger": q(
            "query($a: UUID!) { apprenticeship(id: $a) { otj { hoursRecorded } } }", "apprenticeship.otj",
            **apprenticeship),
        "apprenticeship_tracking.record_otj_activity": m(
            'mutation($a: UUID!) { recordOtjActivity(apprenticeshipId: $a, input: {activityDate: "2026-03-02", '
            'hours: 1, kind: "mentoring", description: "Probe"}) { __typename } }', "recordOtjActivity",
            "OtjActivity", **apprenticeship),
        "apprenticeship_tracking.list_otj_activities": q(
            "query($a: UUID!) { apprenticeship(id: $a) { otjActivities { nodes { id } } } }",
            "apprenticeship.otjActivities", ids["otj_activity"], **apprenticeship),
        "apprenticeship_tracking.get_otj_activity": q("query($id: UUID!) { otjActivity(id: $id) { id } }",
                                                      "otjActivity", **activity),
        "apprenticeship_tracking.confirm_otj_activity": m(
            "mutation($id: UUID!) { confirmOtjActivity(id: $id) { __typename } }", "confirmOtjActivity",
            "OtjActivity", **activity),
        **ksb_assessment_operations(ids, q, m),
    }


def ksb_assessment_operations(ids: dict, q, m) -> dict[str, list[Operation]]:
    """As ksb_assessment_probes in the REST matrix."""
    apprenticeship, decision = {"a": ids["apprenticeship"]}, {"id": ids["ksb_decision"]}
    trainee = {"id": ids["ksb_trainee_decision"]}
    return {
        "ksb_assessment.submit_evidence": m(
            'mutation($a: UUID!) { submitKsbEvidence(apprenticeshipId: $a, input: {type: "observation", title: "t", '
            'date: "2026-02-03", authenticityDeclared: true, ksbCodes: ["K3"]}) { __typename } }',
            "submitKsbEvidence", "KsbEvidence", **apprenticeship),
        "ksb_assessment.list_evidence": q(
            "query($a: UUID!) { apprenticeship(id: $a) { ksbEvidence { nodes { id } } } }",
            "apprenticeship.ksbEvidence", ids["ksb_evidence"], **apprenticeship),
        "ksb_assessment.get_evidence": q("query($id: UUID!) { ksbEvidence(id: $id) { id } }", "ksbEvidence",
                                         id=ids["ksb_evidence"]),
        "ksb_assessment.record_decision": m(
            'mutation($a: UUID!, $e: UUID!) { recordKsbDecision(apprenticeshipId: $a, input: {ksbCode: "K2", '
            'outcome: MET, feedback: "f", reason: "re-assessed", evidenceIds: [$e]}) { __typename } }',
            "recordKsbDecision", "KsbDecision", e=ids["ksb_evidence"], **apprenticeship),
        "ksb_assessment.list_decisions": q(
            "query($a: UUID!) { apprenticeship(id: $a) { ksbDecisions { id } } }", "apprenticeship.ksbDecisions",
            ids["ksb_decision"], **apprenticeship),
        "ksb_assessment.get_decision": q("query($id: UUID!) { ksbDecision(id: $id) { id } }", "ksbDecision",
                                         **decision),
        "ksb_assessment.countersign": m("mutation($id: UUID!) { countersignKsbDecision(id: $id) { __typename } }",
                                        "countersignKsbDecision", "KsbDecision", **trainee),
        "ksb_assessment.take_sample": m("mutation($id: UUID!) { sampleKsbDecision(id: $id) { __typename } }",
                                        "sampleKsbDecision", "KsbDecision", **trainee),
        "ksb_assessment.record_verdict": m(
            "mutation($id: UUID!) { recordKsbVerdict(id: $id, input: {verdict: CONFIRMED}) { __typename } }",
            "recordKsbVerdict", "KsbDecision", **decision),
    }


def webhook_operations(ids: dict) -> dict[str, list[Operation]]:
    """As webhook_probes in the REST matrix."""
    hook = {"id": ids["webhook"]}

    def m(text, field, success_type, **variables):
        return [Operation(f"mutation($id: UUID!) {{ {text} {{ __typename }} }}", {**hook, **variables}, field,
                          success_type=success_type)]

    return {
        "webhooks.create_endpoint": [Operation(
            'mutation($c: UUID!) { registerWebhookEndpoint(input: {url: "http://127.0.0.1:9/x", centreId: $c}) '
            "{ __typename } }", {"c": ids["centre_a"]}, "registerWebhookEndpoint",
            success_type="WebhookRegistration")],
        "webhooks.list_endpoints": [Operation("{ webhookEndpoints { id } }", {}, "webhookEndpoints",
                                              shows=ids["webhook"])],
        "webhooks.get_endpoint": [Operation("query($id: UUID!) { webhookEndpoint(id: $id) { id } }", hook,
                                            "webhookEndpoint")],
        "webhooks.update_endpoint": m('updateWebhookEndpoint(id: $id, input: {description: "probed"})',
                                      "updateWebhookEndpoint", "WebhookEndpoint"),
        "webhooks.get_secret": [Operation("query($id: UUID!) { webhookSecret(id: $id) { secret } }", hook,
                                          "webhookSecret")],
        "webhooks.rotate_secret": m("rotateWebhookSecret(id: $id)", "rotateWebhookSecret", "WebhookSecret"),
        "webhooks.recover": m('recoverWebhookEndpoint(id: $id, since: "2026-01-01T00:00:00Z")',
                              "recoverWebhookEndpoint", "WebhookEndpoint"),
        "webhooks.list_attempts": [Operation(
            "query($id: UUID!) { webhookEndpoint(id: $id) { attempts { totalCount } } }", hook,
            "webhookEndpoint.attempts")],
        "webhooks.delete_endpoint": m("deleteWebhookEndpoint(id: $id)", "deleteWebhookEndpoint", "Deleted"),
    }


def succeeded(body: dict, operation: Operation) -> bool:
    value = body.get("data")
    for name in operation.field.split("."):
        value = (value or {}).get(name)
    if body.get("errors") or value is None:
        return False
    if operation.success_type and not (value["__typename"] == operation.success_type
                                       or (operation.repeatable and bool(value.get("existingId")))):
        return False
    if operation.shows:
        return operation.shows in str(value)
    return True


def test_every_endpoint_is_covered(app, ids):
    covered = set(operations(ids)) | set(REST_ONLY)
    assert app_endpoints(app) == covered, "map the new endpoint to GraphQL operations, or list it in REST_ONLY"
    assert not set(operations(ids)) & set(REST_ONLY)


@pytest.mark.parametrize("endpoint", sorted(operations(dict.fromkeys(ID_NAMES, "x"))))
def test_graphql_authorisation_matrix(client, auth, ids, endpoint):
    rest_probes = probes(ids)[endpoint]
    graph_operations = operations(ids)[endpoint]
    assert len(rest_probes) == len(graph_operations)
    leaks, refusals = [], []
    for probe, operation in zip(rest_probes, graph_operations, strict=True):
        for caller in CALLERS:
            body = gql(client, operation.query, operation.variables, auth(caller), expect_errors=True)
            allowed = succeeded(body, operation)
            if allowed and caller not in probe.allowed:
                leaks.append((endpoint, caller, body))
            elif not allowed and caller in probe.allowed:
                refusals.append((endpoint, caller, body))
            for error in body.get("errors", []):
                assert error["extensions"]["code"] != "INTERNAL_SERVER_ERROR", error
    assert leaks == [], "GraphQL showed or did what REST refuses"
    assert refusals == [], "GraphQL refused what REST allows"
