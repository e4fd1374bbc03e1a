"""Apprenticeship standard versions as CASE 1.1 frameworks at /ims/case/v1p1: the package of a real standard validates
against the official CFPackage schema; every KSB and duty is an item with its code, order and GUID; every duty-to-KSB
mapping is an association; items and associations are found by identifier; a version in development is an admin's
alone, and to anyone else answers exactly as an identifier nobody has."""

import copy
import importlib
import json
import uuid
from functools import cache

from jsonschema import Draft201909Validator

from api.config import PROJECT_ROOT
from api.services.apprenticeships import documents
from tests.test_apprenticeship_standards import published, send, version
from tests.test_case_provider import valid

BASE = "/ims/case/v1p1"
# The official CASE 1.1 CFPackage schema (1EdTech), as /work/shared/case holds it (schema/case is that copy).
PACKAGE_SCHEMA = PROJECT_ROOT / "schema" / "case" / "case_v1p1_cfpackage-jsonschema1.json"
ARRAYS = (("knowledges", "knowledgeId", "K", "Knowledge"), ("skills", "skillId", "S", "Skill"),
          ("behaviours", "behaviourId", "B", "Behaviour"), ("duties", "dutyID", "D", "Duty"))
SERVED_KEYS = {"knowledges": "knowledge", "skills": "skills", "behaviours": "behaviours", "duties": "duties"}


@cache
def package_validator() -> Draft201909Validator:
    schema = json.loads(PACKAGE_SCHEMA.read_text(encoding="utf-8"))
    return Draft201909Validator(schema, format_checker=Draft201909Validator.FORMAT_CHECKER)


def case_get(client, path, headers=None, status=200):
    response = client.get(f"{BASE}/{path}", headers=headers or {})
    assert response.status_code == status, response.get_data(as_text=True)
    return response


def package_of(client, reference, number, headers=None) -> dict:
    identifier = documents.version_id(reference, number)
    body = valid(case_get(client, f"CFPackages/{identifier}", headers), "getcfpackage")
    errors = [(list(e.absolute_path), e.message) for e in package_validator().iter_errors(body)]
    assert errors == [], errors[:5]
    return body


def mapped_codes(source: dict) -> list[tuple[str, list[str]]]:
    """(duty code, the codes of the KSBs it maps, in published order) for every duty of a published object."""
    code_of = {entry[key].lower(): f"{letter}{n}" for array, key, letter, _ in ARRAYS[:3]
               for n, entry in enumerate(source[array], 1)}
    return [(f"D{n}", [code_of[guid.lower()] for guid in duty["mappedKnowledge"] + duty["mappedSkills"]
                       + duty["mappedBehaviour"]]) for n, duty in enumerate(source["duties"], 1)]


def test_a_standard_version_is_a_valid_framework_of_its_ksbs_and_duties(client, auth):
    send(client, auth, published("ST0384_1.4"))
    source, served = published("ST0384_1.4"), version(client, "ST0384", "1.4")
    package = package_of(client, "ST0384", "1.4")
    document = package["CFDocument"]
    assert (document["identifier"], document["version"], document["adoptionStatus"]) == (served["id"], "1.4",
                                                                                          "Adopted")
    assert "ST0384" in document["title"] and documents.LICENCE in document["notes"]
    assert document["statusStartDate"] == served["earliest_start_date"]
    items = package["CFItems"]
    expected = [(f"{letter}{n}", entry[key].lower(), type_name) for array, key, letter, type_name in ARRAYS
                for n, entry in enumerate(source[array], 1)]
    assert [(i["humanCodingScheme"], i["extensions"]["skillsEngland:id"], i["CFItemType"]) for i in items] == expected
    assert all(i["extensions"]["skillsEngland:id"] in i["notes"] for i in items)
    parts = {p["code"]: p for array in SERVED_KEYS.values() for p in served[array]}
    assert all((i["identifier"], i["fullStatement"]) == (parts[i["humanCodingScheme"]]["id"],
                                                         parts[i["humanCodingScheme"]]["detail"]) for i in items)
    code = {i["identifier"]: i["humanCodingScheme"] for i in items}
    children = sorted((a for a in package["CFAssociations"] if a["associationType"] == "isChildOf"),
                      key=lambda a: a["sequenceNumber"])
    assert {a["destinationNodeURI"]["identifier"] for a in children} == {document["identifier"]}
    assert [code[a["originNodeURI"]["identifier"]] for a in children] == [c for c, _, _ in expected]
    related = sorted((a for a in package["CFAssociations"] if a["associationType"] == "isRelatedTo"),
                     key=lambda a: (a["originNodeURI"]["identifier"], a["sequenceNumber"]))
    by_duty: dict = {}
    for association in related:
        by_duty.setdefault(code[association["originNodeURI"]["identifier"]], []).append(
            code[association["destinationNodeURI"]["identifier"]])
    assert sorted(by_duty.items()) == sorted((duty, ksbs) for duty, ksbs in mapped_codes(source) if ksbs)
    assert len(related) == sum(len(ksbs) for _, ksbs in mapped_codes(source))
    assert len(package["CFAssociations"]) == len(items) + len(related)


