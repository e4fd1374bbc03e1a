"""Nested GraphQL queries run a constant number of SQL queries, whatever the size of the tree or the page."""


from tests.graphql_helpers import gql
from tests.query_counting import count_work
from tests.tracking_helpers import criteria_of, enrol, make_learner, post, valid_uln

UNIT_TREE = """query($id: UUID!, $status: ContentStatus!) { unit(id: $id, status: $status) { code title owner { slug }
    learningOutcomes { number title evidenceTypes { code } knowledgeUnderstanding { text items }
        criteria { id number text range { heading items } minimum { count } } }
    mappings { standard { slug } strength } guidance { slug } versions { number } } }"""

ENROLMENT_TREE = """{ id learner { id uln externalIds { system id } }
    unitVersion { code learningOutcomes { number criteria { number text } } }
    progress { met percentMet learningOutcomes { complete criteria { met } } }
    assessment { outcome { number } progress { met } criteria { criterion { number text } progress { met claimed }
                 decisions { id outcome inEffect } } }
    evidence { id claims { criterionId } } decisions { id } iqaSamples { id verdict { verdict } } }"""


def queries(client, query, variables=None, headers=None) -> int:
    """The statements an operation runs, besides its token's revocation check (of which there is at most one)."""
    with count_work() as counter:
        gql(client, query, variables, headers)
    assert counter.revocation_checks <= 1
    return counter.count


def test_unit_tree_is_one_query_whatever_its_size(client, auth, unit_ids):
    for code in ("CS 34", "B13"):  # 28 and 27 criteria with range, knowledge, mappings, guidance
        assert queries(client, UNIT_TREE, {"id": unit_ids[code], "status": "PUBLISHED"}) == 2  # tree + versions
    author = auth("author_skills_cfa")
    empty = queries(client, UNIT_TREE, {"id": unit_ids["CS 47"], "status": "DRAFT"}, author)  # no criteria
    large = queries(client, UNIT_TREE, {"id": unit_ids["CS 40"], "status": "DRAFT"}, author)  # 25 criteria
    assert empty == large == 2


def test_unit_list_with_trees_is_constant_in_the_page_size(client, auth):
    query = ("query($n: Int!) { units(status: DRAFT, first: $n) { totalCount nodes { code learningOutcomes "
             "{ criteria { text } } versions(status: DRAFT) { number } } } }")
    author = auth("author_skills_cfa")
    one, many = (queries(client, query, {"n": n}, author) for n in (1, 100))
    assert one == many == 4  # count, page, documents, versions


def test_enrolment_tree_with_progress_is_constant(client, auth, identities, unit_ids):
    small = enrol(client, auth, identities, make_learner(client, auth, identities)["id"], unit_ids["B13"])["id"]
    large = enrol(client, auth, identities, make_learner(client, auth, identities, uln=valid_uln(1))["id"],
                  unit_ids["CS 34"])["id"]
    criteria = criteria_of(client, unit_ids["CS 34"])
    evidence = post(client, auth, "lms_client_a", f"/v1/enrolments/{large}/evidence", {
        "type": "professional_discussion", "title": "t", "date": "2026-10-01", "authenticity_declared": True,
        "criterion_ids": criteria})["id"]
    for criterion in criteria:  # 28 decisions, 28 claims
        post(client, auth, "assessor_a", f"/v1/enrolments/{large}/decisions", {
            "criterion_id": criterion, "outcome": "met", "feedback": "ok", "evidence_ids": [evidence]})
    headers = auth("assessor_a")
    query = f"query($id: UUID!) {{ enrolment(id: $id) {ENROLMENT_TREE} }}"
    assert queries(client, query, {"id": small}, headers) == queries(client, query, {"id": large}, headers)


def test_enrolment_list_with_trees_is_constant_in_the_page_size(client, auth, identities, unit_ids):
    for n in range(4):
        learner = make_learner(client, auth, identities, uln=valid_uln(n + 10))["id"]
        enrol(client, auth, identities, learner, unit_ids["B13" if n % 2 else "CS 34"])
    headers = auth("centre_admin_a")
    query = f"query($n: Int!) {{ enrolments(first: $n) {{ nodes {ENROLMENT_TREE} }} }}"
    one, four = (queries(client, query, {"n": n}, headers) for n in (1, 4))
    assert one == four
    learners = "query($n: Int!) { learners(first: $n) { nodes { enrolments { nodes { progress { met } } } " \
               "progress { units } } } }"
    assert queries(client, learners, {"n": 1}, headers) == queries(client, learners, {"n": 4}, headers)


def test_learner_list_with_credentials_is_constant_in_the_page_size(client, auth, identities, unit_ids):
    criteria = criteria_of(client, unit_ids["B13"])
    for n in range(4):
        learner = make_learner(client, auth, identities, uln=valid_uln(n + 20))["id"]
        enrolment = enrol(client, auth, identities, learner, unit_ids["B13"])["id"]
        post(client, auth, "assessor_a", f"/v1/enrolments/{enrolment}/decisions/batch", {"decisions": [
            {"criterion_id": c, "outcome": "met", "feedback": "seen"} for c in criteria]})
    query = "query($n: Int!) { learners(first: $n) { nodes { id credentials { id status credential } } } }"
    headers = auth("centre_admin_a")
    listed = gql(client, query, {"n": 4}, headers)["data"]["learners"]["nodes"]
    assert sum(len(learner["credentials"]) for learner in listed) == 4
    assert queries(client, query, {"n": 1}, headers) == queries(client, query, {"n": 4}, headers)
