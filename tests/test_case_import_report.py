"""A CASE import accounts for every item and association of the package (what it became in a unit, or, kept in the
framework only, why it is in no unit), never merges two items into one unit, never overwrites a unit that holds
another item, and refuses references that do not hold (422 at the JSON path, never a 500 or a silent drop)."""

import copy
import uuid

import pytest

from api.models import AwardingBody
from api.services.interop.case import suite_id
from tests.test_case_import import import_case

DOC = str(uuid.uuid4())


def item(identifier: str, text: str, code: str | None = None) -> dict:
    return {"identifier": identifier, "fullStatement": text, **({"humanCodingScheme": code} if code else {})}


def link(kind: str, origin: str, destination: str, sequence: int | None = None) -> dict:
    return {"identifier": str(uuid.uuid4()), "associationType": kind, "originNodeURI": {"identifier": origin},
            "destinationNodeURI": {"identifier": destination},
            **({"sequenceNumber": sequence} if sequence is not None else {})}


def package(units: int = 1, code_of=lambda n: f"RPT {n}") -> dict:
    """A framework of ``units`` units, each with one outcome of two criteria; ids in ``package()["ids"]``."""
    items, associations, ids = [], [], []
    for n in range(units):
        unit, outcome, c1, c2 = (str(uuid.uuid4()) for _ in range(4))
        ids.append((unit, outcome, c1, c2))
        items += [item(unit, f"Unit {n}", code_of(n)), item(outcome, f"Outcome of unit {n}"),
                  item(c1, f"First criterion of unit {n}"), item(c2, f"Second criterion of unit {n}")]
        associations += [link("isChildOf", unit, DOC, n + 1), link("isChildOf", outcome, unit, 1),
                         link("isChildOf", c1, outcome, 1), link("isChildOf", c2, outcome, 2)]
    return {"CFDocument": {"identifier": DOC, "title": "Report framework", "creator": "Example"},
            "CFItems": items, "CFAssociations": associations, "ids": ids}


def sent(framework: dict) -> dict:
    return {k: v for k, v in framework.items() if k != "ids"}


def refused(client, auth, framework: dict, path: str | None, words: str) -> None:
    """A 422 with ``words`` in a message at ``path`` (None: at any path)."""
    response = import_case(client, auth, sent(framework))
    assert response.status_code == 422 and response.mimetype == "application/problem+json", response.get_json()
    errors = response.get_json()["errors"]
    found = [m for at, messages in errors.items() if path in (None, at) for m in messages]
    assert any(words in message for message in found), response.get_json()


def test_a_package_that_fits_is_accounted_for_item_by_item(client, auth):
    framework = package()
    body = import_case(client, auth, sent(framework)).get_json()
    unit, outcome, c1, c2 = framework["ids"][0]
    assert [(i["identifier"], i["path"], i["kept_as"], i["unit_code"]) for i in body["items"]] == [
        (unit, "$.CFItems[0]", "unit", "RPT 0"), (outcome, "$.CFItems[1]", "learning_outcome", "RPT 0"),
        (c1, "$.CFItems[2]", "assessment_criterion", "RPT 0"), (c2, "$.CFItems[3]", "assessment_criterion", "RPT 0")]
    assert [a["kept_as"] for a in body["associations"]] == ["hierarchy"] * 4
    assert body["outside_units"] == body["not_kept"] == {"items": 0, "associations": 0}


def test_what_units_cannot_hold_is_kept_in_the_framework_with_the_reason(client, auth):
    framework = package()
    unit, outcome, c1, c2 = framework["ids"][0]
    deep, deeper, orphan, two_parents = (str(uuid.uuid4()) for _ in range(4))
    standard = client.get("/v1/standards?limit=1").get_json()["items"][0]["id"]
    framework["CFItems"] += [item(deep, "Under a criterion"), item(deeper, "Under that"), item(orphan, "Alone"),
                             item(two_parents, "Shared")]
    framework["CFAssociations"] += [
        link("isChildOf", deep, c1, 1), link("isChildOf", deeper, deep, 1),
        link("isChildOf", two_parents, c1, 2), link("isChildOf", two_parents, c2, 1),
        link("precedes", c1, c2), link("exactMatchOf", c2, str(uuid.uuid4())), link("isRelatedTo", c2, standard)]
    response = import_case(client, auth, sent(framework))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    reasons = {i["identifier"]: i.get("reason") for i in body["items"] if i["kept_as"] == "framework"}
    assert set(reasons) == {deep, deeper, orphan, two_parents}
    assert "nested deeper than 3 levels" in reasons[deep] and "not kept" in reasons[deeper]
    assert "not under the CFDocument" in reasons[orphan] and "2 parents" in reasons[two_parents]
    kinds = [(a["association_type"], a["kept_as"]) for a in body["associations"]]
    assert kinds[4:] == [("isChildOf", "framework")] * 4 + [("precedes", "framework"), ("exactMatchOf", "framework"),
                                                           ("isRelatedTo", "nos_mapping")]
    assert body["outside_units"] == {"items": 4, "associations": 6} and body["not_kept"] == {"items": 0,
                                                                                              "associations": 0}
    assert all(a["reason"] for a in body["associations"] if a["kept_as"] == "framework")
    draft = client.get(f"/v1/units/{body['units'][0]['unit_id']}?status=draft", headers=auth("author_ocr")).get_json()
    assert [c["text"] for c in draft["learning_outcomes"][0]["criteria"]] == ["First criterion of unit 0",
                                                                              "Second criterion of unit 0"]
    second = draft["learning_outcomes"][0]["criteria"][1]["id"]
    assert [(m["standard"]["id"], m["strength"], m["criterion_id"]) for m in draft["mappings"]] == [
        (standard, "partial", second)]


