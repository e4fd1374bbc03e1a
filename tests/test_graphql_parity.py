"""REST and GraphQL return the same ids and values for the same principal.

The GraphQL selections are generated from the schema (every field without arguments, recursively), so a field added
to a GraphQL type is compared with REST automatically; a field REST does not have fails the comparison.
"""

import pytest
from graphql import GraphQLObjectType, get_named_type

from api.gql.schema import build_schema
from tests.graphql_helpers import assert_same_values, gql

SCHEMA = build_schema()._schema
# Fields that are GraphQL-only by design (batch-loaded relations and JSON views, and etag, REST's ETag header); each
# is tested on its own.
GRAPH_ONLY = {"versions", "document", "learner", "unitVersion", "progress", "evidence", "decisions", "iqaSamples",
              "assessment", "enrolments", "etag", "staff", "credentials"}


def selection(type_name: str, depth: int = 6) -> str:
    """Every argument-free field of ``type_name`` (objects expanded to ``depth``), minus GRAPH_ONLY fields."""
    graph_type = SCHEMA.type_map[type_name]
    parts = []
    for name, field in graph_type.fields.items():
        if field.args or name in GRAPH_ONLY:
            continue
        named = get_named_type(field.type)
        if isinstance(named, GraphQLObjectType):
            if depth > 1:
                parts.append(f"{name} {{ {selection(named.name, depth - 1)} }}")
        elif named.name != "JSON":
            parts.append(name)
    return " ".join(parts)


def own_fields(data: dict) -> dict:
    """A GraphQL object without its GRAPH_ONLY relations (compared separately)."""
    return {k: v for k, v in data.items() if k not in GRAPH_ONLY}


def rest(client, url, headers=None):
    response = client.get(url, headers=headers or {})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


@pytest.mark.parametrize("code", ["CS 34", "B13"])
def test_unit_tree_matches_the_rest_document(client, unit_ids, code):
    document = rest(client, f"/v1/units/{unit_ids[code]}")
    data = gql(client, f"query($id: UUID!) {{ unit(id: $id) {{ {selection('Unit')} }} }}",
               {"id": unit_ids[code]})["data"]["unit"]
    assert_same_values(document, data)
    assert [o["id"] for o in data["learningOutcomes"]] == [o["id"] for o in document["learning_outcomes"]]


def test_draft_unit_and_version_match_for_its_author(client, auth, unit_ids):
    author = auth("author_skills_cfa")
    document = rest(client, f"/v1/units/{unit_ids['CS 39']}/versions/1?status=draft", author)
    data = gql(client, f"query($id: UUID!) {{ unitVersion(unitId: $id, number: 1, status: DRAFT) "
                       f"{{ {selection('Unit')} }} }}", {"id": unit_ids["CS 39"]}, author)["data"]["unitVersion"]
    assert_same_values(document, data)
    versions = rest(client, f"/v1/units/{unit_ids['CS 39']}/versions?status=draft", author)["items"]
    data = gql(client, f"query($id: UUID!) {{ unit(id: $id, status: DRAFT) {{ versions(status: DRAFT) "
                       f"{{ {selection('UnitVersionSummary')} }} }} }}", {"id": unit_ids["CS 39"]}, author)
    assert_same_values(versions, data["data"]["unit"]["versions"])


@pytest.mark.parametrize("caller", [None, "author_skills_cfa", "admin"])
def test_unit_lists_match_page_by_page(client, auth, caller):
    """The same items, order, totals and cursors, walking every page of size 2."""
    rest_items, cursor = [], None
    while True:
        page = rest(client, "/v1/units?limit=2&status=draft" + (f"&cursor={cursor}" if cursor else ""), auth(caller))
        rest_items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    graph_items, after = [], None
    while True:
        data = gql(client, "query($after: String) { units(status: DRAFT, first: 2, after: $after) { totalCount "
                           "pageInfo { hasNextPage endCursor } nodes { id code title level creditValue glh status "
                           "version versionId publishedAt owner { id slug name } } } }", {"after": after},
                   auth(caller))["data"]["units"]
        assert data["totalCount"] == page["total"]
        graph_items += data["nodes"]
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
    assert_same_values(rest_items, graph_items)
    assert (len(graph_items) > 0) is (caller is not None)  # drafts are visible to their body only


