"""The /v1 read API as an LMS integrator uses it: filters, pagination, trees, versions, conditional GETs, errors."""

import re
import uuid

import pytest
import yaml

from api.services.content.loader import load_path
from tests.conftest import PROJECT_ROOT, UNITS_DIR

PROBLEM = "application/problem+json"
# How notes about making the content read: content and API text speak of qualifications and their publishers instead.
TRANSCRIPTION = re.compile(r"\bseed\b|transcri|\.txt\b|shared/seeds", re.IGNORECASE)


def get_json(client, url, status=200, **kwargs):
    response = client.get(url, **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def test_lookup_by_code_finds_the_unit_whatever_its_status(client, auth):
    """`?code=CS%2039` finds the draft CS 39 for its body's authors; a browse without status does not list it."""
    author = auth("author_skills_cfa")
    items = get_json(client, "/v1/units?code=CS%2039", headers=author)["items"]
    assert [(i["code"], i["status"], i["title"]) for i in items] == [
        ("CS 39", "draft", "Review the quality of customer service")]
    assert "CS 39" not in {i["code"] for i in get_json(client, "/v1/units", headers=author)["items"]}
    assert get_json(client, "/v1/units?code=CS%2039&status=published", headers=author)["items"] == []


def test_drafts_are_invisible_to_anonymous_callers_and_other_bodies(client, auth, unit_ids):
    for headers in ({}, auth("author_ocr"), auth("assessor_a"), auth("lms_client_a")):
        assert get_json(client, "/v1/units?code=CS%2039", headers=headers)["items"] == []
        assert get_json(client, "/v1/units?status=draft", headers=headers)["total"] == 0
        assert client.get(f"/v1/units/{unit_ids['CS 39']}?status=draft", headers=headers).status_code == 404
    for name in ("admin", "author_skills_cfa", "sync_client_skills_cfa"):
        assert get_json(client, "/v1/units?status=draft", headers=auth(name))["total"] == 11


def test_filters_by_owner_level_and_words(client, auth):
    assert {i["code"] for i in get_json(client, "/v1/units?owner=ocr")["items"]} == {"B13"}
    assert {i["code"] for i in get_json(client, "/v1/units?level=4")["items"]} == {"B13"}
    drafts_with_social_media = get_json(client, "/v1/units?status=draft&q=SOCIAL%20media",
                                        headers=auth("admin"))["items"]
    assert {i["code"] for i in drafts_with_social_media} == {"CS 45", "CS 46"}
    assert get_json(client, "/v1/units?q=monitor%20xyzzy")["items"] == []
    assert get_json(client, "/v1/units?q=100%25")["total"] == 0  # LIKE wildcards are matched literally


def test_cursor_pagination_visits_every_unit_once(client, auth):
    seen, url, pages = [], "/v1/units?status=draft&limit=3", 0
    while url:
        response = client.get(url, headers=auth("author_skills_cfa"))
        body = response.get_json()
        assert response.headers["X-Total-Count"] == "11" and body["total"] == 11
        seen += [i["code"] for i in body["items"]]
        pages += 1
        assert pages <= 4, "the pages never end"
        url = response.headers.get("Link", "").partition(">")[0].lstrip("<") or None
        assert (url is None) == (body["next_cursor"] is None)
    assert pages == 4
    assert seen == sorted(seen) and len(set(seen)) == 11


def test_unit_tree_has_outcomes_criteria_range_evidence_mappings_and_guidance(client, unit_ids):
    cs34 = get_json(client, f"/v1/units/{unit_ids['CS 34']}")
    assert (cs34["code"], cs34["status"], cs34["version"]) == ("CS 34", "published", 1)
    outcome1 = cs34["learning_outcomes"][0]
    assert outcome1["kind"] == "knowledge"
    assert [t["code"] for t in outcome1["evidence_types"]][:2] == ["legislative_and_regulatory_requirements",
                                                                    "organisational_documentation"]
    assert "observation" not in {t["code"] for t in outcome1["evidence_types"]}
    assert outcome1["criteria"][1]["minimum"] == {
        "count": 3, "of": "methods",
        "as_written": "Here the candidate will be required to assess the suitability of at least three methods."}
    assert [g["slug"] for g in cs34["guidance"]] == ["managing-customer-service-operations"]
    b13 = get_json(client, f"/v1/units/{unit_ids['B13']}")
    assert (b13["credit_value"], b13["glh"], b13["level"]) == (10, 67, 4)
    [mapping] = b13["mappings"]
    assert mapping["strength"] == "full"
    assert mapping["standard"]["title"] == "Plan, organise and control customer service operations"


def test_draft_unit_is_read_only_with_status_draft(client, auth, unit_ids):
    problem = get_json(client, f"/v1/units/{unit_ids['CS 47']}", status=404, headers=auth("author_skills_cfa"))
    assert "?status=draft" in problem["detail"]
    cs47 = get_json(client, f"/v1/units/{unit_ids['CS 47']}?status=draft", headers=auth("author_skills_cfa"))
    assert cs47["status"] == "draft" and [o["criteria"] for o in cs47["learning_outcomes"]] == [[], [], []]


def test_versions_list_and_numbered_version(client, auth, unit_ids):
    versions = get_json(client, f"/v1/units/{unit_ids['B13']}/versions")["items"]
    assert [(v["number"], v["status"], v["is_head"]) for v in versions] == [(1, "published", True)]
    version = client.get(f"/v1/units/{unit_ids['B13']}/versions/1")
    assert version.status_code == 200 and version.get_json()["version"] == 1
    assert version.headers["ETag"] == client.get(f"/v1/units/{unit_ids['B13']}").headers["ETag"]
    assert client.get(f"/v1/units/{unit_ids['B13']}/versions/2").status_code == 404
    assert client.get(f"/v1/units/{unit_ids['B13']}/versions/0").status_code == 404
    assert client.get(f"/v1/units/{unit_ids['B13']}/versions/99999999999999999999").status_code == 404
    drafts = get_json(client, f"/v1/units/{unit_ids['CS 40']}/versions?status=draft", headers=auth("admin"))
    assert drafts["items"][0]["number"] == 1


def test_criterion_and_outcome_endpoints_give_context(client, auth, unit_ids):
    b13 = get_json(client, f"/v1/units/{unit_ids['B13']}")
    criterion_ref = b13["learning_outcomes"][2]["criteria"][0]
    criterion = get_json(client, f"/v1/criteria/{criterion_ref['id']}")
    assert criterion["number"] == "3.1" and criterion["text"] == criterion_ref["text"]
    assert criterion["unit"]["code"] == "B13" and criterion["outcome"]["number"] == "3"
    assert [m["strength"] for m in criterion["mappings"]] == ["full"]  # the unit-level mapping covers it
    outcome = get_json(client, criterion["outcome"]["href"])
    assert [c["number"] for c in outcome["criteria"]] == ["3.1", "3.2", "3.3", "3.4", "3.5"]
    author = auth("author_skills_cfa")
    cs45 = get_json(client, f"/v1/units/{unit_ids['CS 45']}?status=draft", headers=author)
    draft_criterion = cs45["learning_outcomes"][2]["criteria"][0]
    assert draft_criterion["number_as_written"] == "1.1"
    assert client.get(f"/v1/criteria/{draft_criterion['id']}", headers=author).status_code == 404
    assert client.get(f"/v1/criteria/{draft_criterion['id']}?status=draft").status_code == 404  # anonymous
    assert get_json(client, f"/v1/criteria/{draft_criterion['id']}?status=draft", headers=author)["number"] == "3.1"


def test_evidence_types_and_standards(client):
    codes = [t["code"] for t in get_json(client, "/v1/evidence-types")["items"]]
    assert "witness_testimony" in codes and codes == sorted(codes)
    [summary] = get_json(client, "/v1/standards")["items"]
    assert get_json(client, "/v1/standards?urn=XYZ")["items"] == []
    standard = get_json(client, summary["href"])
    assert standard["knowledge"][8]["text"].startswith("how to check that staff understand that is required")


def strings_in(value, path="$"):
    """(path, text) for every key and every string in a JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"{path}.{key}", key
            yield from strings_in(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings_in(item, f"{path}[{index}]")
    elif isinstance(value, str):
        yield path, value


def test_served_content_never_speaks_of_transcription(client, auth, unit_ids):
    """Every unit (drafts too, read as an admin), standard, evidence type, the catalogue and the contract with its
    schemas: no key or text mentions source files, seeds or transcription."""
    served = {}
    for code, unit_id in unit_ids.items():
        for status in ("published", "draft"):
            response = client.get(f"/v1/units/{unit_id}", query_string={"status": status}, headers=auth("admin"))
            if response.status_code == 200:
                served[f"{code} {status}"] = response.get_json()
    assert {name.rsplit(" ", 1)[0] for name in served} == set(unit_ids)
    served["evidence types"] = get_json(client, "/v1/evidence-types")
    for summary in get_json(client, "/v1/standards")["items"]:
        served[summary["slug"]] = get_json(client, summary["href"])
    served["catalogue"] = yaml.safe_load((UNITS_DIR / "catalogue.yaml").read_text(encoding="utf-8"))
    served["contract"] = get_json(client, "/v1/openapi.json")
    for schema in sorted((PROJECT_ROOT / "schema").glob("*.schema.json")):
        served[schema.name] = get_json(client, f"/v1/schema/{schema.name}")
    found = [(name, path, text) for name, body in served.items() for path, text in strings_in(body)
             if TRANSCRIPTION.search(text)]
    assert found == []


def test_qualification_with_rules_of_combination(client):
    assert get_json(client, "/v1/qualifications")["items"] == []  # no source document describes a qualification
    report = load_path(PROJECT_ROOT / "tests" / "fixtures" / "qualification.yaml")
    assert report.ok, report.problems
    [summary] = get_json(client, "/v1/qualifications?owner=ocr")["items"]
    qualification = get_json(client, summary["href"])
    assert [(g["name"], g["mandatory"], [u["code"] for u in g["units"]]) for g in qualification["groups"]] == [
        ("Mandatory", True, ["B13"]), ("Optional", False, ["CS 34"])]


@pytest.mark.parametrize("path", ["/v1/units/{b13}", "/v1/units/{b13}/versions/1", "/v1/units", "/v1/standards",
                                  "/v1/criteria/{criterion}", "/v1/evidence-types"])
def test_every_get_has_an_etag_and_answers_304(client, unit_ids, path):
    criterion = get_json(client, f"/v1/units/{unit_ids['B13']}")["learning_outcomes"][0]["criteria"][0]["id"]
    url = path.format(b13=unit_ids["B13"], criterion=criterion)
    first = client.get(url)
    assert first.status_code == 200 and first.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert client.get(url, headers={"If-None-Match": '"something-else"'}).status_code == 200


def test_cache_control_public_for_published_and_no_cache_for_drafts(client, auth, unit_ids):
    assert client.get(f"/v1/units/{unit_ids['B13']}").headers["Cache-Control"].startswith("public, max-age=")
    draft = client.get(f"/v1/units/{unit_ids['CS 40']}?status=draft", headers=auth("admin"))
    assert draft.headers["Cache-Control"] == "no-cache"


BAD_REQUESTS = {
    "/v1/units?colour=blue": ("colour", "unknown parameter"),
    "/v1/units?limit=0": ("limit", "Must be greater than or equal to 1"),
    "/v1/units?limit=501": ("limit", "less than or equal to 500"),
    "/v1/units?limit=ten": ("limit", "Not a valid integer."),
    "/v1/units?status=live": ("status", "Must be one of"),
    "/v1/units?level=4&level=5": ("level", "given more than once"),
    "/v1/units?q=a%00b": ("q", "control characters"),
    "/v1/units?cursor=bm90LWEtY3Vyc29y": ("cursor", "not a cursor issued by this API"),
    "/v1/units/not-a-uuid": (None, "not a valid unit id"),
    "/v1/criteria/123": (None, "not a valid assessment criterion id"),
    "/v1/evidence-types?x=1": ("x", "unknown parameter"),
}


@pytest.mark.parametrize("url", sorted(BAD_REQUESTS))
def test_bad_requests_are_400_problems_that_say_what_is_wrong(client, url):
    field, message = BAD_REQUESTS[url]
    response = client.get(url)
    assert response.status_code == 400 and response.mimetype == PROBLEM
    problem = response.get_json()
    assert problem["status"] == 400 and problem["instance"] == url.split("?")[0]
    if field:
        assert any(message in m for m in problem["errors"][field]), problem
    else:
        assert message in problem["detail"]


@pytest.mark.parametrize("url", ["/v1/units/{random}", "/v1/criteria/{random}", "/v1/learning-outcomes/{random}",
                                 "/v1/standards/{random}", "/v1/qualifications/{random}", "/v1/nothing-here",
                                 "/v1/units/{random}/versions", "/v1/schema/../pyproject.toml"])
def test_missing_resources_are_404_problems(client, url):
    response = client.get(url.format(random=uuid.uuid4()))
    assert response.status_code == 404 and response.mimetype == PROBLEM
    assert response.get_json()["title"] == "Not Found"


def test_writes_are_not_allowed_on_content_yet(client, unit_ids):
    response = client.post(f"/v1/units/{unit_ids['B13']}", json={})
    assert response.status_code == 405 and response.mimetype == PROBLEM
    assert "GET" in response.headers["Allow"]


def test_contract_and_schemas_are_served(client):
    assert client.get("/v1/openapi.yaml").get_data(as_text=True).startswith("openapi: 3.1")
    assert client.get("/v1/schema/unit.schema.json").get_json()["title"] == "qualtrack unit"
