"""A CASE framework is kept whole and served back as it came: every item at any depth, every association of every
type (those pointing outside the package too), item types, concepts, subjects, licences, association groupings and
rubrics, with their identifiers, codes, texts, order, languages and dates; only the fields a provider sets itself
differ (each object's uri, links' uris to members of the framework, a lastChangeDateTime the exporter left out).
Every answer validates against the official CASE 1.1 schemas. A framework has its own lifecycle: draft until
published, served while published, hidden when withdrawn."""

import copy
import uuid

import pytest

from tests.test_case_import import import_case
from tests.test_case_provider import BASE, valid

PROVIDER_SET = {"uri"}  # what this provider sets on every object it serves


def ids(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


DOC, ROOT, MID, DEEP, DEEPER, SHARED, SIBLING = ids(7)
TYPE, CONCEPT, SUBJECT, LICENCE, GROUPING, RUBRIC, CRITERION, LEVEL = ids(8)
EXTERNAL = "https://frameworks.example.org/CFItems/" + str(uuid.uuid4())


def framework() -> dict:
    """A framework in no unit shape: five levels deep, an item under two parents, two top-level items without
    codes, every kind of association (one to an item outside the package), and every kind of definition, with the
    habits of CASE 1.0 exporters (a sequenceNumber as a string, a timestamp without a time zone, bare URIs)."""
    base = "https://frameworks.example.org/ims/case/v1p0"

    def item(identifier, text, **more):
        return {"identifier": identifier, "fullStatement": text, "uri": f"{base}/CFItems/{identifier}",
                "lastChangeDateTime": "2025-01-02T03:04:05", **more}

    def link(kind, origin, destination, sequence=None, **more):
        identifier = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{kind} {origin} {destination}"))  # the same every call
        return {"identifier": identifier, "associationType": kind, "uri": f"{base}/CFAssociations/x",
                "originNodeURI": {"title": "o", "identifier": origin, "uri": f"{base}/CFItems/{origin}"},
                "destinationNodeURI": destination if isinstance(destination, dict) else
                {"title": "d", "identifier": destination, "uri": f"{base}/CFItems/{destination}"},
                "lastChangeDateTime": "2025-01-02T03:04:05+01:00",
                **({"sequenceNumber": sequence} if sequence is not None else {}), **more}

    return {
        "CFDocument": {"identifier": DOC, "uri": f"{base}/CFDocuments/{DOC}", "creator": "Example Awarding Org",
                       "title": "Deep framework ∑", "lastChangeDateTime": "2025-01-02T03:04:05Z",
                       "language": "en", "version": "3.1", "adoptionStatus": "Adopted",
                       "licenseURI": {"title": "Open", "identifier": LICENCE, "uri": f"{base}/CFLicenses/{LICENCE}"},
                       "subjectURI": [{"title": "Care", "identifier": SUBJECT, "uri": f"{base}/CFSubjects/x"}]},
        "CFItems": [
            item(ROOT, "Top level, no code", CFItemType="Domain", language="en",
                 CFItemTypeURI={"title": "Domain", "identifier": TYPE, "uri": f"{base}/CFItemTypes/{TYPE}"}),
            item(SIBLING, "Another top level, no code either", listEnumeration="2"),
            item(MID, "Middle\r\n**Markdown** kept byte for byte", humanCodingScheme="A.1.a",
                 conceptKeywords=["care"], educationLevel=["09", "10"], notes="A note"),
            item(DEEP, "Third level 𝔸", humanCodingScheme="A.1.a.i", abbreviatedStatement="Third"),
            item(DEEPER, "Fourth level", humanCodingScheme="A.1.a.i.1"),
            item(SHARED, "Under two parents", humanCodingScheme="S.1"),
        ],
        "CFAssociations": [
            link("isChildOf", SIBLING, {"title": "doc", "identifier": DOC, "uri": f"{base}/CFDocuments/{DOC}"}, "2"),
            link("isChildOf", ROOT, {"title": "doc", "identifier": DOC, "uri": f"{base}/CFDocuments/{DOC}"}, 1),
            link("isChildOf", MID, ROOT, 1, CFAssociationGroupingURI={"title": "G", "identifier": GROUPING,
                                                                      "uri": f"{base}/CFAssociationGroupings/x"}),
            link("isChildOf", DEEP, MID, 1), link("isChildOf", DEEPER, DEEP, 1),
            link("isChildOf", SHARED, MID, 2), link("isChildOf", SHARED, SIBLING, 1),
            link("precedes", DEEP, SHARED), link("exemplar", MID, DEEP, notes="an exemplar"),
            link("exactMatchOf", MID, {"title": "Elsewhere", "identifier": EXTERNAL, "uri": EXTERNAL}),
            link("isRelatedTo", SHARED, ROOT), link("ext:alignsWith", DEEPER, MID),
        ],
        "CFDefinitions": {
            "CFItemTypes": [{"identifier": TYPE, "uri": "x", "title": "Domain", "description": "A domain",
                             "hierarchyCode": "1", "lastChangeDateTime": "2025-01-02T03:04:05Z"}],
            "CFConcepts": [{"identifier": CONCEPT, "uri": "x", "title": "Care", "keywords": "care",
                            "hierarchyCode": "1", "lastChangeDateTime": "2025-01-02T03:04:05Z"}],
            "CFSubjects": [{"identifier": SUBJECT, "uri": "x", "title": "Care", "hierarchyCode": "1",
                            "lastChangeDateTime": "2025-01-02T03:04:05Z"}],
            "CFLicenses": [{"identifier": LICENCE, "uri": "x", "title": "Open", "licenseText": "Use freely.",
                            "lastChangeDateTime": "2025-01-02T03:04:05Z"}],
            "CFAssociationGroupings": [{"identifier": GROUPING, "uri": "x", "title": "G",
                                        "lastChangeDateTime": "2025-01-02T03:04:05Z"}],
        },
        "CFRubrics": [{
            "identifier": RUBRIC, "uri": "x", "title": "Rubric", "lastChangeDateTime": "2025-01-02T03:04:05Z",
            "CFRubricCriteria": [{
                "identifier": CRITERION, "uri": "x", "position": 1, "lastChangeDateTime": "2025-01-02T03:04:05Z",
                "CFItemURI": {"title": "Mid", "identifier": MID, "uri": "x"},
                "CFRubricCriterionLevels": [{"identifier": LEVEL, "uri": "x", "score": 1.0, "position": 1,
                                             "lastChangeDateTime": "2025-01-02T03:04:05Z"}]}]}],
    }


def imported(client, auth, package=None, caller="author_ocr", status=200) -> dict:
    response = import_case(client, auth, package or framework(), caller=caller)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def publish(client, auth, identifier, caller="author_ocr", status=200) -> dict:
    response = client.post(f"/v1/frameworks/{identifier}/publish", headers=auth(caller))
    assert response.status_code == status, response.get_json()
    return response.get_json()


def substance(record):
    """A served object without what a provider sets itself, in the shape the exporter's object is read as."""
    if isinstance(record, list):
        return [substance(r) for r in record]
    if not isinstance(record, dict):
        return record
    return {k: substance(v) for k, v in record.items() if k not in PROVIDER_SET}


def test_every_member_is_kept_and_served_back_unchanged_in_substance(client, auth):
    sent = framework()
    answer = imported(client, auth, sent)
    assert answer["framework"] == {"identifier": DOC, "version": 1, "status": "draft", "outcome": "created",
                                   "href": f"/v1/frameworks/{DOC}"}
    assert answer["not_kept"] == {"items": 0, "associations": 0} and answer["fields_not_kept"] == []
    assert {i["kept_as"] for i in answer["items"]} <= {"unit", "learning_outcome", "assessment_criterion",
                                                         "framework"}
    assert client.get(f"{BASE}/CFPackages/{DOC}").status_code == 404  # a draft is not served
    publish(client, auth, DOC)
    package = valid(client.get(f"{BASE}/CFPackages/{DOC}"), "getcfpackage")
    assert [i["identifier"] for i in package["CFItems"]] == [i["identifier"] for i in sent["CFItems"]]
    assert [i["fullStatement"] for i in package["CFItems"]] == [i["fullStatement"] for i in sent["CFItems"]]
    assert [i.get("humanCodingScheme") for i in package["CFItems"]] == [
        i.get("humanCodingScheme") for i in sent["CFItems"]]  # A.1.a stays A.1.a; no code is made up
    assert [(a["identifier"], a["associationType"], a["originNodeURI"]["identifier"],
             a["destinationNodeURI"]["identifier"], a.get("sequenceNumber")) for a in package["CFAssociations"]] == [
        (a["identifier"], a["associationType"], a["originNodeURI"]["identifier"],
         a["destinationNodeURI"]["identifier"], int(a["sequenceNumber"]) if "sequenceNumber" in a else None)
        for a in sent["CFAssociations"]]
    assert [a["destinationNodeURI"]["uri"] for a in package["CFAssociations"] if
            a["destinationNodeURI"]["identifier"] == EXTERNAL] == [EXTERNAL]  # outside the package: as given
    assert substance(package["CFDefinitions"]) == substance(sent["CFDefinitions"])
    assert substance(package["CFRubrics"])[0]["CFRubricCriteria"][0]["CFRubricCriterionLevels"] == substance(
        sent["CFRubrics"])[0]["CFRubricCriteria"][0]["CFRubricCriterionLevels"]
    document = package["CFDocument"]
    assert (document["title"], document["creator"], document["version"], document["lastChangeDateTime"]) == (
        "Deep framework ∑", "Example Awarding Org", "3.1", "2025-01-02T03:04:05Z")  # as given
    assert package["CFItems"][0]["lastChangeDateTime"] == "2025-01-02T03:04:05+00:00"  # no zone given: UTC
    assert all(r["uri"].startswith("http://localhost/ims/case/v1p1/") for r in package["CFItems"])


def test_every_member_is_served_alone_as_the_binding_describes(client, auth):
    imported(client, auth)
    publish(client, auth, DOC)
    listed = valid(client.get(f"{BASE}/CFDocuments"), "getallcfdocuments")["CFDocuments"]
    assert [d["identifier"] for d in listed].count(DOC) == 1
    alone = valid(client.get(f"{BASE}/CFDocuments/{DOC}"), "getcfdocument")
    assert alone["CFPackageURI"]["identifier"] == DOC
    in_package = valid(client.get(f"{BASE}/CFPackages/{DOC}"), "getcfpackage")["CFDocument"]
    assert [d for d in listed if d["identifier"] == DOC] == [alone] == [{**in_package, "CFPackageURI": alone[
        "CFPackageURI"]}]  # listed, alone and in its package alike: links to its own licence and subject served here
    assert alone["licenseURI"]["uri"] == f"http://localhost/ims/case/v1p1/CFLicenses/{LICENCE}"
    item = valid(client.get(f"{BASE}/CFItems/{DEEPER}"), "getcfitem")
    assert (item["fullStatement"], item["CFDocumentURI"]["identifier"]) == ("Fourth level", DOC)
    shared = valid(client.get(f"{BASE}/CFItemAssociations/{SHARED}"), "getcfitemassociations")
    assert sorted(a["associationType"] for a in shared["CFAssociations"]) == [
        "isChildOf", "isChildOf", "isRelatedTo", "precedes"]
    association = framework()["CFAssociations"][8]
    assert valid(client.get(f"{BASE}/CFAssociations/{association['identifier']}"),
                 "getcfassociation")["notes"] == "an exemplar"
    assert valid(client.get(f"{BASE}/CFItemTypes/{TYPE}"), "getcfitemtype")["CFItemTypes"][0]["title"] == "Domain"
    assert valid(client.get(f"{BASE}/CFConcepts/{CONCEPT}"), "getcfconcept")["CFConcepts"][0]["keywords"] == "care"
    assert valid(client.get(f"{BASE}/CFSubjects/{SUBJECT}"), "getcfsubject")["CFSubjects"][0]["title"] == "Care"
    assert valid(client.get(f"{BASE}/CFLicenses/{LICENCE}"), "getcflicense")["licenseText"] == "Use freely."
    assert valid(client.get(f"{BASE}/CFAssociationGroupings/{GROUPING}"), "getcfassociationgrouping")["title"] == "G"
    rubric = valid(client.get(f"{BASE}/CFRubrics/{RUBRIC}"), "getcfrubric")
    assert rubric["CFRubricCriteria"][0]["CFItemURI"]["uri"] == f"http://localhost/ims/case/v1p1/CFItems/{MID}"


def test_reimporting_changes_nothing_and_a_changed_package_is_a_new_version(client, auth):
    assert imported(client, auth)["framework"]["outcome"] == "created"
    assert imported(client, auth)["framework"]["outcome"] == "unchanged"
    edited = framework()
    edited["CFItems"][4]["fullStatement"] = "Fourth level, reworded"
    assert imported(client, auth, edited)["framework"] == {  # the draft is edited in place
        "identifier": DOC, "version": 1, "status": "draft", "outcome": "updated", "href": f"/v1/frameworks/{DOC}"}
    publish(client, auth, DOC)
    again = framework()
    again["CFItems"][4]["fullStatement"] = "Fourth level, third wording"
    assert imported(client, auth, again)["framework"]["version"] == 2  # a new draft; version 1 is still served
    assert client.get(f"{BASE}/CFItems/{DEEPER}").get_json()["fullStatement"] == "Fourth level, reworded"
    body = publish(client, auth, DOC)
    assert (body["served_version"], [v["status"] for v in body["versions"]]) == (2, ["published", "published"])
    assert client.get(f"{BASE}/CFItems/{DEEPER}").get_json()["fullStatement"] == "Fourth level, third wording"
    assert publish(client, auth, DOC)["changed"] is False  # nothing left to publish
    changes = client.get(f"/v1/frameworks/{DOC}/versions/1/diff/2").get_json()
    assert changes["CFItems"] == {"added": [], "removed": [],
                                  "changed": [{"identifier": DEEPER, "fields": ["fullStatement"]}]}
    assert changes["CFAssociations"] == {"added": [], "removed": [], "changed": []} and changes["document"] == []
    assert client.get(f"/v1/frameworks/{DOC}/versions/1/diff/3").status_code == 404


def test_a_withdrawn_framework_is_served_no_more(client, auth):
    imported(client, auth)
    publish(client, auth, DOC)
    withdrawn = client.post(f"/v1/frameworks/{DOC}/withdraw", headers=auth("author_ocr"))
    assert withdrawn.status_code == 200 and withdrawn.get_json()["served_version"] is None
    assert client.get(f"{BASE}/CFPackages/{DOC}").status_code == 404
    assert client.get(f"{BASE}/CFItems/{MID}").status_code == 404
    assert DOC not in [d["identifier"] for d in client.get(f"{BASE}/CFDocuments").get_json()["CFDocuments"]]
    assert client.get(f"/v1/frameworks/{DOC}").status_code == 404  # only its writers see it now
    assert client.get(f"/v1/frameworks/{DOC}", headers=auth("author_ocr")).get_json()["status"] == "withdrawn"


def test_a_draft_framework_is_seen_only_by_those_who_may_change_it(client, auth):
    imported(client, auth)
    assert client.get(f"/v1/frameworks/{DOC}", headers=auth("author_ocr")).status_code == 200
    for caller in (None, "author_skills_cfa", "assessor_a"):
        assert client.get(f"/v1/frameworks/{DOC}", headers=auth(caller)).status_code == 404
    assert client.post(f"/v1/frameworks/{DOC}/publish", headers=auth("author_skills_cfa")).status_code == 404


def test_another_body_cannot_take_a_framework_over(client, auth):
    imported(client, auth)
    response = client.post("/v1/imports/case?awarding_body=skills-cfa", json=framework(), headers=auth("admin"))
    assert response.status_code == 409 and "held by OCR" in response.get_json()["detail"]


def test_fields_case_does_not_define_are_listed_and_nulls_are_not_given(client, auth):
    package = framework()
    package["CFItems"][0] |= {"vendorScore": 7, "notes": None, "statusStartDate": "",  # "" for a date: not given
                              "CFDocumentURI": {"identifier": DOC}}  # what the package implies: not listed
    package["CFAssociations"][0]["CFDocumentURI"] = {"identifier": DOC}
    package["CFDocument"] |= {"x-internal": "yes", "CFPackageURI": {"identifier": DOC}}
    answer = imported(client, auth, package)
    assert answer["fields_not_kept"] == ["$.CFDocument.x-internal", "$.CFItems[0].vendorScore"]


def nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"x": value}
    return value


