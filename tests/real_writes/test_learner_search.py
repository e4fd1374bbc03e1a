"""GET /v1/learners?q= and GraphQL learners(q:): a ULN, an external id or a name prefix, among visible learners only,
with the other filters, sort and paging. Learners made here outlive their test (the module shares a database), so
each test searches for names of its own."""

import re
import urllib.parse

import pytest

from api import db
from tests.graphql_helpers import gql
from tests.query_counting import count_work
from tests.tracking_helpers import fresh_uln, make_learner

PROBLEM = "application/problem+json"


def search(client, auth, q, caller="centre_admin_a", **params) -> dict:
    response = client.get("/v1/learners", query_string={"q": q, **params}, headers=auth(caller))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def found(client, auth, q, caller="centre_admin_a", **params) -> set[str]:
    return {item["id"] for item in search(client, auth, q, caller, limit=500, **params)["items"]}


def at_centre_b(client, auth, identities, **extra) -> dict:
    return make_learner(client, auth, identities, caller="centre_admin_b",
                        centre_id=str(identities.centres["B"].id), **extra)


def test_ten_digits_are_a_uln_matched_exactly(client, auth, identities):
    uln = fresh_uln()
    learner = make_learner(client, auth, identities, uln=uln, given_name="Ulna", family_name="Digitson")
    decoy = make_learner(client, auth, identities, external_ids=[{"system": "mis", "id": fresh_uln()}])
    assert found(client, auth, uln) == {learner["id"]}
    assert found(client, auth, f"  {uln} ") == {learner["id"]}
    assert found(client, auth, uln[:9]) == set()  # nine digits are not a ULN, and prefix no name
    assert found(client, auth, decoy["external_ids"][0]["id"]) == set()  # ten digits are only ever a ULN


def test_an_external_id_is_matched_exactly_in_any_system(client, auth, identities):
    mis = make_learner(client, auth, identities, external_ids=[{"system": "mis", "id": "MIS-4711"}])
    lms = make_learner(client, auth, identities, external_ids=[{"system": "lms", "id": "lms:ext/9"}])
    assert found(client, auth, "MIS-4711") == {mis["id"]}
    assert found(client, auth, "lms:ext/9") == {lms["id"]}
    assert found(client, auth, "mis-4711") == set()  # exact: case-sensitive, as stored
    assert found(client, auth, "MIS-47") == set()  # and whole, not a prefix
    assert found(client, auth, "MIS-4711", external_system="lms") == set()  # with the other filters


def test_a_name_prefix_matches_either_name_case_insensitively(client, auth, identities):
    learner = make_learner(client, auth, identities, given_name="Ottoline", family_name="Quillfeather")["id"]
    for q in ("quill", "QUILL", "Quillfeather", "otto", "oTToLiNe", "q"):
        assert learner in found(client, auth, q), q
    for q in ("uill", "feather", "quillfeathers", "ottolinex", "quill%", "q_ill"):
        assert learner not in found(client, auth, q), q
    accented = make_learner(client, auth, identities, given_name="Émile", family_name="Østergaard")["id"]
    for q in ("ÉMILE", "Émi", "ØSTER", "ØSTERGAARD ÉMILE"):
        assert found(client, auth, q) == {accented}, q  # A-Z fold on every backend; other letters as typed


def test_two_words_are_a_prefix_of_each_name_in_either_order(client, auth, identities):
    learner = make_learner(client, auth, identities, given_name="Perpetua", family_name="Vandersloot")["id"]
    other = make_learner(client, auth, identities, given_name="Perpetua", family_name="Wexley")["id"]
    spaced = make_learner(client, auth, identities, given_name="Anne", family_name="De Perpignan")["id"]
    assert found(client, auth, "perp vand") == {learner}
    assert found(client, auth, "VANDER   perpetua") == {learner}  # either order; runs of spaces count as one
    assert found(client, auth, "perpetua") == {learner, other}
    assert found(client, auth, "perp zzz") == set()
    assert found(client, auth, "vand vand") == set()  # one word per name
    assert found(client, auth, "de perpig") == {spaced}  # a name with a space: all of q is its prefix
    assert found(client, auth, "anne de perp") == {spaced}  # split at any space


def test_search_pages_through_every_match_once_in_each_sort(client, auth, identities):
    names = [("Zed", "Pagewood"), ("Amy", "Pagewood"), ("Amy", "Pagewood"), ("Bo", "Pagewoodley"),
             ("Cy", "pagewood-smith"), ("Pagewood", "Ash"), ("Di", "Pagewright")]
    made = [make_learner(client, auth, identities, given_name=g, family_name=f) for g, f in names]
    expected = {m["id"] for m in made[:6]}  # "Pagewright" does not start with "pagewood"
    for sort in ("name", "created_at"):
        listed = client.get("/v1/learners", query_string={"sort": sort, "limit": 500},
                            headers=auth("centre_admin_a")).get_json()["items"]
        seen, cursor = [], None
        while True:
            page = search(client, auth, "pagewood", limit=2, sort=sort, **({"cursor": cursor} if cursor else {}))
            assert page["total"] == len(expected) and len(page["items"]) <= 2
            seen += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
            assert "pagewood" not in urllib.parse.unquote(cursor).lower()  # cursors stay opaque
        ids = [item["id"] for item in seen]
        assert len(ids) == len(set(ids)) and set(ids) == expected, sort
        assert ids == [item["id"] for item in listed if item["id"] in expected], sort  # the list's own order


