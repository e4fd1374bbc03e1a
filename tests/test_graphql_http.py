"""/graphql over HTTP: request errors as problem+json, limits refused before any work, masking, GraphiQL and
introspection by configuration, the checked-in SDL."""

import pytest

from api import create_app
from api.config import PROJECT_ROOT, Settings
from tests.graphql_helpers import gql
from tests.query_counting import count_work

PROBLEM = "application/problem+json"
SDL_FILE = PROJECT_ROOT / "schema" / "qualtrack.graphql"


@pytest.mark.parametrize(("send", "status", "detail"), [
    (dict(data="{", content_type="application/json"), 400, "not valid JSON"),
    (dict(json=[{"query": "{ units { totalCount } }"}]), 400, "batches are not supported"),
    (dict(json={"variables": {}}), 400, "no GraphQL query"),
    (dict(json={"query": "{ units { totalCount } }", "variables": [1]}), 400, "variables must be a JSON object"),
    (dict(json={"query": "{ units { totalCount } }", "operationName": 3}), 400, "operationName must be a string"),
    (dict(data="query=x", content_type="application/x-www-form-urlencoded"), 415, "application/json"),
    (dict(json={"query": "x" * 100_001}), 400, "longer than"),
])
def test_malformed_requests_are_problems(client, send, status, detail):
    response = client.post("/graphql", **send)
    assert response.status_code == status and response.mimetype == "application/problem+json"
    assert detail in response.get_json()["detail"]


def test_get_serves_queries_but_not_mutations(client):
    ok = client.get("/graphql", query_string={"query": "{ units { totalCount } }"})
    assert ok.status_code == 200 and ok.get_json()["data"]["units"]["totalCount"] == 2
    refused = client.get("/graphql", query_string={"query": 'mutation { countersignDecision(decisionId: '
                                                            '"00000000-0000-4000-8000-000000000000") { __typename } }'})
    assert (refused.status_code, refused.headers["Allow"]) == (405, "POST") and refused.mimetype == PROBLEM
    assert "send it with POST" in refused.get_json()["detail"]  # GraphQL over HTTP: 405 Method Not Allowed
    assert client.get("/graphql", query_string={"query": "{ x }", "variables": "{"}).status_code == 400


