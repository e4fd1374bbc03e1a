"""load-units: validation with file + JSON path messages, nothing loaded from a bad file, idempotent reloads,
new versions for changed published units."""

import copy
import json

import pytest
import yaml

from api.models import ALL_MODELS, AssessmentCriterion, Unit, UnitVersion
from api.services.content.loader import load_path
from tests.conftest import UNITS_DIR, write_yaml

CS34 = yaml.safe_load((UNITS_DIR / "skills-cfa-cs-34.yaml").read_text(encoding="utf-8"))


def unit_yaml(**changes) -> str:
    """A small valid unit document (owner skills-cfa), with top-level ``changes`` applied."""
    doc = {
        "kind": "unit", "owner": "skills-cfa", "code": "TEST 1", "title": "A test unit", "status": "published",
        "level": 2, "source": {"document": "tests"},
        "learning_outcomes": [{"number": "1", "title": "Know things", "kind": "knowledge",
                               "evidence": {"types": ["questioning"]},
                               "criteria": [{"number": "1.1", "text": "describe a thing"},
                                            {"number": "1.2", "text": "explain a thing"}]}],
    }
    doc.update(changes)
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def row_counts() -> dict:
    return {model.__name__: model.select().count() for model in ALL_MODELS}


def outcomes_with(criteria: list, **outcome) -> list:
    return [{"number": "1", "title": "Know things", "kind": "knowledge", "criteria": criteria, **outcome}]


