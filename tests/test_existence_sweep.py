"""One answer for "you may not see it": a record that exists but is hidden from the caller answers exactly as a
record that does not exist, on every route and every GraphQL field that takes an id (in the path, the query or the
body), and a missing id is never refused for the caller's role before it is looked up.

The requests are the authorisation matrices' own (probes() in tests/test_authorization_matrix.py, operations() in
tests/test_graphql_authorization.py) plus the id-bearing variants below that those lack. Each named id in them is
swapped, in turn, for (a) a record that exists and that the caller cannot see, and (b) a random id; the two answers
must be the same bytes once the id is masked. Whether a caller can see a record is asked of the record's own read
route, so the sweep needs no list of who sees what.
"""

import json
import re
import uuid

import pytest
import yaml

from api.models.base import content_id
from tests.conftest import CLIENTS, PEOPLE, PROJECT_ROOT, TEST_PASSWORD, UNITS_DIR
from tests.graphql_helpers import gql
from tests.test_authorization_matrix import ID_NAMES, Probe, app_endpoints, probes
from tests.test_graphql_authorization import Operation, operations
from tests.tracking_helpers import VALID_ULN, criteria_of, post

CALLERS = [None, *PEOPLE, *CLIENTS]  # None is the anonymous caller
NOT_IDS = {"cs39_document": "a unit document, not an id", "standard": "standards are public: none is hidden",
           "credential": "credentials are public by id: none is hidden"}
# Path parameters that are not record ids (version numbers are swapped through the "draft_version" variants).
NOT_ID_ARGUMENTS = {"a", "b", "number", "name", "filename"}
# Endpoints whose ids, as the matrix's probes give them, lead to nothing that can be hidden: the CASE binding serves
# published frameworks (and a standard version in development to admins only: swept through STANDARD_CASE_READS).
NOTHING_HIDDEN = {
    "case.get_document": "a CFDocument is a body's published suite", "case.get_package": "as CFDocuments",
    "case.get_association": "associations of published content only",
    "case.get_item_type": "item types are a fixed public vocabulary",
    "credentials.get_credential": "a credential is public by id, so a verifier needs no account",
    "credentials.get_issuer": "an issuer's profile is public", "credentials.get_status_list": "as issuers' profiles",
}
# Where a missing id in the path may be refused for the caller's role: the request creates what the id names.
CREATES_AT_ID = {"sync.save_draft": "PUT creates the unit its document names; only the body's writers may"}
RANDOM_VERSION = 987000  # plus up to 999: a version number no unit has
# The CASE objects of a standard version (the sweep's own id names), and the read that tells who sees one.
STANDARD_CASE_READS = {"standard_case_document": "/ims/case/v1p1/CFDocuments/{}",
                       "standard_case_item": "/ims/case/v1p1/CFItems/{}",
                       "standard_case_association": "/ims/case/v1p1/CFAssociations/{}"}
STANDARD_CASE_PROBES = (("case.get_document", "CFDocuments", "standard_case_document"),
                        ("case.get_package", "CFPackages", "standard_case_document"),
                        ("case.get_item", "CFItems", "standard_case_item"),
                        ("case.get_item_associations", "CFItemAssociations", "standard_case_item"),
                        ("case.get_association", "CFAssociations", "standard_case_association"))