def test_an_invalid_token_is_401_before_any_work(client):
    response = client.post("/graphql", json={"query": "{ units { totalCount } }"},
                           headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401 and response.mimetype == "application/problem+json"


def test_bad_queries_are_errors_with_messages(client):
    body = gql(client, "{ units { nope } }", expect_errors=True)
    assert body["data"] is None and "Cannot query field 'nope'" in body["errors"][0]["message"]
    body = gql(client, "{ units(first: 0) { totalCount } }", expect_errors=True)
    assert body["errors"][0]["extensions"] == {"code": "INVALID_PARAMETER", "status": 400,
                                               "fields": {"first": ["between 1 and 100"]}}
    body = gql(client, '{ units(after: "garbage") { totalCount } }', expect_errors=True)
    assert body["errors"][0]["extensions"]["code"] == "INVALID_PARAMETER"
    body = gql(client, '{ learners(uln: "12ab") { totalCount } }', expect_errors=True)
    assert body["errors"][0]["extensions"]["code"] == "INVALID_PARAMETER"  # as in REST: arguments first, then token


def test_unexpected_errors_are_masked(client, monkeypatch, caplog):
    from api.services.content import catalog

    def broken(*_args):
        raise RuntimeError("SELECT secret FROM somewhere")

    monkeypatch.setattr(catalog, "list_evidence_types", broken)
    body = gql(client, "{ evidenceTypes { totalCount } }", expect_errors=True)
    assert body["errors"][0]["extensions"].pop("requestId")  # the id it was logged under (tests/test_faults_errors)
    assert body["errors"] == [{"message": "Unexpected error: it has been logged with this request's X-Request-ID.",
                               "path": ["evidenceTypes"], "extensions": {"code": "INTERNAL_SERVER_ERROR",
                                                                         "status": 500}}]
    assert "SELECT secret" in caplog.text  # logged for the operator, not shown to the caller


# -- limits ----------------------------------------------------------------------------------------------------------

def too_deep() -> str:
    """Depth 15 (the limit is 12), with page sizes of 1 so that it is not too costly as well."""
    return "{ enrolments(first: 1) { nodes { " + "learner { enrolments(first: 1) { nodes { " * 4 + "id" + " }" * 15


@pytest.mark.parametrize(("query", "message"), [
    (too_deep(), "exceeds maximum operation depth"),
    ("{ " + " ".join(f"a{i}: units {{ totalCount }}" for i in range(31)) + " }", "aliases"),
    ("{ learners(first: 100) { nodes { enrolments(first: 100) { nodes { decisions { id feedback } evidence "
     "{ id } } } } } }", "too costly"),
    ("{ units { totalCount " + "__typename " * 5000 + "} }", "more than 5000 tokens"),
])
def test_limits_refuse_before_any_work(client, auth, query, message):
    headers = auth("admin")  # minted outside the count
    with count_work() as counter:
        body = gql(client, query, headers=headers, expect_errors=True)
    assert body["data"] is None and any(message in e["message"] for e in body["errors"]), body["errors"]
    assert counter.count == 0 and counter.revocation_checks <= 1  # at most the token's revocation check


def test_page_size_is_capped_for_variables_too(client):
    body = gql(client, "query($n: Int) { units(first: $n) { totalCount } }", {"n": 101}, expect_errors=True)
    assert body["errors"][0]["message"] == "first must be between 1 and 100"


def app_with(database, database_url, **settings):
    return create_app(Settings(**{"database_url": database_url, "env": "test", **settings}), database=database)


def test_limits_and_introspection_follow_configuration(database, database_url):
    strict = app_with(database, database_url, graphql_introspection=False, graphql_max_depth=2).test_client()
    body = gql(strict, "{ __schema { types { name } } }", expect_errors=True)
    assert "introspection has been disabled" in body["errors"][0]["message"]
    assert "depth" in gql(strict, "{ units { nodes { owner { slug } } } }", expect_errors=True)["errors"][0]["message"]
    assert gql(strict, "{ units { totalCount } }")["data"]["units"]["totalCount"] == 2


def test_graphiql_in_development_only(database, database_url, client):
    page = app_with(database, database_url, env="development").test_client().get(
        "/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.get_data(as_text=True).lower()
    refused = client.get("/graphql", headers={"Accept": "text/html"})
    assert refused.status_code == 400 and refused.mimetype == "application/problem+json"


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_a_link_to_a_query_opens_graphiql_with_it_in_a_browser_and_answers_json_elsewhere(database, database_url,
                                                                                          client):
    from urllib.parse import quote

    development = app_with(database, database_url, env="development").test_client()
    query, variables = '{ units(first: 1) { totalCount } } # "quoted" <b>', '{"n": 1}'
    link = f"/graphql?query={quote(query)}&variables={quote(variables)}"
    page = development.get(link, headers={"Accept": BROWSER_ACCEPT})
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert 'data-prefill="{ units(first: 1) { totalCount } } # &#34;quoted&#34; &lt;b&gt;"' in html
    assert 'data-variables="{&#34;n&#34;: 1}"' in html
    plain = f"/graphql?query={quote('{ units(first: 1) { totalCount } }')}"
    for caller in (development, client):  # curl's */*, and a browser where GraphiQL is not served
        for accept in ("*/*", BROWSER_ACCEPT) if caller is client else ("*/*",):
            answer = caller.get(plain, headers={"Accept": accept})
            assert answer.mimetype == "application/json", (accept, answer.get_data(as_text=True))
            assert answer.get_json()["data"]["units"]["totalCount"] >= 1
    garbage = development.get("/graphql?query=%7B%20units%20%7B%20totalCount%20%7D%20%7D&colour=red",
                              headers={"Accept": BROWSER_ACCEPT})
    assert garbage.status_code == 400 and "colour" in garbage.get_json()["detail"]


def test_the_checked_in_sdl_is_the_live_schema():
    from api.gql.schema import schema_sdl

    assert SDL_FILE.read_text(encoding="utf-8") == schema_sdl(), (
        "the GraphQL schema changed: run `qualtrack export-schema` and review the diff of schema/qualtrack.graphql")


def test_each_answer_reports_its_cost_requested_and_actual(client):
    """extensions.cost: the estimate the limit is checked against, the limit, and the fields the answer holds."""
    body = client.post("/graphql", json={"query": "{ units(first: 2) { nodes { code } } }"}).get_json()
    codes = body["data"]["units"]["nodes"]
    cost = body["extensions"]["cost"]
    assert cost["actual"] == 2 + len(codes)  # units, nodes, and a code per unit
    assert cost["actual"] <= cost["requested"] <= cost["maximum"] == Settings().graphql_max_cost
    costly = ("{ learners(first: 100) { nodes { enrolments(first: 100) { nodes { decisions { id feedback } evidence "
              "{ id } } } } } }")
    refused = client.post("/graphql", json={"query": costly}).get_json()
    assert refused["errors"][0]["extensions"]["code"] == "TOO_COSTLY" and refused["data"] is None
    assert refused["extensions"]["cost"]["requested"] > refused["extensions"]["cost"]["maximum"]
    assert "actual" not in refused["extensions"]["cost"]


def test_an_estimate_beyond_what_json_numbers_hold_is_reported_at_the_ceiling(client):
    """Pages of 2**31 - 1 items nested four deep estimate about 2**124: the answer is a 200 refusal that reports
    2**53 - 1, the largest integer a JavaScript client reads exactly (it was a 500: no JSON encoder took the number)."""
    page = 2**31 - 1
    inner = "id"
    for _ in range(3):
        inner = f"enrolments(first: {page}) {{ nodes {{ learner {{ {inner} }} }} }}"
    huge = f"{{ learners(first: {page}) {{ nodes {{ {inner} }} }} }}"
    response = client.post("/graphql", json={"query": huge})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["errors"][0]["extensions"]["code"] == "TOO_COSTLY"
    assert body["extensions"]["cost"]["requested"] == 2**53 - 1


@pytest.mark.parametrize(("query", "variables", "code"), [
    ("{ units { nodes { noSuchField } } }", {}, "GRAPHQL_VALIDATION_FAILED"),
    ("{ units { nodes { code }", {}, "GRAPHQL_PARSE_FAILED"),
    ("query($n: Int!) { units(first: $n) { totalCount } }", {"n": "many"}, "GRAPHQL_VALIDATION_FAILED"),
    ("query($n: Int!) { units(first: $n) { totalCount } }", {}, "GRAPHQL_VALIDATION_FAILED"),
])
def test_every_error_has_a_code_and_a_status(client, query, variables, code):
    body = client.post("/graphql", json={"query": query, "variables": variables}).get_json()
    assert body["errors"] and body["data"] is None
    for error in body["errors"]:
        assert error["extensions"]["code"] == code and error["extensions"]["status"] == 400, error


def test_a_mutation_s_estimate_counts_the_fields_of_its_result_union(client, auth, ids):
    """A result union has no fields of its own: the estimate counts those of each member selected (it was 1)."""
    query = ('mutation($e: UUID!) { submitEvidence(enrolmentId: $e, input: {type: "observation", title: "t", '
             'date: "2026-10-01", authenticityDeclared: true}) { __typename ... on Evidence { id type title '
             "claims { criterionId } } ... on Problem { message httpStatus } } }")
    body = client.post("/graphql", json={"query": query, "variables": {"e": ids["enrolment"]}},
                       headers=auth("lms_client_a")).get_json()
    assert body["data"]["submitEvidence"]["__typename"] == "Evidence", body
    cost = body["extensions"]["cost"]
    assert cost["actual"] <= cost["requested"], cost


def test_head_is_read_as_get_and_a_mutation_in_it_writes_nothing(client, auth, ids):
    """Every GET route also answers HEAD; a HEAD with a JSON body must not be read as a POST."""
    from api.models import Learner

    mutation = {"query": f'mutation {{ withdrawLearner(id: "{ids["learner"]}") {{ __typename }} }}'}
    in_body = client.open("/graphql", method="HEAD", json=mutation, headers=auth("centre_admin_a"))
    assert in_body.status_code == 400  # a HEAD, like a GET, has its parameters in the URL: here, none (it ran before)
    in_url = client.open("/graphql", method="HEAD", query_string=mutation, headers=auth("centre_admin_a"))
    assert (in_url.status_code, in_url.headers["Allow"]) == (405, "POST")
    assert Learner.get_by_id(ids["learner"]).status == "active"


def test_nested_fields_read_after_a_mutation_are_fresh(client, auth, identities, unit_ids):
    """A learner read before an update (its etag, loaded by the first mutation) is read again after it."""
    from tests.tracking_helpers import make_learner

    learner = make_learner(client, auth, identities)
    enrol = ('enrolLearner(input: {{learnerId: $l, unitId: "{unit}", startDate: "2026-09-01"}}) '
             "{{ ... on Enrolment {{ learner {{ etag familyName }} }} }}")
    query = (f"mutation($l: UUID!) {{ a: {enrol.format(unit=unit_ids['B13'])} "
             'b: updateLearner(id: $l, etag: "*", input: {familyName: "Byron"}) { ... on Learner { etag } } '
             f"c: {enrol.format(unit=unit_ids['CS 34'])} }}")
    data = client.post("/graphql", json={"query": query, "variables": {"l": learner["id"]}},
                       headers=auth("centre_admin_a")).get_json()["data"]
    assert data["c"]["learner"] == {"etag": data["b"]["etag"], "familyName": "Byron"} != data["a"]["learner"]
