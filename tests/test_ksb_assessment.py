"""KSBs assessed directly: evidence claimed for an apprenticeship's KSBs, and assessor decisions on a KSB under the
rules of decisions on unit criteria (append-only with a reason to supersede, countersignature of a trainee's, IQA
samples and verdicts by someone who had no hand in it). A decision in effect on a KSB decides its progress; without
one, the mapped criteria do. REST and GraphQL agree."""

import pytest

from tests.graphql_helpers import gql
from tests.test_apprenticeship_tracking import apprentice, cs34_version
from tests.tracking_helpers import bearer, make_learner, post

TEST_PASSWORD = "correct horse battery staple"


def evidence(client, auth, apprenticeship, codes, caller="lms_client_a", status=201, **extra):
    body = {"type": "observation", "title": "Observed at work", "date": "2026-02-03", "authenticity_declared": True,
            "ksb_codes": codes, **extra}
    return post(client, auth, caller, f"{apprenticeship['href']}/ksb-evidence", body, status=status)


def decide(client, auth, apprenticeship, code, outcome="met", caller="assessor_a", status=201, **extra):
    body = {"ksb_code": code, "outcome": outcome, "feedback": "seen at work", **extra}
    return post(client, auth, caller, f"{apprenticeship['href']}/ksb-decisions", body, status=status)


def ksbs(client, auth, apprenticeship) -> dict:
    progress = client.get(apprenticeship["progress"], headers=auth("centre_admin_a")).get_json()
    return {k["code"]: k for k in progress["ksbs"]}