def variant_probes(ids: dict) -> dict[str, list[Probe]]:
    """Requests carrying ids that the matrix's probes do not: ids nested in bodies, list filters, draft versions."""
    b13, enrolment, learner, centre = ids["B13"], ids["enrolment"], ids["learner"], ids["centre_a"]
    version, staff = ids["draft_version"], {"assessor_ids": [ids["assessor_a"]], "iqa_ids": [ids["iqa_a"]]}

    def p(method, url, body=None, headers=None):
        return Probe(method, url, set(), body=body, headers=headers)

    return {
        "content.get_unit_version": [p("GET", f"/v1/units/{b13}/versions/{version}?status=draft")],
        "content.get_qualification": [p("GET", f"/v1/qualifications/{ids['qualification']}"),
                                      p("GET", f"/v1/qualifications/{ids['qualification']}?status=draft")],
        "sync.diff_versions": [p("GET", f"/v1/units/{b13}/versions/1/diff/{version}"),
                               p("GET", f"/v1/units/{b13}/versions/{version}/diff/2")],
        "sync.migrate_enrolment": [p("POST", f"/v1/enrolments/{enrolment}/migrate",
                                     {"to_version": version, "dry_run": True})],
        "sync.migrate_cohort": [p("POST", "/v1/enrolment-migrations",
                                  {"unit_id": b13, "enrolment_ids": [enrolment], "dry_run": True}),
                                p("POST", "/v1/enrolment-migrations",
                                  {"unit_id": b13, "to_version": version, "dry_run": True})],
        "learners.create_enrolment": [p("POST", "/v1/enrolments", {
            "learner_id": learner, "unit_id": b13, "start_date": "2026-09-01", **staff})],
        "learners.update_enrolment": [p("PATCH", f"/v1/enrolments/{enrolment}", staff, {"If-Match": "*"})],
        "learners.enrol_on_qualification": [p("POST", f"/v1/learners/{learner}/qualifications/"
                                                      f"{ids['qualification']}/enrolments",
                                              {"start_date": "2026-09-01", **staff})],
        "assessment.submit_evidence": [p("POST", f"/v1/enrolments/{enrolment}/evidence", {
            "type": "observation", "title": "t", "date": "2026-10-01", "authenticity_declared": True,
            "criterion_ids": [ids["b13_criterion"]]})],
        "assessment.list_decisions": [p("GET", f"/v1/enrolments/{enrolment}/decisions"
                                               f"?criterion_id={ids['b13_criterion']}")],
        "learners.list_learners": [p("GET", f"/v1/learners?centre_id={centre}")],
        "learners.list_enrolments": [p("GET", f"/v1/enrolments?learner_id={learner}"),
                                     p("GET", f"/v1/enrolments?unit_id={b13}"),
                                     p("GET", f"/v1/enrolments?centre_id={centre}")],
        "assessment.list_audit": [p("GET", f"/v1/audit?subject_id={learner}")],
        "sync.list_changes": [p("GET", f"/v1/changes?learner_id={learner}"), p("GET", f"/v1/changes?unit_id={b13}"),
                              p("GET", f"/v1/changes?centre_id={centre}")],
        **{endpoint: [p("GET", f"{url}?enrolment_id={enrolment}"), p("GET", f"{url}?learner_id={learner}"),
                      p("GET", f"{url}?centre_id={centre}")]
           for endpoint, url in (("assessment.list_all_decisions", "/v1/decisions"),
                                 ("assessment.list_all_evidence", "/v1/evidence"))},
        **{endpoint: [p("GET", f"/ims/case/v1p1/{path}/{ids[name]}")] for endpoint, path, name in STANDARD_CASE_PROBES},
    }


