"""Every text of a unit document and of a CASE package has a length limit and may hold no control character. The
limits are in schema/ (so data files obey them as well as drafts sent to the API), and a CASE import is held to the
same limits, each problem named by its JSON path in the package. Nothing is written when anything is refused."""

import copy

import pytest

from api.models import ALL_MODELS, UnitVersion
from api.services.content.loader import load_path
from tests.conftest import write_yaml
from tests.test_case_import import foreign_package, import_case
from tests.test_sync import cs34_document

TOO_LONG = "a" * 10_001  # over every text limit (prose: 10,000 characters)
HOSTILE = {"too long": TOO_LONG, "a NUL byte": "ok\x00ok", "a control character": "ok\x1bok"}


def row_counts() -> tuple:
    return tuple(model.select().count() for model in ALL_MODELS)


def string_leaves(value, path="$"):
    """(JSON path, string) for every string in a document, as jsonschema names paths."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from string_leaves(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from string_leaves(item, f"{path}[{index}]")
    elif isinstance(value, str):
        yield path, value


def replaced(document, path: str, new):
    """A copy of ``document`` with the value at ``path`` (as string_leaves names it) replaced by ``new``."""
    document = copy.deepcopy(document)
    parts = [p for p in path[2:].replace("[", ".[").split(".") if p]
    target = document
    for part in parts[:-1]:
        target = target[int(part[1:-1])] if part.startswith("[") else target[part]
    last = parts[-1]
    target[int(last[1:-1]) if last.startswith("[") else last] = new
    return document


def full_draft() -> dict:
    """CS 34 as a draft, with the optional texts a unit document may carry filled in."""
    document = cs34_document() | {"status": "draft", "code_label": "Skills CFA Reference", "purpose": "p",
                                  "availability": "a", "assessment": "as", "assessment_guidance": "g",
                                  "unit_reference_number": "R/1", "level_as_written": "Level 3"}
    document["learning_outcomes"][0]["note"] = "n"
    document["learning_outcomes"][0]["criteria"][0] |= {"note": "n", "number_as_written": "1.1 (a)"}
    return document


def with_every_string(document, value):
    """A copy of ``document`` with every string in it (but its kind) replaced by ``value``."""
    for path, _ in string_leaves(document):
        if path != "$.kind":
            document = replaced(document, path, value)
    return document


@pytest.mark.parametrize("hostile", HOSTILE)
def test_every_text_of_a_unit_draft_is_bounded_and_free_of_control_characters(client, auth, unit_ids, hostile):
    """Each string of a full unit document, all at once: every one of them is named, none is echoed back."""
    url, admin = f"/v1/units/{unit_ids['CS 34']}/draft", auth("admin")
    document = full_draft()
    leaves = [path for path, _ in string_leaves(document) if path != "$.kind"]
    assert len(leaves) > 50
    before = row_counts()
    response = client.put(url, json=with_every_string(document, HOSTILE[hostile]), headers=admin)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert set(leaves) <= set(response.get_json()["errors"]), set(leaves) - set(response.get_json()["errors"])
    assert len(response.get_data()) < 30 * len(leaves) + 200 * len(leaves)  # limits named, values not echoed
    assert row_counts() == before


@pytest.mark.parametrize(("path", "value"), [
    ("$.title", "t" * 1_000_000), ("$.title", "Plan\x00"), ("$.learning_outcomes[0].criteria[0].note", "n" * 10_001),
    ("$.learning_outcomes[0].criteria[0].text", "NUL \x00 here"), ("$.learning_outcomes[0].title", "t" * 501),
    ("$.purpose", "p" * 10_001), ("$.notes[0].text", "bell \x07"),
])
def test_one_bad_text_is_enough_to_refuse_a_draft(client, auth, unit_ids, path, value):
    before = row_counts()
    document = full_draft() | {"notes": [{"about": "x", "text": "y"}]}
    response = client.put(f"/v1/units/{unit_ids['CS 34']}/draft", json=replaced(document, path, value),
                          headers=auth("admin"))
    assert response.status_code == 422 and list(response.get_json()["errors"]) == [path], response.get_json()
    assert len(response.get_data()) < 2000
    assert row_counts() == before


@pytest.mark.parametrize(("change", "path"), [
    ({"credit_value": 10**12}, "$.credit_value"),
    ({"glh": 2**40}, "$.glh"),
    ({"learning_outcomes": [{"number": "1" * 20, "title": "t", "kind": "knowledge", "criteria": []}]},
     "$.learning_outcomes[0].number"),
    ({"learning_outcomes": [{"number": str(i), "title": "t", "kind": "knowledge", "criteria": []}
                            for i in range(1, 502)]}, "$.learning_outcomes"),
])
def test_numbers_and_lists_of_a_unit_draft_are_bounded(client, auth, unit_ids, change, path):
    before = row_counts()
    response = client.put(f"/v1/units/{unit_ids['CS 34']}/draft", json=full_draft() | change, headers=auth("admin"))
    assert response.status_code == 422 and path in response.get_json()["errors"], response.get_json()
    assert row_counts() == before


def test_data_files_obey_the_same_limits(database, tmp_path):
    long_title = write_yaml(tmp_path, "long.yaml", f"""kind: unit