BAD_FILES = {
    "missing field": (unit_yaml().replace("title: A test unit\n", ""), "$", "'title' is a required property"),
    "wrong type": (unit_yaml(level="four"), "$.level", "'four' is not of type"),
    "duplicate criterion number": (
        unit_yaml(learning_outcomes=outcomes_with([{"number": "1.1", "text": "a"}, {"number": "1.1", "text": "b"}])),
        "$.learning_outcomes[0].criteria[1].number", "duplicate assessment criterion number '1.1'"),
    "duplicate outcome number": (
        unit_yaml(learning_outcomes=outcomes_with([]) + outcomes_with([])),
        "$.learning_outcomes[1].number", "duplicate learning outcome number '1'"),
    "criterion under the wrong outcome": (
        unit_yaml(learning_outcomes=outcomes_with([{"number": "2.1", "text": "a"}])),
        "$.learning_outcomes[0].criteria[0].number", "not numbered under its outcome"),
    "unknown evidence type": (
        unit_yaml(learning_outcomes=outcomes_with([], evidence={"types": ["telepathy"]})),
        "$.learning_outcomes[0].evidence.types[0]", "unknown evidence type 'telepathy'"),
    "unknown owner": (unit_yaml(owner="nobody"), "$.owner", "unknown awarding body 'nobody'"),
    "unknown standard": (
        unit_yaml(nos_mappings=[{"standard": "no-such-standard", "strength": "full"}]),
        "$.nos_mappings[0].standard", "unknown standard 'no-such-standard'"),
    "unknown field": (unit_yaml(colour="blue"), "$", "Additional properties are not allowed ('colour'"),
    "bad status": (unit_yaml(status="live"), "$.status", "'live' is not one of"),
    "not YAML": ("kind: unit\ntitle: [unclosed\n", "$", "not valid YAML"),
    "unknown kind": ("kind: recipe\n", "$.kind", "must be one of"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_invalid_file_is_reported_with_file_and_path_and_nothing_is_loaded(database, tmp_path, case):
    text, json_path, message = BAD_FILES[case]
    path = write_yaml(tmp_path, "bad.yaml", text)
    before = row_counts()
    report = load_path(tmp_path)
    assert report.outcomes == {str(path): "invalid"}
    assert any(p.file == str(path) and p.path == json_path and message in p.message for p in report.problems), \
        [str(p) for p in report.problems]
    assert row_counts() == before


def test_non_utf8_file_is_rejected(database, tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(unit_yaml(title="Caf\u00e9").encode("latin-1"))
    report = load_path(tmp_path)
    assert report.outcomes == {str(path): "invalid"}
    assert "not UTF-8" in report.problems[0].message


def test_good_files_load_beside_a_bad_one(database, tmp_path):
    write_yaml(tmp_path, "a-good.yaml", unit_yaml())
    write_yaml(tmp_path, "b-bad.yaml", unit_yaml(code="TEST 2", level="x"))
    report = load_path(tmp_path)
    assert sorted(report.outcomes.values()) == ["created", "invalid"]
    assert {u.code for u in Unit.select().where(Unit.code.startswith("TEST"))} == {"TEST 1"}


def test_loading_data_units_again_changes_nothing(database):
    before = row_counts()
    etags = {v.id: v.etag for v in UnitVersion.select()}
    report = load_path(UNITS_DIR)
    assert report.ok
    assert set(report.outcomes.values()) == {"unchanged"}
    assert row_counts() == before
    assert {v.id: v.etag for v in UnitVersion.select()} == etags


def test_same_unit_in_two_files_is_rejected(database, tmp_path):
    write_yaml(tmp_path, "one.yaml", unit_yaml())
    second = write_yaml(tmp_path, "two.yaml", unit_yaml(title="Other"))
    report = load_path(tmp_path)
    assert report.outcomes[str(second)] == "invalid"
    assert "also defined in" in report.problems[0].message


def test_changed_published_unit_becomes_a_new_version_and_keeps_the_old(database, client, tmp_path):
    write_yaml(tmp_path, "unit.yaml", unit_yaml())
    assert load_path(tmp_path).outcomes == {str(tmp_path / "unit.yaml"): "created"}
    revised = unit_yaml(learning_outcomes=outcomes_with([{"number": "1.1", "text": "describe a thing"},
                                                         {"number": "1.2", "text": "explain two things"}]))
    write_yaml(tmp_path, "unit.yaml", revised)
    assert load_path(tmp_path).outcomes == {str(tmp_path / "unit.yaml"): "updated"}
    unit_id = Unit.get(Unit.code == "TEST 1").id
    versions = client.get(f"/v1/units/{unit_id}/versions").get_json()["items"]
    assert [(v["number"], v["is_head"]) for v in versions] == [(2, True), (1, False)]
    old = client.get(f"/v1/units/{unit_id}/versions/1").get_json()
    new = client.get(f"/v1/units/{unit_id}").get_json()
    assert old["learning_outcomes"][0]["criteria"][1]["text"] == "explain a thing"
    assert new["version"] == 2 and new["learning_outcomes"][0]["criteria"][1]["text"] == "explain two things"


def test_changed_draft_is_edited_in_place(database, tmp_path):
    write_yaml(tmp_path, "unit.yaml", unit_yaml(status="draft"))
    load_path(tmp_path)
    write_yaml(tmp_path, "unit.yaml", unit_yaml(status="draft", title="Renamed"))
    assert set(load_path(tmp_path).outcomes.values()) == {"updated"}
    versions = list(UnitVersion.select().join(Unit).where(Unit.code == "TEST 1"))
    assert [(v.number, v.status, v.title) for v in versions] == [(1, "draft", "Renamed")]
    assert AssessmentCriterion.select().where(AssessmentCriterion.version == versions[0].id).count() == 2


def test_publishing_a_draft_through_the_file_keeps_its_version(database, tmp_path):
    write_yaml(tmp_path, "unit.yaml", unit_yaml(status="draft"))
    load_path(tmp_path)
    write_yaml(tmp_path, "unit.yaml", unit_yaml(status="published"))
    load_path(tmp_path)
    versions = list(UnitVersion.select().join(Unit).where(Unit.code == "TEST 1"))
    assert [(v.number, v.status, v.published_at is not None) for v in versions] == [(1, "published", True)]


def test_whole_cs34_roundtrips_through_the_loader(database, client, unit_ids):
    document = client.get(f"/v1/units/{unit_ids['CS 34']}").get_json()
    source = copy.deepcopy(CS34)
    assert [o["title"] for o in document["learning_outcomes"]] == [o["title"] for o in source["learning_outcomes"]]
    criterion_1_2 = document["learning_outcomes"][0]["criteria"][1]
    assert criterion_1_2["minimum"]["count"] == 3
    assert json.dumps(criterion_1_2["range"]) == json.dumps(source["learning_outcomes"][0]["criteria"][1]["range"])