def test_a_body_too_deep_to_read_is_a_400(client, auth):
    body = '{"CFDocument": ' + '{"x": ' * 5000 + "1" + "}" * 5000 + "}"
    response = client.post("/v1/imports/case?awarding_body=ocr", data=body, content_type="application/json",
                           headers=auth("author_ocr"))
    assert response.status_code == 400 and "not valid JSON" in response.get_json()["detail"]


@pytest.mark.parametrize(("change", "path"), [
    (lambda p: p["CFDocument"].pop("creator"), "$.CFDocument"),
    (lambda p: p["CFItems"][2].update(educationLevel="09"), "$.CFItems[2].educationLevel"),
    (lambda p: p["CFAssociations"][7].update(associationType="worksWith"), "$.CFAssociations[7].associationType"),
    (lambda p: p["CFDefinitions"]["CFLicenses"][0].pop("licenseText"), "$.CFDefinitions.CFLicenses[0]"),
    (lambda p: p["CFDefinitions"]["CFSubjects"].append(copy.deepcopy(p["CFDefinitions"]["CFSubjects"][0])),
     "$.CFDefinitions.CFSubjects[1].identifier"),
    (lambda p: p["CFDocument"].update(title="T" * 100_000), "$.CFDocument.title"),
    (lambda p: p["CFItems"][4].update(fullStatement="x" * 10_001), "$.CFItems[4].fullStatement"),
    (lambda p: p["CFItems"][2].update(notes="a\u0000b"), "$.CFItems[2].notes"),
    (lambda p: p["CFAssociations"][8]["extensions"].update({"k\u0007": 1}) if "extensions" in p["CFAssociations"][8]
     else p["CFAssociations"][8].update(extensions={"k\u0007": 1}), "$.CFAssociations[8].extensions (a key)"),
    (lambda p: p["CFItems"][0].update(extensions=nested(100)), "$.CFItems[0].extensions" + ".x" * 29),
    (lambda p: p["CFRubrics"][0].update(CFRubricCriteria="several"), "$.CFRubrics[0].CFRubricCriteria"),
])
def test_a_package_that_would_not_be_valid_case_is_refused_at_its_path(client, auth, change, path):
    package = framework()
    change(package)
    response = import_case(client, auth, package)
    assert response.status_code == 422 and path in response.get_json()["errors"], response.get_json()
    assert client.get(f"/v1/frameworks/{DOC}", headers=auth("author_ocr")).status_code == 404  # nothing written