def problem(response, status: int, detail: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json" and detail in response.get_json()["detail"]


def test_a_ksb_decided_directly_follows_the_assessment_rules_and_decides_its_progress(client, auth, identities, ids):
    apprenticeship, _ = apprentice(client, auth, identities, ids)
    work = evidence(client, auth, apprenticeship, ["K2", "S2", "K2"])
    assert work["ksb_codes"] == ["K2", "S2"]
    other = evidence(client, auth, apprenticeship, ["S3"])
    before = ksbs(client, auth, apprenticeship)
    assert (before["K2"]["status"], before["K2"]["basis"], before["K2"]["direct"]["claims"]) == (
        "not_started", None, 1)
    assert before["K3"]["status"] == "not_mapped" and before["K3"]["direct"] is None

    problem(client.post(f"{apprenticeship['href']}/ksb-decisions", headers=auth("iqa_a"), json={
        "ksb_code": "K2", "outcome": "met", "feedback": "f"}), 403, "assessors of its centre")
    problem(client.post(f"{apprenticeship['href']}/ksb-decisions", headers=auth("assessor_a"), json={
        "ksb_code": "K99", "outcome": "met", "feedback": "f"}), 422, "not a KSB")
    problem(client.post(f"{apprenticeship['href']}/ksb-decisions", headers=auth("assessor_a"), json={
        "ksb_code": "K2", "outcome": "met", "feedback": "f", "evidence_ids": [other["id"]]}), 422,
        "claimed for the KSB first")

    first = decide(client, auth, apprenticeship, "K2", evidence_ids=[work["id"]])
    assert (first["sequence"], first["in_effect"], first["evidence_ids"]) == (1, True, [work["id"]])
    assert ksbs(client, auth, apprenticeship)["K2"]["status"] == "complete"
    assert ksbs(client, auth, apprenticeship)["K2"]["basis"] == "direct"
    problem(client.post(f"{apprenticeship['href']}/ksb-decisions", headers=auth("assessor_a"), json={
        "ksb_code": "K2", "outcome": "met", "feedback": "f"}), 422, "say why")
    problem(client.post(f"{apprenticeship['href']}/ksb-decisions", headers=auth("assessor_a"), json={
        "ksb_code": "K2", "outcome": "met", "feedback": "f", "reason": "again", "expected_sequence": 0}), 409,
        "since you looked")

    trainee = decide(client, auth, apprenticeship, "S2", caller="trainee_assessor_a", evidence_ids=[work["id"]])
    assert not trainee["in_effect"]
    s2 = ksbs(client, auth, apprenticeship)["S2"]
    assert (s2["complete"], s2["direct"]["awaiting_countersignature"], s2["basis"]) == (False, True, None)
    problem(client.post(f"/v1/ksb-decisions/{trainee['id']}/countersign", headers=auth("trainee_assessor_a")), 403,
            "only a qualified assessor")
    problem(client.post(f"/v1/ksb-decisions/{first['id']}/countersign", headers=auth("assessor_a")), 403,
            "their own decision")
    signed = post(client, auth, "assessor_a", f"/v1/ksb-decisions/{trainee['id']}/countersign", None, status=200)
    assert signed["in_effect"] and signed["countersigned_by"] == str(identities.accounts["assessor_a"].id)
    assert ksbs(client, auth, apprenticeship)["S2"]["complete"]
    problem(client.post(f"/v1/ksb-decisions/{trainee['id']}/countersign", headers=auth("assessor_a")), 409,
            "already countersigned")

    problem(client.post(f"/v1/ksb-decisions/{first['id']}/iqa-sample", headers=auth("assessor_a")), 403, "IQA")
    problem(client.post(f"/v1/ksb-decisions/{first['id']}/iqa-verdict", json={"verdict": "confirmed"},
                        headers=auth("iqa_a")), 409, "not sampled")
    sampled = post(client, auth, "iqa_a", f"/v1/ksb-decisions/{first['id']}/iqa-sample", None, status=200)
    assert sampled["iqa"]["verdict"] is None and sampled["updated_at"] >= first["updated_at"]
    k2 = ksbs(client, auth, apprenticeship)["K2"]
    assert (k2["complete"], k2["direct"]["iqa_outstanding"]) == (False, True)
    problem(client.post(f"/v1/ksb-decisions/{first['id']}/iqa-sample", headers=auth("iqa_a")), 409, "already sampled")
    problem(client.post(f"/v1/ksb-decisions/{first['id']}/iqa-verdict", json={"verdict": "not_confirmed"},
                        headers=auth("iqa_a")), 422, "say what the assessor must do")
    verdict = post(client, auth, "iqa_a", f"/v1/ksb-decisions/{first['id']}/iqa-verdict",
                   {"verdict": "not_confirmed", "actions": "observe it again"}, status=200)
    assert (verdict["iqa"]["verdict"], verdict["iqa"]["actions"]) == ("not_confirmed", "observe it again")
    k2 = ksbs(client, auth, apprenticeship)["K2"]
    assert (k2["complete"], k2["status"], k2["direct"]["reopened"]) == (False, "in_progress", True)
    problem(client.post(f"/v1/ksb-decisions/{first['id']}/iqa-verdict", json={"verdict": "confirmed"},
                        headers=auth("iqa_a")), 409, "never changed")

    again = decide(client, auth, apprenticeship, "K2", reason="observed again", expected_sequence=1)
    assert (again["sequence"], again["supersedes"]) == (2, first["id"])
    assert ksbs(client, auth, apprenticeship)["K2"]["complete"]
    assert [d["id"] for d in client.get(f"{apprenticeship['href']}/ksb-decisions?ksb_code=K2",
                                        headers=auth("assessor_a")).get_json()["items"]] == [first["id"], again["id"]]
    assert client.get(f"/v1/ksb-decisions/{first['id']}", headers=auth("learner_a")).status_code == 404


def test_a_decision_on_the_ksb_itself_outweighs_its_mapped_criteria(client, auth, identities, ids):
    apprenticeship, enrolment = apprentice(client, auth, identities, ids)
    _, criteria = cs34_version(client, ids)
    post(client, auth, "assessor_a", f"/v1/enrolments/{enrolment}/decisions", {
        "criterion_id": criteria["1.1"], "outcome": "met", "feedback": "explained clearly"})  # mapped to K1
    k1 = ksbs(client, auth, apprenticeship)["K1"]
    assert (k1["complete"], k1["basis"]) == (True, "mapped")
    decide(client, auth, apprenticeship, "K1", outcome="not_yet_met")
    k1 = ksbs(client, auth, apprenticeship)["K1"]
    assert (k1["complete"], k1["basis"], k1["status"], k1["met"]) == (False, "direct", "in_progress", 1)


def test_an_assessor_assesses_neither_their_own_evidence_nor_their_own_learner_record(app, client, auth, identities,
                                                                                      ids):
    from api.services import accounts

    apprenticeship, _ = apprentice(client, auth, identities, ids)
    own = evidence(client, auth, apprenticeship, ["K2"], caller="assessor_a")
    problem(client.post(f"{apprenticeship['href']}/ksb-decisions", headers=auth("assessor_a"), json={
        "ksb_code": "K2", "outcome": "met", "feedback": "f", "evidence_ids": [own["id"]]}), 403,
        "evidence they submitted")
    elsewhere, _ = apprentice(client, auth, identities, ids)
    theirs = evidence(client, auth, elsewhere, ["K2"])
    problem(client.post(f"{apprenticeship['href']}/ksb-decisions", headers=auth("assessor_a"), json={
        "ksb_code": "K2", "outcome": "met", "feedback": "f", "evidence_ids": [theirs["id"]]}), 422,
        "KSB evidence of this apprenticeship")
    account = accounts.create_account("ksb.assessor.learner@example.test", TEST_PASSWORD, roles=["assessor"],
                                      centres=["A"], assessor_status="qualified",
                                      learner_id=apprenticeship["learner_id"])
    problem(client.post(f"{apprenticeship['href']}/ksb-decisions", headers=bearer(app, account), json={
        "ksb_code": "K2", "outcome": "met", "feedback": "f"}), 403, "their own learner record")
    problem(client.post(f"{apprenticeship['href']}/ksb-decisions", headers=auth("assessor_b"), json={
        "ksb_code": "K2", "outcome": "met", "feedback": "f"}), 404, "no apprenticeship")
    assert client.get(f"{apprenticeship['href']}/ksb-decisions", headers=auth("admin")).get_json()["items"] == []


def test_an_iqa_verifies_no_decision_they_countersigned(app, client, auth, identities, ids):
    from api.services import accounts

    apprenticeship, _ = apprentice(client, auth, identities, ids)
    both = accounts.create_account("assessor.iqa.ksb@example.test", TEST_PASSWORD, roles=["assessor", "iqa"],
                                   centres=["A"], assessor_status="qualified")
    trainee = decide(client, auth, apprenticeship, "B2", caller="trainee_assessor_a")
    qualified = decide(client, auth, apprenticeship, "B3")
    problem(client.post(f"/v1/ksb-decisions/{qualified['id']}/countersign", headers=bearer(app, both)), 409,
            "needs no countersignature")
    signed = client.post(f"/v1/ksb-decisions/{trainee['id']}/countersign", headers=bearer(app, both))
    assert signed.status_code == 200, signed.get_json()
    problem(client.post(f"/v1/ksb-decisions/{trainee['id']}/iqa-sample", headers=bearer(app, both)), 403,
            "countersigned")
    own = client.post(f"{apprenticeship['href']}/ksb-decisions", headers=bearer(app, both), json={
        "ksb_code": "B4", "outcome": "met", "feedback": "seen"})
    assert own.status_code == 201, own.get_json()
    problem(client.post(f"{own.get_json()['href']}/iqa-sample", headers=bearer(app, both)), 403, "they made")


@pytest.mark.parametrize("body, field", [
    ({"ksb_codes": ["K99"]}, "ksb_codes"), ({"ksb_codes": []}, "ksb_codes"), ({"ksb_codes": ["D1"]}, "ksb_codes"),
    ({"type": "telepathy"}, "type")])
def test_ksb_evidence_names_known_ksbs_and_types(client, auth, identities, ids, body, field):
    apprenticeship, _ = apprentice(client, auth, identities, ids)
    sent = {"type": "observation", "title": "t", "date": "2026-02-03", "authenticity_declared": True,
            "ksb_codes": ["K1"], **body}
    refused = client.post(f"{apprenticeship['href']}/ksb-evidence", json=sent, headers=auth("lms_client_a"))
    assert refused.status_code == 422 and any(name.startswith(field) for name in refused.get_json()["errors"])
    assert client.get(f"{apprenticeship['href']}/ksb-evidence", headers=auth("admin")).get_json()["items"] == []


KSB_GRAPH = """query($id: UUID!) { apprenticeship(id: $id) {
  ksbEvidence(ksbCode: "S4") { edges { node { id ksbCodes reference { uri } } } }
  ksbDecisions { id ksbCode sequence inEffect countersignedBy iqa { verdict } }
  progress { ksbs { code status basis direct { claims met decisionId awaitingCountersignature } } } } }"""
RECORD = """mutation($a: UUID!, $input: RecordKsbDecisionInput!) { recordKsbDecision(apprenticeshipId: $a,
  input: $input) { __typename ... on KsbDecision { id sequence inEffect } ... on Problem { httpStatus message } } }"""


def test_graphql_records_and_reads_what_rest_does(client, auth, identities, ids):
    apprenticeship, _ = apprentice(client, auth, identities, ids)
    submitted = gql(client, """mutation($a: UUID!) { submitKsbEvidence(apprenticeshipId: $a, input: {type: "report",
        title: "Report", date: "2026-02-10", authenticityDeclared: true, ksbCodes: ["S4", "B3"],
        referenceUri: "https://files.example.test/r.pdf"}) { __typename ... on KsbEvidence { id ksbCodes } } }""",
                    {"a": apprenticeship["id"]}, auth("lms_client_a"))
    made = submitted["data"]["submitKsbEvidence"]
    assert made["ksbCodes"] == ["S4", "B3"]
    recorded = gql(client, RECORD, {"a": apprenticeship["id"], "input": {
        "ksbCode": "S4", "outcome": "MET", "feedback": "a sound report", "evidenceIds": [made["id"]]}},
        auth("trainee_assessor_a"))["data"]["recordKsbDecision"]
    assert (recorded["__typename"], recorded["inEffect"]) == ("KsbDecision", False)
    refused = gql(client, RECORD, {"a": apprenticeship["id"], "input": {
        "ksbCode": "S4", "outcome": "MET", "feedback": "again"}}, auth("assessor_a"))["data"]["recordKsbDecision"]
    assert (refused["__typename"], refused["httpStatus"]) == ("ValidationError", 422)
    signed = gql(client, "mutation($id: UUID!) { countersignKsbDecision(id: $id) { ... on KsbDecision { inEffect } "
                         "} }", {"id": recorded["id"]}, auth("assessor_a"))["data"]["countersignKsbDecision"]
    assert signed["inEffect"]
    for mutation, extra in (("sampleKsbDecision", ""), ("recordKsbVerdict", ", input: {verdict: CONFIRMED}")):
        answer = gql(client, f"mutation($id: UUID!) {{ {mutation}(id: $id{extra}) {{ __typename }} }}",
                     {"id": recorded["id"]}, auth("iqa_a"))["data"][mutation]
        assert answer["__typename"] == "KsbDecision"

    graph = gql(client, KSB_GRAPH, {"id": apprenticeship["id"]}, auth("centre_admin_a"))["data"]["apprenticeship"]
    rest_evidence = client.get(f"{apprenticeship['href']}/ksb-evidence?ksb_code=S4",
                               headers=auth("centre_admin_a")).get_json()["items"]
    assert [(e["node"]["id"], e["node"]["ksbCodes"], e["node"]["reference"]["uri"]) for e in graph["ksbEvidence"][
        "edges"]] == [(e["id"], e["ksb_codes"], e["reference"]["uri"]) for e in rest_evidence]
    rest_decisions = client.get(f"{apprenticeship['href']}/ksb-decisions", headers=auth("centre_admin_a")).get_json()
    assert [(d["id"], d["ksbCode"], d["sequence"], d["inEffect"], d["countersignedBy"], d["iqa"]["verdict"])
            for d in graph["ksbDecisions"]] == [
        (d["id"], d["ksb_code"], d["sequence"], d["in_effect"], d["countersigned_by"], d["iqa"]["verdict"])
        for d in rest_decisions["items"]]
    rest_ksbs = ksbs(client, auth, apprenticeship)
    for ksb in graph["progress"]["ksbs"]:
        rest = rest_ksbs[ksb["code"]]
        direct = rest["direct"] and {"claims": rest["direct"]["claims"], "met": rest["direct"]["met"],
                                     "decisionId": rest["direct"]["decision_id"],
                                     "awaitingCountersignature": rest["direct"]["awaiting_countersignature"]}
        assert (ksb["status"], ksb["basis"], ksb["direct"]) == (rest["status"], rest["basis"], direct)
    assert rest_ksbs["S4"]["complete"] and rest_ksbs["B3"]["direct"]["claims"] == 1


def test_direct_assessment_is_in_the_feed_the_audit_log_and_the_learner_s_export(client, auth, identities, ids):
    apprenticeship, _ = apprentice(client, auth, identities, ids)
    work = evidence(client, auth, apprenticeship, ["B1"])
    decision = decide(client, auth, apprenticeship, "B1", evidence_ids=[work["id"]])
    post(client, auth, "iqa_a", f"/v1/ksb-decisions/{decision['id']}/iqa-sample", None, status=200)
    changes = client.get("/v1/changes?limit=500", headers=auth("admin")).get_json()["items"]
    assert [c["type"] for c in changes if c.get("subject_id") == decision["id"]] == [
        "ksb_decision.recorded", "ksb_decision.sampled"]
    audit = client.get(f"/v1/audit?subject_type=ksb_decision&subject_id={decision['id']}",
                       headers=auth("admin")).get_json()["items"]
    assert sorted(e["action"] for e in audit) == ["ksb_decision.recorded", "ksb_decision.sampled"]
    export = client.get(f"/v1/learners/{apprenticeship['learner_id']}/export",
                        headers=auth("centre_admin_a")).get_json()
    assert export["ksb_evidence"] == [work]
    assert [d["id"] for d in export["ksb_decisions"]] == [decision["id"]]


def test_evidence_is_not_taken_for_a_withdrawn_apprenticeship(client, auth, identities, ids):
    learner = make_learner(client, auth, identities)["id"]
    made = post(client, auth, "centre_admin_a", "/v1/apprenticeships", {
        "learner_id": learner, "reference_number": "ST0072", "start_date": "2026-01-05",
        "planned_end_date": "2027-01-04"})
    etag = client.get(made["href"], headers=auth("centre_admin_a")).headers["ETag"]
    assert client.patch(made["href"], json={"status": "withdrawn"},
                        headers={**auth("centre_admin_a"), "If-Match": etag}).status_code == 200
    problem(client.post(f"{made['href']}/ksb-evidence", headers=auth("lms_client_a"), json={
        "type": "observation", "title": "t", "date": "2026-02-03", "authenticity_declared": True,
        "ksb_codes": ["K1"]}), 409, "withdrawn")


def test_reads_cost_the_same_queries_however_much_is_assessed_directly(client, auth, identities, ids):
    from tests.test_query_counts import queries_for

    apprenticeship, _ = apprentice(client, auth, identities, ids)
    first = evidence(client, auth, apprenticeship, ["K2"])
    decide(client, auth, apprenticeship, "K2", evidence_ids=[first["id"]])
    admin = auth("admin")
    reads = [apprenticeship["progress"], f"{apprenticeship['href']}/ksb-evidence",
             f"{apprenticeship['href']}/ksb-decisions"]
    before = [queries_for(client, url, admin) for url in reads]
    for n in range(3, 9):
        work = evidence(client, auth, apprenticeship, [f"K{n}", f"S{n}"])
        made = decide(client, auth, apprenticeship, f"K{n}", caller="trainee_assessor_a", evidence_ids=[work["id"]])
        post(client, auth, "assessor_a", f"/v1/ksb-decisions/{made['id']}/countersign", None, status=200)
        post(client, auth, "iqa_a", f"/v1/ksb-decisions/{made['id']}/iqa-sample", None, status=200)
        post(client, auth, "iqa_a", f"/v1/ksb-decisions/{made['id']}/iqa-verdict", {"verdict": "confirmed"},
             status=200)
    assert [queries_for(client, url, admin) for url in reads] == before


def test_submitting_evidence_costs_the_same_queries_however_many_ksbs_it_is_claimed_for(client, auth, identities,
                                                                                      ids):
    from tests.query_counting import count_work

    apprenticeship, _ = apprentice(client, auth, identities, ids)

    def statements(codes):
        with count_work() as counter:
            evidence(client, auth, apprenticeship, codes)
        return counter.count

    assert statements(["K1"]) == statements([f"K{n}" for n in range(1, 11)])