def variant_operations(ids: dict) -> dict[str, list[Operation]]:
    """GraphQL requests carrying ids that the GraphQL matrix's operations do not."""
    def q(text, field, **variables):
        return Operation(text, variables, field)

    staff = {"a": ids["assessor_a"], "i": ids["iqa_a"]}
    return {
        "content.get_unit_version": [q("query($id: UUID!, $n: Int!) { unitVersion(unitId: $id, number: $n, "
                                       "status: DRAFT) { code } }", "unitVersion", id=ids["B13"],
                                       n=ids["draft_version"])],
        "content.get_qualification": [q("query($id: UUID!) { qualification(id: $id) { id } }", "qualification",
                                        id=ids["qualification"]),
                                      q("query($id: UUID!) { qualification(id: $id, status: DRAFT) { id } }",
                                        "qualification", id=ids["qualification"])],
        "learners.create_enrolment": [q(
            "mutation($l: UUID!, $u: UUID!, $a: UUID!, $i: UUID!) { enrolLearner(input: {learnerId: $l, "
            'unitId: $u, startDate: "2026-09-01", assessorIds: [$a], iqaIds: [$i]}) { __typename } }',
            "enrolLearner", l=ids["learner"], u=ids["B13"], **staff)],
        "learners.update_enrolment": [q('mutation($e: UUID!) { withdrawEnrolment(id: $e, etag: "*") { __typename } }',
                                        "withdrawEnrolment", e=ids["enrolment"])],
        "assessment.submit_evidence": [q(
            'mutation($e: UUID!, $c: UUID!) { submitEvidence(enrolmentId: $e, input: {type: "observation", '
            'title: "t", date: "2026-10-01", authenticityDeclared: true, criterionIds: [$c]}) { __typename } }',
            "submitEvidence", e=ids["enrolment"], c=ids["b13_criterion"])],
        "learners.list_learners": [q("query($c: UUID!) { learners(centreId: $c) { nodes { id } } }", "learners",
                                     c=ids["centre_a"])],
        "learners.list_enrolments": [
            q("query($l: UUID!) { enrolments(learnerId: $l) { nodes { id } } }", "enrolments", l=ids["learner"]),
            q("query($u: UUID!) { enrolments(unitId: $u) { nodes { id } } }", "enrolments", u=ids["B13"]),
            q("query($c: UUID!) { enrolments(centreId: $c) { nodes { id } } }", "enrolments", c=ids["centre_a"])],
        "assessment.list_audit": [q("query($s: String!) { auditEvents(subjectId: $s) { totalCount } }",
                                    "auditEvents", s=ids["learner"])],
        "sync.list_changes": [
            q("query($l: UUID!) { changes(learnerId: $l) { items { cursor } nextCursor } }", "changes",
              l=ids["learner"]),
            q("query($u: UUID!) { changes(unitId: $u) { items { cursor } nextCursor } }", "changes", u=ids["B13"]),
            q("query($c: UUID!) { changes(centreId: $c) { items { cursor } nextCursor } }", "changes",
              c=ids["centre_a"])],
        **{endpoint: [q(f"query($e: UUID!) {{ {field}(enrolmentId: $e) {{ nodes {{ id }} }} }}", field,
                        e=ids["enrolment"]),
                      q(f"query($l: UUID!) {{ {field}(learnerId: $l) {{ nodes {{ id }} }} }}", field,
                        l=ids["learner"]),
                      q(f"query($c: UUID!) {{ {field}(centreId: $c) {{ nodes {{ id }} }} }}", field,
                        c=ids["centre_a"])]
           for endpoint, field in (("assessment.list_all_decisions", "decisions"),
                                   ("assessment.list_all_evidence", "evidenceItems"))},
    }


# -- the records hidden from someone --------------------------------------------------------------------------------

def _ocr_draft_unit(client, auth) -> dict:
    """A unit of OCR that has only a draft: hidden from everyone but admins and OCR's authors."""
    document = yaml.safe_load((UNITS_DIR / "ocr-b13.yaml").read_text(encoding="utf-8"))
    document |= {"code": "B13D", "status": "draft"}
    unit_id = str(content_id("unit", "ocr", "B13D"))
    saved = client.put(f"/v1/units/{unit_id}/draft", json=document, headers=auth("author_ocr"))
    assert saved.status_code == 201, saved.get_json()
    outcome = client.get(f"/v1/units/{unit_id}?status=draft", headers=auth("admin")).get_json()["learning_outcomes"][0]
    return {"unit": unit_id, "outcome": outcome["id"], "criterion": outcome["criteria"][0]["id"]}


def _ocr_draft_framework(client, auth) -> str:
    """A CASE framework of OCR that has only a draft: hidden from everyone but admins and OCR's authors."""
    package = {"CFDocument": {"identifier": "7e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b", "title": "OCR draft framework",
                              "creator": "OCR"},
               "CFItems": [{"identifier": "8f2a3b4c-5d6e-4f7a-9b0c-1d2e3f4a5b6c", "fullStatement": "Drafted"}]}
    imported = client.post("/v1/imports/case?awarding_body=ocr", json=package, headers=auth("author_ocr"))
    assert imported.status_code == 200, imported.get_json()
    return imported.get_json()["framework"]["identifier"]