def test_an_integer_beyond_64_bits_is_kept_as_the_cli_reads_it(database):
    """The CLI reads a file with Python's json (integers of any size); the stored package and its digest keep them."""
    from api.services.common.access import Principal
    from api.services.interop import case_import

    package = framework()
    package["CFAssociations"][2]["sequenceNumber"] = 10**30
    admin = Principal(kind="account", id=uuid.uuid4(), roles=frozenset({"admin"}))
    assert case_import.import_package(admin, package, "ocr")["framework"]["outcome"] == "created"
    assert case_import.import_package(admin, package, "ocr")["framework"]["outcome"] == "unchanged"


def test_each_change_of_a_framework_is_in_the_change_feed(client, auth):
    start = client.get("/v1/changes?limit=500", headers=auth("author_ocr")).get_json()["next_cursor"]
    imported(client, auth)
    edited = framework()
    edited["CFItems"][4]["fullStatement"] = "Fourth level, reworded"
    imported(client, auth, edited)
    publish(client, auth, DOC)
    assert client.post(f"/v1/frameworks/{DOC}/withdraw", headers=auth("author_ocr")).status_code == 200

    def feed(caller):
        items = client.get(f"/v1/changes?since={start}&limit=500", headers=auth(caller)).get_json()["items"]
        return [(i["action"], i["version"], i["status"]) for i in items if i["kind"] == "framework"]

    assert feed("author_ocr") == [("created", 1, "draft"), ("draft_edited", 1, "draft"),
                                  ("published", 1, "published"), ("withdrawn", 1, "withdrawn")]
    assert feed("author_skills_cfa") == [("published", 1, "published")]  # others see what was published only
    entry = next(i for i in client.get(f"/v1/changes?since={start}&limit=500").get_json()["items"]
                 if i["kind"] == "framework")
    assert (entry["framework_id"], entry["unit_id"], entry["code"], entry["href"]) == (
        DOC, None, None, f"/v1/frameworks/{DOC}")