def test_outcome_criterion_standard_and_evidence_types_match(client, unit_ids):
    document = rest(client, f"/v1/units/{unit_ids['B13']}")
    outcome_id = document["learning_outcomes"][1]["id"]
    criterion_id = document["learning_outcomes"][1]["criteria"][0]["id"]
    data = gql(client, f"query($o: UUID!, $c: UUID!) {{ learningOutcome(id: $o) {{ {selection('LearningOutcome')} }}"
                       f" criterion(id: $c) {{ {selection('AssessmentCriterion')} }} }}",
               {"o": outcome_id, "c": criterion_id})["data"]
    assert_same_values(rest(client, f"/v1/learning-outcomes/{outcome_id}"), data["learningOutcome"])
    assert_same_values(rest(client, f"/v1/criteria/{criterion_id}"), data["criterion"])

    standards = rest(client, "/v1/standards")
    data = gql(client, f"{{ standards {{ totalCount nodes {{ id slug urn title href }} }} "
                       f"evidenceTypes(first: 100) {{ totalCount nodes {{ {selection('EvidenceType')} }} }} }}")["data"]
    assert_same_values(standards["items"], data["standards"]["nodes"])
    assert_same_values(rest(client, "/v1/evidence-types")["items"], data["evidenceTypes"]["nodes"])
    standard_id = standards["items"][0]["id"]
    data = gql(client, f"query($id: UUID!) {{ standard(id: $id) {{ {selection('Standard')} }} }}", {"id": standard_id})
    assert_same_values(rest(client, f"/v1/standards/{standard_id}"), data["data"]["standard"])


def test_qualification_matches(client):
    from api.services.content.loader import load_path
    from tests.conftest import PROJECT_ROOT

    assert load_path(PROJECT_ROOT / "tests" / "fixtures" / "qualification.yaml").ok
    listed = rest(client, "/v1/qualifications")["items"]
    data = gql(client, "{ qualifications { nodes { id code title level status owner { id slug name } } } }")
    assert_same_values(listed, data["data"]["qualifications"]["nodes"])
    one = rest(client, f"/v1/qualifications/{listed[0]['id']}")
    data = gql(client, f"query($id: UUID!) {{ qualification(id: $id) {{ {selection('Qualification')} }} }}",
               {"id": listed[0]["id"]})
    assert_same_values(one, data["data"]["qualification"])