def _draft_version_of_b13(client, auth, ids) -> int:
    """A draft version 3 of B13 (published at versions 1 and 2): hidden from all but OCR's authors and admins."""
    document = yaml.safe_load((UNITS_DIR / "ocr-b13.yaml").read_text(encoding="utf-8"))
    document |= {"status": "draft", "purpose": document["purpose"] + " (B13 version 3, a draft)"}
    saved = client.put(f"/v1/units/{ids['B13']}/draft", json=document, headers=auth("admin"))
    assert saved.status_code == 201, saved.get_json()
    return int(saved.headers["Location"].split("/versions/")[1].split("?")[0])


def _draft_qualification(tmp_path) -> str:
    from api.models import Qualification
    from api.services.content.loader import load_path

    text = (PROJECT_ROOT / "tests" / "fixtures" / "qualification.yaml").read_text(encoding="utf-8")
    draft = text.replace("code: TEST/0001/1", "code: TEST/0002/1").replace("status: published", "status: draft")
    (tmp_path / "draft-qualification.yaml").write_text(draft.replace("owner: ocr\n", "owner: skills-cfa\n", 1),
                                                       encoding="utf-8")
    assert load_path(tmp_path).ok
    return str(Qualification.get(Qualification.code == "TEST/0002/1").id)


def _standard_in_development(client, auth) -> str:
    """A standard whose only version is in development: hidden from everyone but admins."""
    source = json.loads((PROJECT_ROOT / "tests" / "fixtures" / "apprenticeships" / "ST0072_1.1.json").read_text())
    source |= {"referenceNumber": "ST0999", "status": "In development"}
    assert client.post("/v1/imports/apprenticeship-standards", json=source, headers=auth("admin")).status_code == 200
    return "ST0999"


def _standard_case_ids(client, auth, ids: dict, number: str) -> dict:
    """The CASE identifiers of a version of the world's standard (ST0072): its CFDocument, its first item and its last
    association (a duty's mapping to a KSB), as an admin reads its package."""
    from api.services.apprenticeships.documents import version_id

    document = str(version_id(ids["apprenticeship_standard"], number))
    package = client.get(f"/ims/case/v1p1/CFPackages/{document}", headers=auth("admin")).get_json()
    return {"standard_case_document": document, "standard_case_item": package["CFItems"][0]["identifier"],
            "standard_case_association": package["CFAssociations"][-1]["identifier"]}