def test_a_framework_cannot_stand_in_for_another_bodys_content(client, auth, content_ids):
    """The provider serves a framework kept whole before what it builds from units, so a framework may not take the
    identifier of another body's unit suite, nor hold another body's unit, outcome or criterion as an item."""
    from api.models import AwardingBody
    from api.services.interop.case import suite_id

    suite = framework()
    suite["CFDocument"]["identifier"] = suite_id(AwardingBody.get(AwardingBody.slug == "skills-cfa"))
    for association in suite["CFAssociations"][:2]:
        association["destinationNodeURI"]["identifier"] = suite["CFDocument"]["identifier"]
    response = import_case(client, auth, suite)
    assert response.status_code == 409 and "Skills CFA" in response.get_json()["detail"]
    borrowed = framework()
    borrowed["CFItems"][4]["identifier"] = content_ids["CS 34"]  # Skills CFA's unit, as our provider names it
    for association in borrowed["CFAssociations"]:
        for end in ("originNodeURI", "destinationNodeURI"):
            if association[end]["identifier"] == DEEPER:
                association[end]["identifier"] = content_ids["CS 34"]
    response = import_case(client, auth, borrowed)
    assert response.status_code == 409 and content_ids["CS 34"] in response.get_json()["detail"]
    assert client.get(f"/v1/frameworks/{DOC}", headers=auth("author_ocr")).status_code == 404  # nothing kept
    imported(client, auth)  # OCR's framework; Skills CFA's own framework may not hold one of its items
    theirs = {"CFDocument": {"identifier": str(uuid.uuid4()), "title": "Another", "creator": "Skills CFA"},
              "CFItems": [{"identifier": DEEPER, "fullStatement": "Borrowed"}]}
    response = client.post("/v1/imports/case?awarding_body=skills-cfa", json=theirs, headers=auth("admin"))
    assert response.status_code == 409 and DEEPER in response.get_json()["detail"]