def test_items_associations_and_definitions_are_found_by_identifier(client, auth):
    send(client, auth, published("ST0384_1.4"))
    package = package_of(client, "ST0384", "1.4")
    document = package["CFDocument"]
    listed = [d for d in valid(case_get(client, "CFDocuments"), "getallcfdocuments")["CFDocuments"]
              if d["identifier"] == document["identifier"]]
    alone = valid(case_get(client, f"CFDocuments/{document['identifier']}"), "getcfdocument")
    assert listed == [alone] and {k: v for k, v in alone.items() if k != "CFPackageURI"} == document
    home = {"title": document["title"], "identifier": document["identifier"], "uri": document["uri"]}
    for item in package["CFItems"]:
        assert valid(case_get(client, f"CFItems/{item['identifier']}"), "getcfitem") == {**item, "CFDocumentURI": home}
    for association in package["CFAssociations"]:
        found = valid(case_get(client, f"CFAssociations/{association['identifier']}"), "getcfassociation")
        assert found == {**association, "CFDocumentURI": home}
    first_duty = next(i for i in package["CFItems"] if i["humanCodingScheme"] == "D1")
    linked = valid(case_get(client, f"CFItemAssociations/{first_duty['identifier']}"), "getcfitemassociations")
    ends = [(a["associationType"], a["destinationNodeURI"]["identifier"]) for a in linked["CFAssociations"]]
    mapped = [a for a in package["CFAssociations"] if a["originNodeURI"]["identifier"] == first_duty["identifier"]]
    assert ("isChildOf", document["identifier"]) in ends and len(ends) == len(mapped) > 1
    for item_type in package["CFDefinitions"]["CFItemTypes"]:
        types = valid(case_get(client, f"CFItemTypes/{item_type['identifier']}"), "getcfitemtype")["CFItemTypes"]
        assert types == [item_type]
    [licence] = package["CFDefinitions"]["CFLicenses"]
    assert document["licenseURI"]["identifier"] == licence["identifier"]
    assert valid(case_get(client, f"CFLicenses/{licence['identifier']}"), "getcflicense") == licence
    ksb = package["CFItems"][0]["identifier"]
    case_get(client, f"CFAssociations/{ksb}", status=404)  # an item is no association
    case_get(client, f"CFDocuments/{ksb}", status=404)


def _masked(response, identifier) -> tuple:
    return response.status_code, response.mimetype, response.get_data(as_text=True).replace(str(identifier), "<id>")


def test_a_version_in_development_is_an_admins_alone(client, auth):
    send(client, auth, [published("ST0072_1.1"), {**published("ST0072_1.1"), "version": "1.2",
                                                  "status": "In development"}])
    admin = auth("admin")
    hidden = package_of(client, "ST0072", "1.2", admin)
    assert hidden["CFDocument"]["adoptionStatus"] == "Draft"
    document, item = hidden["CFDocument"]["identifier"], hidden["CFItems"][0]["identifier"]
    association = hidden["CFAssociations"][-1]["identifier"]
    paths = [f"CFDocuments/{document}", f"CFPackages/{document}", f"CFItems/{item}", f"CFItemAssociations/{item}",
             f"CFAssociations/{association}"]
    for path in paths:
        answer = case_get(client, path, admin)
        assert answer.headers["Cache-Control"] == "private, no-cache", path
        for caller in (None, "centre_admin_a", "author_ocr", "sync_client_skills_cfa"):
            kind, identifier = path.split("/")
            missing = uuid.uuid4()
            assert _masked(case_get(client, path, auth(caller), status=404), identifier) == _masked(
                case_get(client, f"{kind}/{missing}", auth(caller), status=404), missing), (path, caller)
    public = documents.version_id("ST0072", "1.1")
    assert case_get(client, f"CFPackages/{public}").headers["Cache-Control"] == "public, max-age=60"

    def listed(caller):
        response = case_get(client, "CFDocuments", auth(caller))
        return {d["identifier"] for d in response.get_json()["CFDocuments"]}, response.headers["Cache-Control"]

    anyone, admins = listed(None), listed("admin")
    assert str(public) in anyone[0] and document not in anyone[0] and anyone[1] == "public, max-age=60"
    assert {str(public), document} <= admins[0] and admins[1] == "private, no-cache"