def _centre_b_records(app, client, auth, identities, ids) -> dict:
    """Centre B's learner, enrolment, evidence, decision, IQA sample, plan and import job."""
    from api.auth import issue_tokens
    from api.services import accounts

    centre_b, assessor_b = ids["centre_b"], str(identities.accounts["assessor_b"].id)
    iqa = accounts.create_account("iqa.b@example.test", TEST_PASSWORD, roles=["iqa"], centres=["B"])
    with app.test_request_context():
        token = issue_tokens(f"account:{iqa.id}", accounts.account_claims(iqa), with_refresh=False)["access_token"]
    as_iqa_b = {"Authorization": f"Bearer {token}"}
    learner = post(client, auth, "centre_admin_b", "/v1/learners", {
        "centre_id": centre_b, "uln": VALID_ULN, "given_name": "Grace", "family_name": "Hopper"})["id"]
    enrolment = post(client, auth, "centre_admin_b", "/v1/enrolments", {
        "learner_id": learner, "unit_id": ids["B13"], "start_date": "2026-09-01", "assessor_ids": [assessor_b],
        "iqa_ids": [str(iqa.id)]})["id"]
    criterion = criteria_of(client, ids["B13"])[0]
    evidence = post(client, auth, "centre_admin_b", f"/v1/enrolments/{enrolment}/evidence", {
        "type": "observation", "title": "t", "date": "2026-10-01", "authenticity_declared": True,
        "criterion_ids": [criterion]})["id"]
    decision = post(client, auth, "assessor_b", f"/v1/enrolments/{enrolment}/decisions", {
        "criterion_id": criterion, "outcome": "met", "feedback": "f", "evidence_ids": [evidence]})["id"]
    sample = post(client, lambda _: as_iqa_b, None, "/v1/iqa/samples", {"decision_id": decision})["id"]
    plan = post(client, auth, "centre_admin_b", "/v1/iqa/plans", {"centre_id": centre_b, "assessor_id": assessor_b,
                                                                  "rate": 1.0})["id"]
    job = client.post(f"/v1/imports/learners?centre_id={centre_b}", content_type="text/csv",
                      data=b"uln,given_name,family_name\n9999999999,Imported,Learner\n",
                      headers=auth("import_client_b"))
    assert job.status_code == 201, job.get_json()
    webhook = post(client, auth, "centre_admin_b", "/v1/webhooks/endpoints", {"url": "http://127.0.0.1:9/b"})["id"]
    apprenticeship = post(client, auth, "centre_admin_b", "/v1/apprenticeships", {
        "learner_id": learner, "reference_number": "ST0072", "start_date": "2026-01-05",
        "planned_end_date": "2027-01-04", "enrolment_ids": [enrolment]})["id"]
    activity = post(client, auth, "assessor_b", f"/v1/apprenticeships/{apprenticeship}/otj-activities", {
        "activity_date": "2026-02-02", "hours": 2, "kind": "teaching", "description": "Centre B workshop"})["id"]
    ksb_evidence = post(client, auth, "centre_admin_b", f"/v1/apprenticeships/{apprenticeship}/ksb-evidence", {
        "type": "observation", "title": "t", "date": "2026-02-03", "authenticity_declared": True,
        "ksb_codes": ["K2"]})["id"]
    ksb_decision = post(client, auth, "assessor_b", f"/v1/apprenticeships/{apprenticeship}/ksb-decisions", {
        "ksb_code": "K2", "outcome": "met", "feedback": "f", "evidence_ids": [ksb_evidence]})["id"]
    return {"learner": learner, "enrolment": enrolment, "evidence": evidence, "decision": decision, "sample": sample,
            "plan": plan, "import_job": job.get_json()["id"], "iqa": str(iqa.id), "webhook": webhook,
            "apprenticeship": apprenticeship, "otj_activity": activity, "ksb_evidence": ksb_evidence,
            "ksb_decision": ksb_decision}


def _draft_mapping(client, auth, ids) -> str:
    """A KSB mapping of draft CS 39's first criterion: hidden from all but Skills CFA's writers and admins."""
    draft = client.get(f"/v1/units/{ids['CS 39']}?status=draft", headers=auth("admin")).get_json()
    return post(client, auth, "author_skills_cfa", "/v1/ksb-mappings", {
        "unit_version_id": draft["version_id"], "criterion_id": ids["cs39_criterion"], "reference_number": "ST0072",
        "version": "1.1", "ksb_code": "K1"})["id"]


