"""The CASE 1.1 provider: every response, for every seeded unit and the fixture qualification, validates against the
official 1EdTech response schema of its operation (schema/case/), error payloads included."""

import json
import re
import uuid
from functools import cache

import pytest
from jsonschema import Draft202012Validator

from api.config import PROJECT_ROOT
from api.services.content.loader import load_path
from tests.test_sync import put_draft, revised_cs34

CASE_DIR = PROJECT_ROOT / "schema" / "case"
BASE = "/ims/case/v1p1"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
OPERATIONS = {"CFDocuments": "getcfdocument", "CFPackages": "getcfpackage", "CFItems": "getcfitem",
              "CFItemAssociations": "getcfitemassociations", "CFAssociations": "getcfassociation",
              "CFItemTypes": "getcfitemtype", "CFSubjects": "getcfsubject", "CFConcepts": "getcfconcept",
              "CFLicenses": "getcflicense", "CFAssociationGroupings": "getcfassociationgrouping",
              "CFRubrics": "getcfrubric"}


@cache
def validator(operation: str, status: str = "200") -> Draft202012Validator:
    suffix = "200" if status == "200" else "400-401-403-404-429-500-default"
    path = CASE_DIR / f"caseservicegroupv1p1-{operation}-{suffix}-responsepayload-schemav1p0p0.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def valid(response, operation: str) -> dict:
    status = "200" if response.status_code == 200 else "error"
    body = response.get_json()
    errors = sorted(validator(operation, status).iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, [(list(e.absolute_path), e.message) for e in errors[:5]]
    return body


@pytest.fixture
def with_qualification(database):
    assert load_path(PROJECT_ROOT / "tests" / "fixtures" / "qualification.yaml").ok


def test_every_response_for_every_framework_validates(client, with_qualification):
    listing = valid(client.get(f"{BASE}/CFDocuments"), "getallcfdocuments")["CFDocuments"]
    assert {d["title"] for d in listing} >= {"Skills CFA units", "OCR units"} and len(listing) == 3
    seen_items, seen_associations, types = set(), set(), set()
    for document in listing:
        identifier = document["identifier"]
        assert valid(client.get(f"{BASE}/CFDocuments/{identifier}"), "getcfdocument") == document
        package = valid(client.get(f"{BASE}/CFPackages/{identifier}"), "getcfpackage")
        assert package["CFItems"], document["title"]
        for item in package["CFItems"]:
            seen_items.add(item["identifier"])
            types.add(item["CFItemTypeURI"]["identifier"])
        for association in package["CFAssociations"]:
            seen_associations.add(association["identifier"])
    for identifier in sorted(seen_items):
        item = valid(client.get(f"{BASE}/CFItems/{identifier}"), "getcfitem")
        assert item["identifier"] == identifier and item["uri"].endswith(f"{BASE}/CFItems/{identifier}")
        linked = valid(client.get(f"{BASE}/CFItemAssociations/{identifier}"), "getcfitemassociations")
        assert linked["CFItem"] == item and linked["CFAssociations"]
    for identifier in sorted(seen_associations):
        assert valid(client.get(f"{BASE}/CFAssociations/{identifier}"), "getcfassociation")["identifier"] == identifier
    for identifier in types:
        assert valid(client.get(f"{BASE}/CFItemTypes/{identifier}"), "getcfitemtype")["CFItemTypes"]
    assert all(UUID.match(i) for i in seen_items | seen_associations | types)
    assert len(seen_items) == 1 + 5 + 28 + 1 + 4 + 27  # CS 34 and B13: unit, outcomes, criteria


def test_the_tree_is_nested_in_order_with_nos_mappings(client, unit_ids):
    listing = client.get(f"{BASE}/CFDocuments?filter=title='OCR units'").get_json()["CFDocuments"]
    package = client.get(f"{BASE}/CFPackages/{listing[0]['identifier']}").get_json()
    items = {i["identifier"]: i for i in package["CFItems"]}
    children: dict = {}
    for association in package["CFAssociations"]:
        if association["associationType"] == "isChildOf":
            children.setdefault(association["destinationNodeURI"]["identifier"], []).append(
                (association["sequenceNumber"], association["originNodeURI"]["identifier"]))
    b13 = client.get(f"/v1/units/{unit_ids['B13']}").get_json()
    outcomes = [items[i]["fullStatement"] for _, i in sorted(children[unit_ids["B13"]])]
    assert outcomes == [o["title"] for o in b13["learning_outcomes"]]
    first_outcome = sorted(children[unit_ids["B13"]])[0][1]
    assert [items[i]["fullStatement"] for _, i in sorted(children[first_outcome])] == [
        c["text"] for c in b13["learning_outcomes"][0]["criteria"]]
    [nos] = [a for a in package["CFAssociations"] if a["associationType"] == "exactMatchOf"]  # "maps fully"
    assert nos["originNodeURI"]["identifier"] == unit_ids["B13"]
    assert "/v1/standards/" in nos["destinationNodeURI"]["uri"]


def test_unknown_malformed_and_unpublished_objects(client, unit_ids):
    for path, operation in OPERATIONS.items():
        unknown = client.get(f"{BASE}/{path}/{uuid.uuid4()}")
        assert unknown.status_code == 404
        assert valid(unknown, operation)["imsx_codeMinor"]["imsx_codeMinorField"][0][
            "imsx_codeMinorFieldValue"] == "unknownobject"
        malformed = client.get(f"{BASE}/{path}/not-a-uuid")
        assert malformed.status_code == 404
        assert valid(malformed, operation)["imsx_codeMinor"]["imsx_codeMinorField"][0][
            "imsx_codeMinorFieldValue"] == "invalid_uuid"
    draft = client.get(f"{BASE}/CFItems/{unit_ids['CS 39']}")  # only published content is served
    assert draft.status_code == 404 and valid(draft, "getcfitem")["imsx_description"]


@pytest.mark.parametrize(("query", "code_minor"), [
    ("fields=", "invalid_selection_field"), ("fields=title,nonsense", "invalid_selection_field"),
    ("sort=nonsense", "invalid_sort_field"), ("orderBy=sideways", "invalid_sort_field"),
    ("limit=0", "invalid_selection_field"), ("filter=title", "invalid_selection_field")])
def test_bad_selections_are_400_with_the_right_code_minor(client, query, code_minor):
    response = client.get(f"{BASE}/CFDocuments?{query}")
    assert response.status_code == 400
    body = valid(response, "getallcfdocuments")
    assert body["imsx_codeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == code_minor


def test_paging_sorting_filtering_and_fields(client, with_qualification):
    everything = client.get(f"{BASE}/CFDocuments?sort=title").get_json()["CFDocuments"]
    assert [d["title"] for d in everything] == sorted(d["title"] for d in everything)
    page = client.get(f"{BASE}/CFDocuments?sort=title&orderBy=desc&limit=1&offset=1")
    assert page.headers["X-Total-Count"] == "3" and 'rel="next"' in page.headers["Link"]
    assert page.get_json()["CFDocuments"] == [everything[1]]
    only = client.get(f"{BASE}/CFDocuments?filter=creator='OCR'&fields=identifier,title").get_json()
    assert only["CFDocuments"] == [{"identifier": d["identifier"], "title": d["title"]} for d in everything
                                   if d["creator"] == "OCR"]


def test_a_new_version_moves_last_change_and_replaces_criteria(client, auth, unit_ids):
    def suite():
        listing = client.get(f"{BASE}/CFDocuments?filter=title='Skills CFA units'").get_json()["CFDocuments"][0]
        return listing, client.get(f"{BASE}/CFPackages/{listing['identifier']}").get_json()

    before, old_package = suite()
    old_first = next(i for i in old_package["CFItems"] if i.get("listEnumeration") == "1.1")
    assert put_draft(client, auth, unit_ids["CS 34"], revised_cs34()).status_code == 201
    assert client.post(f"/v1/units/{unit_ids['CS 34']}/publish", headers=auth("author_skills_cfa")).status_code == 200
    after, package = suite()
    published = [e for e in client.get("/v1/changes?limit=500", headers=auth("admin")).get_json()["items"]
                 if e["code"] == "CS 34" and e["action"] == "published"][-1]
    assert after["lastChangeDateTime"] == published["occurred_at"].replace("Z", "+00:00")  # the publish, exactly
    assert after["lastChangeDateTime"] >= before["lastChangeDateTime"]
    valid(client.get(f"{BASE}/CFPackages/{after['identifier']}"), "getcfpackage")
    [replaced] = [a for a in package["CFAssociations"] if a["associationType"] == "replacedBy"]
    assert replaced["originNodeURI"]["identifier"] == old_first["identifier"]
    new_first = next(i for i in package["CFItems"] if i.get("listEnumeration") == "1.1")
    assert replaced["destinationNodeURI"]["identifier"] == new_first["identifier"] != old_first["identifier"]
    unchanged = {i["identifier"] for i in old_package["CFItems"]} & {i["identifier"] for i in package["CFItems"]}
    assert len(unchanged) >= 27  # the unit, and every criterion whose text did not change, keep their identifiers


def test_v1_and_graphql_units_name_their_case_item(client, unit_ids):
    document = client.get(f"/v1/units/{unit_ids['B13']}").get_json()
    assert document["case"] == {"identifier": unit_ids["B13"], "uri": f"{BASE}/CFItems/{unit_ids['B13']}",
                                "framework": None}  # authored here, imported from no framework
    assert client.get(document["case"]["uri"]).status_code == 200
    from tests.graphql_helpers import gql

    data = gql(client, "query($id: UUID!) { unit(id: $id) { case { identifier uri framework { href } } "
                       "learningOutcomes { criteria "
                       "{ identity } } } }", {"id": unit_ids["B13"]})["data"]["unit"]
    assert data["case"] == document["case"]
    first = data["learningOutcomes"][0]["criteria"][0]["identity"]
    assert client.get(f"{BASE}/CFItems/{first}").get_json()["fullStatement"] == \
        document["learning_outcomes"][0]["criteria"][0]["text"]


def test_discovery_document_is_the_official_binding(client):
    response = client.get(f"{BASE}/discovery/imscasev1p1_openapi3_v1p0.json")
    assert response.status_code == 200
    assert response.get_json()["paths"].keys() >= {"/CFDocuments", "/CFPackages/{sourcedId}"}


def test_last_change_never_moves_back_when_a_unit_leaves(client, auth, unit_ids):
    def suite():
        return client.get(f"{BASE}/CFDocuments?filter=title='Skills CFA units'").get_json()["CFDocuments"]

    before = suite()[0]["lastChangeDateTime"]
    assert client.post(f"/v1/units/{unit_ids['CS 34']}/withdraw", headers=auth("author_skills_cfa")).status_code == 200
    assert suite() == []  # its only published unit withdrawn: the suite is no longer served
    assert put_draft(client, auth, unit_ids["CS 34"], revised_cs34()).status_code == 201
    assert client.post(f"/v1/units/{unit_ids['CS 34']}/publish", headers=auth("author_skills_cfa")).status_code == 200
    assert suite()[0]["lastChangeDateTime"] >= before