def test_items_without_codes_never_become_one_unit(client, auth):
    framework = package(units=3, code_of=lambda n: None)
    body = import_case(client, auth, sent(framework)).get_json()
    assert [u["code"] for u in body["units"]] == [ids[0] for ids in framework["ids"]]  # each its own identifier
    assert len({u["unit_id"] for u in body["units"]}) == 3


def test_two_units_with_one_code_are_refused(client, auth):
    refused(client, auth, package(units=2, code_of=lambda n: "SAME"), "$.CFItems[4].humanCodingScheme",
            "is also the code of $.CFItems[0]")


def test_a_unit_holding_another_frameworks_item_is_not_overwritten(client, auth):
    first = import_case(client, auth, sent(package(code_of=lambda n: "TAKEN")))
    assert first.status_code == 200
    other = package(code_of=lambda n: "TAKEN")
    other["CFDocument"]["identifier"] = str(uuid.uuid4())
    for association in other["CFAssociations"][:1]:
        association["destinationNodeURI"] = {"identifier": other["CFDocument"]["identifier"]}
    refused(client, auth, other, "$.CFItems[0].humanCodingScheme", "importing would overwrite it")
    unit = first.get_json()["units"][0]["unit_id"]
    draft = client.get(f"/v1/units/{unit}?status=draft", headers=auth("author_ocr")).get_json()
    assert draft["learning_outcomes"][0]["title"] == "Outcome of unit 0"  # the first framework's, untouched


@pytest.mark.parametrize(("change", "path", "words"), [
    (lambda f: f["CFItems"].append(copy.deepcopy(f["CFItems"][1])), "$.CFItems[4].identifier",
     "is also the identifier of $.CFItems[1]"),
    (lambda f: f["CFAssociations"].append(copy.deepcopy(f["CFAssociations"][2])),
     "$.CFAssociations[4].identifier", "is also the identifier of $.CFAssociations[2]"),
    (lambda f: f["CFAssociations"][3].update(destinationNodeURI={"identifier": str(uuid.uuid4())}),
     "$.CFAssociations[3].destinationNodeURI", "neither in CFItems nor the CFDocument"),
    (lambda f: f["CFAssociations"][3].update(originNodeURI=f"https://elsewhere.example/CFItems/{uuid.uuid4()}"),
     "$.CFAssociations[3].originNodeURI", "is not in CFItems"),
    (lambda f: f["CFItems"][2].update(identifier=DOC), "$.CFItems[2].identifier",
     "is also the identifier of $.CFDocument"),
    (lambda f: f["CFAssociations"].append(link("isChildOf", f["ids"][0][1], f["ids"][0][3])), None,
     "closes a cycle"),  # the outcome under its own criterion: refused at one of the cycle's links
])
def test_references_that_do_not_hold_are_refused_at_their_path(client, auth, change, path, words):
    framework = package()
    change(framework)
    refused(client, auth, framework, path, words)


def test_a_framework_with_no_unit_shape_is_kept_as_a_framework_only(client, auth):
    framework = package()
    unit = framework["ids"][0][0]
    framework["CFAssociations"].append(link("isChildOf", unit, DOC, 2))  # under the document twice: two parents
    body = import_case(client, auth, sent(framework)).get_json()
    assert body["units"] == [] and body["framework"]["outcome"] == "created"
    assert "2 parents" in body["items"][0]["reason"] and body["outside_units"]["items"] == 4


def test_the_bodys_own_unit_suite_with_nothing_of_unit_shape_is_refused_saying_why(client, auth):
    """Our own suite comes back as its units only (no framework is kept for it), so it must hold some."""
    framework = package()
    suite = suite_id(AwardingBody.get(AwardingBody.slug == "ocr"))
    framework["CFDocument"]["identifier"] = suite
    framework["CFAssociations"][0]["destinationNodeURI"] = {"identifier": suite}
    unit = framework["ids"][0][0]
    framework["CFAssociations"].append(link("isChildOf", unit, suite, 2))
    refused(client, auth, framework, "$.CFItems[0]", "2 parents")