@pytest.fixture
def sweep(app, client, auth, identities, ids, tmp_path):
    """(ids, hidden): the matrix's ids plus the variants' own, and for each id name the records that exist and
    may be hidden from a caller, each with the read that tells whether the caller sees it (None: no caller
    may use it where the requests put it, so every caller must get the nonexistent answer)."""
    ocr = _ocr_draft_unit(client, auth)
    b = _centre_b_records(app, client, auth, identities, ids)
    version = _draft_version_of_b13(client, auth, ids)
    qualification = _draft_qualification(tmp_path)
    withheld = _standard_case_ids(client, auth, ids, ids["apprenticeship_version_in_development"])
    ids = {**ids, "iqa_a": str(identities.accounts["iqa_a"].id), "draft_version": 2,
           **_standard_case_ids(client, auth, ids, ids["apprenticeship_version"])}
    units = [(u, "/v1/units/{}?status=draft") for u in (ids["CS 39"], ocr["unit"])]
    criteria = [(c, "/v1/criteria/{}?status=draft") for c in (ids["cs39_criterion"], ocr["criterion"])]
    outcomes = [(o, "/v1/learning-outcomes/{}?status=draft") for o in (ids["cs39_outcome"], ocr["outcome"])]
    centres = [(c, "/v1/centres/{}") for c in (ids["centre_a"], ids["centre_b"])]

    def both(name, read):
        return [(ids[name], read), (b[name], read)]

    decisions = [(d, "/v1/decisions/{}") for d in (ids["decision"], ids["trainee_decision"], b["decision"])]
    hidden = {
        "B13": units, "CS 39": units, "CS 34": units, "b13_criterion": criteria, "cs39_criterion": criteria,
        "b13_outcome": outcomes, "cs39_outcome": outcomes, "centre_a": centres, "centre_b": centres,
        "learner": both("learner", "/v1/learners/{}"), "enrolment": both("enrolment", "/v1/enrolments/{}"),
        "evidence": both("evidence", "/v1/evidence/{}"), "decision": decisions, "trainee_decision": decisions,
        "sample": both("sample", "/v1/iqa/samples/{}"), "plan": both("plan", "/v1/iqa/plans/{}/candidates"),
        "import_job": both("import_job", "/v1/imports/learners/{}"),
        "qualification": [(qualification, "/v1/qualifications/{}?status=draft")],
        "assessor_a": [(str(identities.accounts["assessor_b"].id), None)], "iqa_a": [(b["iqa"], None)],
        "draft_version": [(version, f"/v1/units/{ids['B13']}/versions/{{}}?status=draft")],
        "spare_account": [(ids["spare_account"], "/v1/admin/accounts/{}")],
        "spare_client": [(ids["spare_client"], "/v1/admin/clients/{}")],
        "framework": [(_ocr_draft_framework(client, auth), "/v1/frameworks/{}")],
        "webhook": both("webhook", "/v1/webhooks/endpoints/{}"),
        "credential_learner": [(ids["credential_learner"], "/v1/learners/{}"), (b["learner"], "/v1/learners/{}")],
        "apprenticeship_standard": [(_standard_in_development(client, auth), "/v1/apprenticeship-standards/{}")],
        "cs34_version": [(client.get(f"/v1/units/{ocr['unit']}?status=draft", headers=auth("admin")).get_json()[
            "version_id"], f"/v1/units/{ocr['unit']}?status=draft")],
        "cs34_criterion": criteria, "ksb_mapping": [(_draft_mapping(client, auth, ids), "/v1/ksb-mappings/{}")],
        "apprenticeship": both("apprenticeship", "/v1/apprenticeships/{}"),
        "otj_activity": both("otj_activity", "/v1/otj-activities/{}"),
        "ksb_evidence": both("ksb_evidence", "/v1/ksb-evidence/{}"),
        "ksb_decision": [(d, "/v1/ksb-decisions/{}") for d in (ids["ksb_decision"], ids["ksb_trainee_decision"],
                                                               b["ksb_decision"])],
        "ksb_trainee_decision": [(d, "/v1/ksb-decisions/{}") for d in (ids["ksb_decision"],
                                                                       ids["ksb_trainee_decision"],
                                                                       b["ksb_decision"])],
        **dict.fromkeys(("apprenticeship_version", "apprenticeship_version_in_development"), [(
            ids["apprenticeship_version_in_development"],
            f"/v1/apprenticeship-standards/{ids['apprenticeship_standard']}/versions/{{}}")]),
        **{name: [(withheld[name], read)] for name, read in STANDARD_CASE_READS.items()},
    }
    return ids, hidden


# -- comparing answers ----------------------------------------------------------------------------------------------

def _masked(text: str, value) -> str:
    if isinstance(value, int):
        return re.sub(rf"(?<![\w-]){value}(?![\w-])", "<n>", text)
    return text.replace(str(value), "<id>")


def _all_requests(ids: dict) -> dict[str, list[Probe]]:
    requests = {endpoint: list(found) for endpoint, found in probes(ids).items()}
    for endpoint, extra in variant_probes(ids).items():
        requests.setdefault(endpoint, []).extend(extra)
    return requests


def _all_operations(ids: dict) -> dict[str, list[Operation]]:
    found = {endpoint: list(ops) for endpoint, ops in operations(ids).items()}
    for endpoint, extra in variant_operations(ids).items():
        found.setdefault(endpoint, []).extend(extra)
    return found