def test_search_never_finds_another_centre_s_learners(client, auth, identities):
    ours = make_learner(client, auth, identities, given_name="Isolde", family_name="Farrowmere",
                        external_ids=[{"system": "mis", "id": "SHARED-77"}])["id"]
    theirs_uln = fresh_uln()
    theirs = at_centre_b(client, auth, identities, uln=theirs_uln, given_name="Isolde", family_name="Farrowmere",
                         external_ids=[{"system": "mis", "id": "SHARED-77"}])["id"]
    for q in ("farrow", "isolde farrow", "SHARED-77"):
        assert found(client, auth, q) == {ours}, q
        assert found(client, auth, q, "lms_client_a") == {ours}, q
        assert found(client, auth, q, "centre_admin_b") == {theirs}, q
        assert found(client, auth, q, "admin") == {ours, theirs}, q
        assert found(client, auth, q, "learner_a") == set(), q  # a learner's account sees its own record only
        assert found(client, auth, q, centre_id=str(identities.centres["B"].id)) == set(), q
    assert found(client, auth, theirs_uln) == set()
    assert found(client, auth, theirs_uln, "centre_admin_b") == {theirs}


@pytest.mark.parametrize(("q", "message"), [
    ("", "empty"), ("   ", "empty"), ("x" * 101, "longer than 100"), ("\tada", "control"), ("ada\x00", "control"),
    ("ada\nlov", "control"), ("ada\x85", "control"),
])
def test_a_bad_q_is_a_problem_naming_it(client, auth, q, message):
    response = client.get("/v1/learners", query_string={"q": q}, headers=auth("centre_admin_a"))
    assert response.status_code == 400 and response.mimetype == PROBLEM, response.get_data(as_text=True)
    body = response.get_json()
    assert list(body["errors"]) == ["q"] and message in body["errors"]["q"][0], body
    assert "q" in body["detail"]


def test_q_is_counted_after_trimming(client, auth, identities):
    learner = make_learner(client, auth, identities, given_name="Trim", family_name="Q" + "w" * 99)["id"]
    assert found(client, auth, "  " + "q" + "w" * 99 + "  ") == {learner}


def test_graphql_finds_the_same_learners_with_the_same_cursors(client, auth, identities):
    for given, family in (("Hester", "Glimmerton"), ("Hal", "Glimmerton"), ("Glim", "Ormsby")):
        make_learner(client, auth, identities, given_name=given, family_name=family,
                     external_ids=[{"system": "mis", "id": f"GLIM-{given}"}])
    query = ("query($q: String, $after: String) { learners(q: $q, first: 2, after: $after) "
             "{ totalCount edges { node { id } } pageInfo { endCursor hasNextPage } } }")
    for q in ("glim", "HAL GLIM", "GLIM-Hester", "glim ormsby"):
        rest_after, graph_after = None, None
        while True:
            rest = search(client, auth, q, limit=2, **({"cursor": rest_after} if rest_after else {}))
            graph = gql(client, query, {"q": q, "after": graph_after}, auth("centre_admin_a"))["data"]["learners"]
            assert [e["node"]["id"] for e in graph["edges"]] == [i["id"] for i in rest["items"]], q
            assert graph["totalCount"] == rest["total"] > 0, q
            rest_after, graph_after = rest["next_cursor"], graph["pageInfo"]["endCursor"]
            if rest_after is None:
                assert not graph["pageInfo"]["hasNextPage"]
                break
            assert graph_after == rest_after
    bad = gql(client, "{ learners(q: \"  \") { totalCount } }", headers=auth("centre_admin_a"), expect_errors=True)
    assert bad["errors"][0]["extensions"]["code"] == "INVALID_PARAMETER" and "q" in bad["errors"][0]["message"]


def _plan(database, sql: str, params) -> str:
    """The plan of one statement as text, whole-table reads priced out on PostgreSQL (as tests/test_query_plans)."""
    if db.is_sqlite(database):
        return "\n".join(row[-1] for row in database.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())
    with database.atomic():
        database.execute_sql("SET LOCAL enable_seqscan = off")
        return "\n".join(row[0] for row in database.execute_sql("EXPLAIN " + sql, params).fetchall())


def test_a_search_is_served_by_the_name_and_external_id_indexes(client, auth, identities, database):
    make_learner(client, auth, identities, given_name="Planford", family_name="Indexley",
                 external_ids=[{"system": "mis", "id": "PLAN-1"}])
    with count_work() as counter:
        search(client, auth, "plan index")
    plans = [_plan(database, *query.msg) for query in counter.get_queries()
             if re.match(r"\s*SELECT\b.*\blearner", query.msg[0], re.I | re.S)]
    text = "\n".join(plans)
    for index in ("learner_centre_id_lower_family_name", "learner_centre_id_lower_given_name",
                  "learnerexternalid_external_id_centre_id"):
        assert index in text, text
    # "matches": the UNION of ids; "capped": the page's count, bounded by a LIMIT
    assert not re.search(r"\bSeq Scan\b|^SCAN (?!matches\b|capped\b)", text, re.M), text