# -- tracking ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("caller", ["admin", "centre_admin_a", "assessor_a", "lms_client_a", "centre_admin_b"])
def test_learners_enrolments_decisions_and_progress_match(client, auth, ids, caller):
    headers = auth(caller)
    learners = rest(client, "/v1/learners", headers)
    enrolments = rest(client, "/v1/enrolments", headers)
    data = gql(client, f"{{ learners(first: 100) {{ totalCount nodes {{ {selection('Learner')} }} }} "
                       f"enrolments(first: 100) {{ totalCount nodes {{ {selection('Enrolment')} }} }} }}",
               headers=headers)["data"]
    assert data["learners"]["totalCount"] == learners["total"]
    assert_same_values(learners["items"], data["learners"]["nodes"])
    assert data["enrolments"]["totalCount"] == enrolments["total"]
    assert_same_values(enrolments["items"], data["enrolments"]["nodes"])
    visible = caller != "centre_admin_b"
    assert (ids["learner"] in [n["id"] for n in data["learners"]["nodes"]]) is visible

    enrolment, learner = ids["enrolment"], ids["learner"]
    data = gql(client, f"""query($e: UUID!, $l: UUID!, $d: UUID!, $s: UUID!, $v: UUID!, $c: UUID!) {{
        enrolment(id: $e) {{ {selection('Enrolment')} decisions {{ {selection('Decision')} }}
                             evidence {{ {selection('Evidence')} }} progress {{ {selection('EnrolmentProgress')} }}
                             iqaSamples {{ {selection('IqaSample')} }} }}
        learner(id: $l) {{ {selection('Learner')} progress {{ {selection('LearnerProgress')} }} }}
        decision(id: $d) {{ {selection('Decision')} }}
        iqaSample(id: $s) {{ {selection('IqaSample')} }}
        evidence(id: $v) {{ {selection('Evidence')} }}
        centre(id: $c) {{ {selection('Centre')} progress {{ {selection('CentreProgress')} }} }} }}""",
               {"e": enrolment, "l": learner, "d": ids["decision"], "s": ids["sample"], "v": ids["evidence"],
                "c": ids["centre_a"]}, headers)["data"]
    if not visible:
        assert data == dict.fromkeys(("enrolment", "learner", "decision", "iqaSample", "evidence", "centre"))
        return
    assert_same_values(rest(client, f"/v1/enrolments/{enrolment}", headers), own_fields(data["enrolment"]))
    assert_same_values(rest(client, f"/v1/enrolments/{enrolment}/decisions", headers)["items"],
                       data["enrolment"]["decisions"])
    assert_same_values(rest(client, f"/v1/enrolments/{enrolment}/evidence", headers)["items"],
                       data["enrolment"]["evidence"])
    assert_same_values(rest(client, f"/v1/enrolments/{enrolment}/progress", headers), data["enrolment"]["progress"])
    assert_same_values(rest(client, f"/v1/learners/{learner}", headers), own_fields(data["learner"]))
    assert_same_values(rest(client, f"/v1/learners/{learner}/progress", headers), data["learner"]["progress"])
    assert_same_values(rest(client, f"/v1/decisions/{ids['decision']}", headers), data["decision"])
    assert_same_values(rest(client, f"/v1/iqa/samples/{ids['sample']}", headers), data["iqaSample"])
    assert_same_values([rest(client, f"/v1/iqa/samples/{ids['sample']}", headers)], data["enrolment"]["iqaSamples"])
    assert_same_values(rest(client, f"/v1/evidence/{ids['evidence']}", headers), data["evidence"])
    assert_same_values(rest(client, f"/v1/centres/{ids['centre_a']}", headers), own_fields(data["centre"]))
    assert_same_values(rest(client, f"/v1/centres/{ids['centre_a']}/progress", headers), data["centre"]["progress"])


def test_qualification_progress_and_audit_match(client, auth, ids):
    headers = auth("centre_admin_a")
    url = f"/v1/learners/{ids['learner']}/qualifications/{ids['qualification']}/progress"
    data = gql(client, f"query($l: UUID!, $q: UUID!, $c: UUID!) {{ qualificationProgress(learnerId: $l, "
                       f"qualificationId: $q) {{ {selection('QualificationProgress')} }} auditEvents(centreId: $c, "
                       f"first: 100) {{ totalCount nodes {{ {selection('AuditEvent')} before after }} }} }}",
               {"l": ids["learner"], "q": ids["qualification"], "c": ids["centre_a"]}, headers)["data"]
    assert_same_values(rest(client, url, headers), data["qualificationProgress"])
    audit = rest(client, f"/v1/audit?centre_id={ids['centre_a']}&limit=100", headers)
    assert data["auditEvents"]["totalCount"] == audit["total"] > 0
    assert_same_values(audit["items"], data["auditEvents"]["nodes"])


def test_assessment_tree_puts_progress_and_decisions_beside_each_criterion(client, auth, ids):
    headers = auth("assessor_a")
    data = gql(client, """query($e: UUID!) { enrolment(id: $e) { unitVersion { code learningOutcomes { id } }
        assessment { outcome { id number } progress { outcomeId met }
                     criteria { criterion { id number text } progress { criterionId met claimed }
                                decisions { id criterionId outcome inEffect } } } } }""",
               {"e": ids["enrolment"]}, headers)["data"]["enrolment"]
    progress = rest(client, f"/v1/enrolments/{ids['enrolment']}/progress", headers)
    decisions = rest(client, f"/v1/enrolments/{ids['enrolment']}/decisions", headers)["items"]
    outcome_ids = [o["id"] for o in data["unitVersion"]["learningOutcomes"]]
    assert [o["outcome"]["id"] for o in data["assessment"]] == outcome_ids
    rows = [c for o in data["assessment"] for c in o["criteria"]]
    assert [r["criterion"]["id"] for r in rows] == [c["criterion_id"] for o in progress["learning_outcomes"]
                                                      for c in o["criteria"]]
    for row in rows:
        assert row["progress"]["criterionId"] == row["criterion"]["id"]
        assert [d["id"] for d in row["decisions"]] == [d["id"] for d in decisions
                                                         if d["criterion_id"] == row["criterion"]["id"]]
    decided = next(r for r in rows if r["criterion"]["id"] == ids["b13_criterion"])
    assert len(decided["decisions"]) == 2 and decided["progress"]["met"] is True