def _sent(request) -> tuple:
    """What a probe or operation sends (not what the matrix expects of it)."""
    if isinstance(request, Probe):
        return request.method, request.url, repr(request.body), request.raw, repr(request.headers)
    return request.query, repr(request.variables)


def _swaps(build, ids: dict, name: str, value) -> list[tuple[str, int, object]]:
    """(endpoint, index, request) for each request that carries ``ids[name]``, rebuilt with ``value`` in its place."""
    before, marked, after = build(ids), build({**ids, name: _nonexistent(name)}), build({**ids, name: value})
    return [(endpoint, index, after[endpoint][index]) for endpoint, requests in marked.items()
            for index, request in enumerate(requests)
            if _sent(request) != _sent(before[endpoint][index])
            and (endpoint not in NOTHING_HIDDEN or name in STANDARD_CASE_READS)]


def _in_path(probe: Probe, value) -> bool:
    return str(value) in probe.url.split("?")[0]


def _nonexistent(name: str):
    if name == "draft_version":
        return RANDOM_VERSION + uuid.uuid4().int % 1000
    if name == "apprenticeship_standard":
        return f"ST9{uuid.uuid4().int % 1000:03d}"  # a reference number no standard has, spelt as they are
    if name.startswith("apprenticeship_version"):
        return f"9.{uuid.uuid4().int % 1000}"  # a version no standard has, spelt as versions are
    return str(uuid.uuid4())


def _missing(ids: dict, name: str, value) -> tuple[dict, object]:
    """``ids`` with ``name`` swapped for a record that does not exist, in the same relation to the rest of the request
    as ``value``; and that missing value. A unit document names its unit (the id is made from owner and code), so
    where the hidden unit is the one the document names, the missing unit gets a document naming it too."""
    document = ids["cs39_document"]
    if value == str(content_id("unit", document["owner"], document["code"])):
        code = f"{document['code']} {uuid.uuid4().hex[:6]}"
        missing = str(content_id("unit", document["owner"], code))
        return {**ids, name: missing, "cs39_document": {**document, "code": code}}, missing
    missing = _nonexistent(name)
    return {**ids, name: missing}, missing


def _hidden_from(client, auth, caller, read: str | None, value) -> bool:
    return read is None or client.get(read.format(value), headers=auth(caller)).status_code >= 400


def _rest_answer(client, auth, caller, probe: Probe, value) -> tuple:
    response = client.open(probe.url, method=probe.method, headers={**auth(caller), **(probe.headers or {})},
                           json=probe.body if probe.raw is None else None, data=probe.raw)
    return response.status_code, response.mimetype, _masked(response.get_data(as_text=True), value)


def _graphql_answer(client, auth, caller, operation: Operation, value) -> tuple:
    problem = "__typename ... on Problem { message httpStatus } ... on ValidationError { fields { field messages } }"
    query = operation.query.replace("{ __typename }", "{ " + problem + " }")
    body = gql(client, query, operation.variables, auth(caller), expect_errors=True)
    return _masked(repr(body), value)


def _report(title: str, found: list) -> str:
    """One line per (endpoint, id name), with the first caller and both answers, shortened."""
    lines, seen = [title], set()
    for endpoint, name, caller, *answers in found:
        if (endpoint, name) not in seen:
            seen.add((endpoint, name))
            lines.append(f"{endpoint} [{name}] as {caller}: " + " | ".join(str(a)[:240] for a in answers))
    return "\n".join(lines)


def test_every_id_the_matrix_uses_has_hidden_records(sweep):
    ids, hidden = sweep
    assert set(ID_NAMES) - set(NOT_IDS) <= set(hidden), "give the new id hidden records in sweep()"


def test_every_route_with_an_id_is_swept(app, sweep):
    """Every URL rule with an id parameter has requests in which some id is swapped for a hidden one."""
    ids, hidden = sweep
    swept = {endpoint for name in hidden for endpoint, _, _ in _swaps(_all_requests, ids, name, "swapped")}
    with_ids = {rule.endpoint for rule in app.url_map.iter_rules() if set(rule.arguments) - NOT_ID_ARGUMENTS}
    assert with_ids - swept - set(NOTHING_HIDDEN) - {"content.get_standard"} == set()
    assert app_endpoints(app) >= swept