owner: ocr
code: LONG 1
title: {"t" * 501}
status: draft
level: 2
learning_outcomes: []
source: {{document: s}}
""")
    nul = write_yaml(tmp_path, "nul.yaml", long_title.read_text().replace("t" * 501, '"NUL \\0 here"')
                     .replace("LONG 1", "NUL 1"))
    for path, expected in ((long_title, "at most 500"), (nul, "control character")):
        versions = UnitVersion.select().count()
        report = load_path(path)
        assert not report.ok and [(p.path, expected in p.message) for p in report.problems] == [("$.title", True)]
        assert UnitVersion.select().count() == versions


# -- CASE imports ---------------------------------------------------------------------------------------------------

def case_text_paths(package: dict) -> list[str]:
    """The package's texts that become unit text: statements, codes, the framework's title and creator."""
    paths = ["$.CFDocument.title", "$.CFDocument.creator"]
    for index, item in enumerate(package["CFItems"]):
        paths.append(f"$.CFItems[{index}].fullStatement")
        if item.get("humanCodingScheme"):
            paths.append(f"$.CFItems[{index}].humanCodingScheme")
    return paths


def test_every_text_of_a_case_package_is_held_to_the_unit_limits(client, auth):
    package = foreign_package()
    before = row_counts()
    for path in case_text_paths(package):
        for name, value in HOSTILE.items():
            response = import_case(client, auth, replaced(package, path, value))
            assert response.status_code == 422, (path, name, response.status_code)
            assert path in response.get_json()["errors"], (path, name, response.get_json()["errors"])
            assert len(response.get_data()) < 10_000
    assert row_counts() == before


@pytest.mark.parametrize(("change", "path"), [
    (lambda p: p | {"CFItems": 5}, "$.CFItems"),
    (lambda p: p | {"CFAssociations": "x"}, "$.CFAssociations"),
    (lambda p: replaced(p, "$.CFItems[0].humanCodingScheme", {"a": 1}), "$.CFItems[0].humanCodingScheme"),
    (lambda p: replaced(p, "$.CFItems[1].fullStatement", ["x"]), "$.CFItems[1].fullStatement"),
    (lambda p: replaced(p, "$.CFDocument.title", 5), "$.CFDocument.title"),
    (lambda p: p | {"CFItems": p["CFItems"][:-1]}, "$.CFAssociations[5].originNodeURI"),
    (lambda p: replaced(p, "$.CFItems[1].humanCodingScheme", "x" * 201),
     "$.CFItems[1].humanCodingScheme"),  # an outcome's own numbering, kept as number_as_written
])
def test_malformed_case_packages_are_refused_at_their_path(client, auth, change, path):
    before = row_counts()
    response = import_case(client, auth, change(foreign_package()))
    assert response.status_code == 422, response.get_data(as_text=True)[:500]
    assert path in response.get_json()["errors"], response.get_json()
    assert row_counts() == before


def test_odd_sequence_numbers_are_read_as_last_not_a_failure(client, auth):
    package = foreign_package()
    for association in package["CFAssociations"]:
        association["sequenceNumber"] = "²"
    response = import_case(client, auth, package)
    assert response.status_code == 200, response.get_json()
    assert [(u["code"], u["outcome"]) for u in response.get_json()["units"]] == [("CC 1", "created")]