@pytest.mark.parametrize("caller", ["admin", "centre_admin_a", "lms_client_a", None])
def test_the_feed_matches_page_by_page_and_filtered(client, auth, ids, caller):
    headers = auth(caller)
    query = f"query($s: String, $t: String, $l: UUID) {{ changes(since: $s, type: $t, learnerId: $l, limit: 7) " \
            f"{{ items {{ {selection('FeedEvent')} }} nextCursor }} }}"
    for filters in ({}, {"type": "decision.*,learner.created", "learner_id": ids["learner"]}):
        since, pages = None, 0
        while pages < 4:
            params = {**filters, "limit": 7, **({"since": since} if since else {})}
            page = rest(client, "/v1/changes?" + "&".join(f"{k}={v}" for k, v in params.items()), headers)
            data = gql(client, query, {"s": since, "t": filters.get("type"), "l": filters.get("learner_id")},
                       headers)["data"]["changes"]
            assert_same_values(page["items"], data["items"])
            assert page["next_cursor"] == data["nextCursor"]
            since, pages = page["next_cursor"], pages + 1
            if not page["items"]:
                break


def test_webhook_endpoints_and_their_log_match(client, auth, ids):
    headers = auth("centre_admin_a")
    endpoint = ids["webhook"]
    data = gql(client, f"query($id: UUID!) {{ webhookEndpoints {{ {selection('WebhookEndpoint')} }} "
                       f"webhookEndpoint(id: $id) {{ {selection('WebhookEndpoint')} attempts {{ totalCount nodes "
                       f"{{ {selection('WebhookAttempt')} }} }} }} webhookSecret(id: $id) {{ secret "
                       f"previousSecretExpiresAt }} }}", {"id": endpoint}, headers)["data"]
    assert_same_values(rest(client, "/v1/webhooks/endpoints", headers)["items"], data["webhookEndpoints"])
    one = rest(client, f"/v1/webhooks/endpoints/{endpoint}", headers)
    assert_same_values(one, {k: v for k, v in data["webhookEndpoint"].items() if k != "attempts"})
    attempts = rest(client, f"/v1/webhooks/endpoints/{endpoint}/attempts", headers)
    assert data["webhookEndpoint"]["attempts"]["totalCount"] == attempts["total"]
    assert_same_values(attempts["items"], data["webhookEndpoint"]["attempts"]["nodes"])
    assert_same_values(rest(client, f"/v1/webhooks/endpoints/{endpoint}/secret", headers), data["webhookSecret"])


def test_an_enrolment_s_staff_matches(client, auth, ids):
    headers = auth("centre_admin_a")
    data = gql(client, "query($e: UUID!) { enrolment(id: $e) { staff { accountId role } } }",
               {"e": ids["enrolment"]}, headers)["data"]["enrolment"]["staff"]
    items = rest(client, f"/v1/enrolments/{ids['enrolment']}/staff", headers)["items"]
    assert len(items) == 3  # two assessors and an IQA
    assert_same_values([{k: v for k, v in s.items() if k != "href"} for s in items], data)


def test_a_learner_s_credentials_match(client, auth, ids):
    headers = auth("assessor_a")
    data = gql(client, f"query($l: UUID!) {{ learner(id: $l) {{ credentials {{ {selection('Credential')} "
                       "credential } } }", {"l": ids["credential_learner"]}, headers)["data"]["learner"]["credentials"]
    items = rest(client, f"/v1/learners/{ids['credential_learner']}/credentials", headers)["items"]
    assert [c["id"] for c in items] == [ids["credential"]]
    assert_same_values([{k: v for k, v in c.items() if k != "credential"} for c in items],
                       [{k: v for k, v in c.items() if k != "credential"} for c in data])
    # the signed credential is JSON as it is (no key renamed), the same as REST serves it
    assert data[0]["credential"] == items[0]["credential"] == rest(client, f"/v1/credentials/{ids['credential']}")