def test_every_graphql_field_with_an_id_is_swept(client, sweep):
    ids, hidden = sweep
    introspection = gql(client, "{ __schema { queryType { fields { name args { name type { name ofType { name "
                                "ofType { name ofType { name } } } } } } } mutationType { fields { name args { name "
                                "type { name ofType { name ofType { name ofType { name } } } } } } } } }")
    schema = introspection["data"]["__schema"]

    def takes_id(field) -> bool:
        return "UUID" in repr(field["args"]) or any("Input" in repr(a["type"]) for a in field["args"])

    fields = {f["name"] for kind in ("queryType", "mutationType") for f in schema[kind]["fields"] if takes_id(f)}
    swept = {op.query for name in hidden for _, _, op in _swaps(_all_operations, ids, name, "swapped")}
    unswept = {f for f in fields if not any(re.search(rf"\b{f}\(", text) for text in swept)}
    assert unswept == {"standard"}, "sweep the new GraphQL field in variant_operations()"  # standards are public


def _answer_pairs(client, auth, sweep, build, answer):
    """(endpoint, name, caller, hidden answer, missing answer, missing request, missing value) for every request
    ``build`` makes that carries an id, every record hidden from a caller, and every such caller. A missing id's
    answer is asked once per request and caller (masked, it does not depend on which random id it was)."""
    ids, hidden = sweep
    absent_answers: dict = {}
    for name, records in hidden.items():
        for value, read in records:
            callers = [c for c in CALLERS if _hidden_from(client, auth, c, read, value)]
            missing_ids, missing_value = _missing(ids, name, value)
            shaped = missing_ids["cs39_document"] is not ids["cs39_document"]
            missing_requests = build(missing_ids)
            for endpoint, index, request in _swaps(build, ids, name, value):
                missing = missing_requests[endpoint][index]
                for caller in callers:
                    key = (name, shaped, endpoint, index, caller)
                    if key not in absent_answers:
                        absent_answers[key] = answer(client, auth, caller, missing, missing_value)
                    yield (endpoint, name, caller, answer(client, auth, caller, request, value), absent_answers[key],
                           missing, missing_value)


def test_hidden_records_answer_as_missing_ones_over_rest(client, auth, sweep):
    leaks, refused_first = [], []
    for endpoint, name, caller, seen, absent, missing, missing_value in _answer_pairs(client, auth, sweep,
                                                                                    _all_requests, _rest_answer):
        if seen != absent:
            leaks.append((endpoint, name, caller, seen, absent))
        path_id = _in_path(missing, missing_value) and endpoint not in CREATES_AT_ID
        if caller and path_id and absent[0] == 403:
            refused_first.append((endpoint, name, caller, absent))
    assert not leaks and not refused_first, "\n".join([
        _report("a hidden record answered otherwise than a missing one:", leaks),
        _report("a missing id in the path was refused for the caller's role before it was looked up:", refused_first)])


def test_hidden_records_answer_as_missing_ones_over_graphql(client, auth, sweep):
    leaks = [(endpoint, name, caller, seen, absent)
             for endpoint, name, caller, seen, absent, _, _ in _answer_pairs(client, auth, sweep, _all_operations,
                                                                              _graphql_answer)
             if seen != absent]
    assert leaks == [], _report("a hidden record answered otherwise than a missing one", leaks)


def test_the_sweep_sees_a_leak(client, auth, sweep):
    """The comparison itself: a record the caller can see does answer otherwise than a missing one."""
    ids, _ = sweep
    probe = probes(ids)["learners.get_learner"][0]
    seen = _rest_answer(client, auth, "centre_admin_a", probe, ids["learner"])
    missing = str(uuid.uuid4())
    missing_probe = probes({**ids, "learner": missing})["learners.get_learner"][0]
    absent = _rest_answer(client, auth, "centre_admin_a", missing_probe, missing)
    assert seen[0] == 200 and absent[0] == 404