def test_standards_are_listed_filtered_sorted_and_paged_with_the_rest(client, auth):
    send(client, auth, [published(name) for name in ("ST0071_1.2", "ST0071_1.3", "ST0072_1.1", "ST0384_1.4")])
    versions = client.get(f"{BASE}/CFDocuments?filter=creator='Skills England'&sort=version&orderBy=desc")
    assert versions.headers["X-Total-Count"] == "4"
    assert [d["version"] for d in versions.get_json()["CFDocuments"]] == ["1.4", "1.3", "1.2", "1.1"]
    customer = client.get(f"{BASE}/CFDocuments?filter=title~'st0071'&fields=identifier,version&limit=1&offset=1")
    assert customer.headers["X-Total-Count"] == "2" and 'rel="prev"' in customer.headers["Link"]
    assert customer.get_json()["CFDocuments"] == [{"identifier": str(documents.version_id("ST0071", "1.3")),
                                                   "version": "1.3"}]
    retired = client.get(f"{BASE}/CFDocuments?filter=adoptionStatus='Deprecated'").get_json()["CFDocuments"]
    assert [(d["title"], d["statusEndDate"]) for d in retired] == [
        ("Customer service specialist (ST0071 version 1.2)", "2025-12-09")]
    everything = client.get(f"{BASE}/CFDocuments").get_json()["CFDocuments"]
    assert {"OCR units", "Skills CFA units"} <= {d["title"] for d in everything}
    bad = client.get(f"{BASE}/CFDocuments?filter=version")
    assert bad.status_code == 400 and valid(bad, "getallcfdocuments")["imsx_codeMinor"]


def test_a_changed_version_keeps_its_identifiers_and_serves_its_new_mappings(client, auth):
    source = published("ST0384_1.4")
    send(client, auth, source)
    before = package_of(client, "ST0384", "1.4")
    changed = copy.deepcopy(source)
    dropped = changed["duties"][0]["mappedKnowledge"].pop(0)
    send(client, auth, changed)
    after = package_of(client, "ST0384", "1.4")
    assert [i["identifier"] for i in after["CFItems"]] == [i["identifier"] for i in before["CFItems"]]
    duty = after["CFItems"][len(source["knowledges"]) + len(source["skills"]) + len(source["behaviours"])]
    guid = {i["extensions"]["skillsEngland:id"]: i["identifier"] for i in after["CFItems"]}[dropped.lower()]
    [gone] = [a for a in before["CFAssociations"] if a["associationType"] == "isRelatedTo"
              and (a["originNodeURI"]["identifier"], a["destinationNodeURI"]["identifier"]) == (duty["identifier"],
                                                                                                 guid)]
    assert len(after["CFAssociations"]) == len(before["CFAssociations"]) - 1
    case_get(client, f"CFAssociations/{gone['identifier']}", status=404)
    kept = next(a for a in after["CFAssociations"] if a["associationType"] == "isRelatedTo")
    assert kept["sequenceNumber"] == 1 and case_get(client, f"CFAssociations/{kept['identifier']}").get_json()[
        "identifier"] == kept["identifier"]


def test_the_migration_indexes_the_versions_already_stored(client, auth, database):
    from api.models import ApprenticeshipCaseMember

    send(client, auth, [published("ST0072_1.1"), published("ST0384_1.4")])
    stored = sorted(ApprenticeshipCaseMember.select().tuples())
    assert len(stored) > 200
    ApprenticeshipCaseMember.delete().execute()
    importlib.import_module("api.migrations.035_apprenticeship_case_members")._fill(database)
    assert sorted(ApprenticeshipCaseMember.select().tuples()) == stored


def test_a_framework_kept_whole_cannot_take_a_standards_identifiers(client, auth):
    send(client, auth, published("ST0072_1.1"))
    ksb = next(i for i in package_of(client, "ST0072", "1.1")["CFItems"])["identifier"]
    for package in ({"CFDocument": {"identifier": str(uuid.uuid4()), "title": "Borrowing", "creator": "OCR"},
                     "CFItems": [{"identifier": ksb, "fullStatement": "Borrowed"}]},
                    {"CFDocument": {"identifier": str(documents.version_id("ST0072", "1.1")), "title": "Taken",
                                    "creator": "OCR"},
                     "CFItems": [{"identifier": str(uuid.uuid4()), "fullStatement": "Its own"}]}):
        response = client.post("/v1/imports/case?awarding_body=ocr", json=package, headers=auth("author_ocr"))
        assert response.status_code == 409, response.get_json()
        assert "apprenticeship standard" in response.get_json()["detail"]
