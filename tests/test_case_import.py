"""Importing CASE packages: our own export round-trips into a fresh database, and a hand-built package in the style
of other exporters (CASE 1.0 habits) is read leniently and exported back with its identifiers, order and text."""

import json
import subprocess
import sys
import uuid

import pytest

from api.config import PROJECT_ROOT
from tests.test_case_provider import BASE, valid

FOREIGN_DOC = "A1B2C3D4-0000-1000-8000-00000000000A"  # upper case and a v1 UUID, as some exporters write them
FOREIGN_UNIT, FOREIGN_O1, FOREIGN_O2 = (str(uuid.uuid1()) for _ in range(3))
FOREIGN_C = [str(uuid.uuid1()) for _ in range(3)]


def foreign_package() -> dict:
    """A CASE 1.0-style package: numbers as strings, no time zones, bare URIs as node references, v1 UUIDs, text
    outside the Basic Multilingual Plane, and associations listed out of order."""
    base = "https://frameworks.example.org/ims/case/v1p0"

    def item(identifier, text, code=None):
        return {"identifier": identifier, "fullStatement": text, "uri": f"{base}/CFItems/{identifier}",
                "lastChangeDateTime": "2024-03-01T09:30:00", "humanCodingScheme": code,
                "CFDocumentURI": {"title": "Customer care", "identifier": FOREIGN_DOC, "uri": f"{base}/x"}}

    def child(child_id, parent_id, sequence):
        return {"identifier": str(uuid.uuid1()), "associationType": "isChildOf", "sequenceNumber": sequence,
                "originNodeURI": f"{base}/CFItems/{child_id}", "destinationNodeURI": f"{base}/CFItems/{parent_id}",
                "lastChangeDateTime": "2024-03-01T09:30:00"}

    return {
        "CFDocument": {"identifier": FOREIGN_DOC, "uri": f"{base}/CFDocuments/{FOREIGN_DOC}", "creator": "Example",
                       "title": "Customer care", "lastChangeDateTime": "2024-03-01T09:30:00"},
        "CFItems": [item(FOREIGN_UNIT, "Deliver customer care 🧾", "CC 1"),
                    item(FOREIGN_O1, "Understand 𝒸ustomers' needs"), item(FOREIGN_O2, "Be able to resolve problems"),
                    item(FOREIGN_C[0], "Explain how to identify needs — «politely»"),
                    item(FOREIGN_C[1], "Describe escalation routes 𝄞"), item(FOREIGN_C[2], "Resolve a complaint")],
        "CFAssociations": [child(FOREIGN_C[1], FOREIGN_O1, "2"), child(FOREIGN_O2, FOREIGN_UNIT, "2"),
                           child(FOREIGN_C[0], FOREIGN_O1, "1"), child(FOREIGN_UNIT, FOREIGN_DOC, 1),
                           child(FOREIGN_O1, FOREIGN_UNIT, "1"), child(FOREIGN_C[2], FOREIGN_O2, 1)],
    }


def import_case(client, auth, package, caller="author_ocr", query=""):
    return client.post(f"/v1/imports/case{query}", json=package, headers=auth(caller))


def publish_all(client, auth, units, caller="author_ocr"):
    for unit in units:
        assert client.post(f"/v1/units/{unit['unit_id']}/publish", headers=auth(caller)).status_code == 200


def exported_tree(client, title) -> list:
    """(item identifier, text, [children...]) from our export of the framework titled ``title``."""
    listing = client.get(f"{BASE}/CFDocuments?filter=title='{title}'").get_json()["CFDocuments"]
    package = valid(client.get(f"{BASE}/CFPackages/{listing[0]['identifier']}"), "getcfpackage")
    items = {i["identifier"]: i["fullStatement"] for i in package["CFItems"]}
    kids: dict = {}
    for a in package["CFAssociations"]:
        if a["associationType"] == "isChildOf":
            kids.setdefault(a["destinationNodeURI"]["identifier"], []).append(
                (a["sequenceNumber"], a["originNodeURI"]["identifier"]))

    def tree(node):
        return [(child, items[child], tree(child)) for _, child in sorted(kids.get(node, []))]

    return tree(listing[0]["identifier"])


def test_a_foreign_package_is_read_leniently_and_exported_back(client, auth, content_ids):
    response = import_case(client, auth, foreign_package())
    assert response.status_code == 200, response.get_json()
    units = response.get_json()["units"]
    assert [(u["code"], u["outcome"]) for u in units] == [("CC 1", "created")]
    again = import_case(client, auth, foreign_package()).get_json()["units"]
    assert again[0]["outcome"] == "unchanged"  # importing the same package twice changes nothing
    draft = client.get(f"/v1/units/{units[0]['unit_id']}?status=draft", headers=auth("author_ocr")).get_json()
    assert [c["text"] for c in draft["learning_outcomes"][0]["criteria"]] == [
        "Explain how to identify needs — «politely»", "Describe escalation routes 𝄞"]
    publish_all(client, auth, units)
    document = valid(client.get(f"{BASE}/CFDocuments/{FOREIGN_DOC.lower()}"), "getcfdocument")
    assert (document["title"], document["creator"]) == ("Customer care", "Example")  # the framework it came in
    tree = exported_tree(client, "Customer care")
    [unit] = [node for node in tree if node[0] == FOREIGN_UNIT]
    assert unit[1] == "Deliver customer care 🧾"
    assert [(o[0], o[1]) for o in unit[2]] == [(FOREIGN_O1, "Understand 𝒸ustomers' needs"),
                                              (FOREIGN_O2, "Be able to resolve problems")]
    assert [c[0] for c in unit[2][0][2]] == FOREIGN_C[:2] and [c[0] for c in unit[2][1][2]] == FOREIGN_C[2:]
    item = valid(client.get(f"{BASE}/CFItems/{FOREIGN_O1}"), "getcfitem")
    assert item["fullStatement"] == "Understand 𝒸ustomers' needs"
    link = client.get(f"/v1/units/{units[0]['unit_id']}").get_json()["case"]  # the unit's own link resolves
    assert link["identifier"] == FOREIGN_UNIT and client.get(link["uri"]).status_code == 200
    assert (link["framework"]["identifier"], link["framework"]["title"]) == (FOREIGN_DOC.lower(), "Customer care")
    framework = client.get(link["framework"]["href"], headers=auth("author_ocr")).get_json()  # the unit's framework
    assert [(u["unit_id"], u["code"]) for u in framework["units"]] == [(units[0]["unit_id"], "CC 1")]  # and back
    assert client.post(f"{link['framework']['href']}/publish", headers=auth("author_ocr")).status_code == 200
    served = valid(client.get(link["framework"]["uri"]), "getcfpackage")
    assert served["CFDocument"]["identifier"].lower() == FOREIGN_DOC.lower()
    query = "query($id: UUID!) { unit(id: $id) { case { identifier framework { identifier title uri href } } } }"
    answer = client.post("/graphql", json={"query": query, "variables": {"id": units[0]["unit_id"]}}).get_json()
    assert answer["data"]["unit"]["case"] == {k: v for k, v in link.items() if k != "uri"}  # GraphQL says the same
    own = client.get(f"/v1/units/{content_ids['B13']}").get_json()["case"]
    assert own["framework"] is None  # a unit authored here was imported from no framework


@pytest.mark.parametrize(("package", "message"), [
    ([], "a CFPackage is a JSON object"),
    ({"CFItems": []}, "a CFPackage has a CFDocument"),
    ({"CFDocument": {"identifier": "not-a-uuid"}}, "no UUID identifier"),
    ({"CFDocument": {"identifier": FOREIGN_DOC}, "CFItems": [], "CFAssociations": []},
     "not a valid CASE 1.1 framework: $.CFDocument"),  # a framework with no items needs its creator and title
])
def test_unusable_packages_are_refused_whole(client, auth, package, message):
    response = import_case(client, auth, package)
    assert response.status_code == 422 and message in response.get_json()["detail"]


def test_only_the_bodys_authors_and_clients_import(client, auth):
    assert import_case(client, auth, foreign_package(), caller=None).status_code == 401
    assert import_case(client, auth, foreign_package(), caller="author_skills_cfa",
                       query="?awarding_body=ocr").status_code == 403
    assert import_case(client, auth, foreign_package(), caller="admin").status_code == 400  # which body?
    assert import_case(client, auth, foreign_package(), caller="admin", query="?awarding_body=ocr").status_code == 200


def test_our_export_round_trips_through_a_fresh_database(client, fresh_url, tmp_path):
    """Export the published Skills CFA suite (CS 34), import it with the CLI into an empty database, publish it,
    export again: the same identifiers, texts, order and tree."""
    listing = client.get(f"{BASE}/CFDocuments?filter=title='Skills CFA units'").get_json()["CFDocuments"]
    original = client.get(f"{BASE}/CFPackages/{listing[0]['identifier']}").get_json()
    package_file = tmp_path / "cs34.json"
    package_file.write_text(json.dumps(original, ensure_ascii=False), encoding="utf-8")
    # an empty database with just the awarding bodies and the NOS that the package refers to
    script = """
from pathlib import Path
from api import create_app, db
from api.config import PROJECT_ROOT, Settings
from api.migrations_runner import migrate
from api.services.content.loader import load_path
app = create_app(Settings.from_env())
database = db.database_proxy.obj
database.connect(reuse_if_open=True)
migrate(database)
units = PROJECT_ROOT / "data" / "units"
for name in ("catalogue.yaml", "nos-plan-organise-and-control-customer-service-operations.yaml"):
    assert load_path(units / name).ok
"""
    env = {"QUALTRACK_DATABASE_URL": fresh_url, "QUALTRACK_ENV": "test", "PYTHONPATH": str(PROJECT_ROOT)}
    subprocess.run([sys.executable, "-c", script], check=True, cwd=PROJECT_ROOT, env=env)
    done = subprocess.run([sys.executable, "-m", "api.cli", "import-case", str(package_file), "--awarding-body",
                           "skills-cfa"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "created   CS 34 (version 1, draft)" in done.stdout
    publish = f"""
import json, uuid
from api import create_app, db
from api.config import Settings
from api.models import Unit
from api.services.sync import lifecycle
from api.services.common.access import Principal
app = create_app(Settings.from_env())
admin = Principal(kind="account", id=uuid.uuid4(), roles=frozenset({{"admin"}}))
with app.test_request_context():
    db.database_proxy.connect(reuse_if_open=True)
    with db.write_transaction():
        lifecycle.publish(admin, Unit.get(Unit.code == "CS 34").id, None)
    listing = app.test_client().get("{BASE}/CFDocuments").get_json()["CFDocuments"]
    print(json.dumps(app.test_client().get("{BASE}/CFPackages/" + listing[0]["identifier"]).get_json()))
"""
    exported = subprocess.run([sys.executable, "-c", publish], cwd=PROJECT_ROOT, env=env, capture_output=True,
                              text=True)
    assert exported.returncode == 0, exported.stderr
    again = json.loads(exported.stdout.strip().splitlines()[-1])

    def substance(package):
        items = [(i["identifier"], i["fullStatement"], i["CFItemType"], i.get("humanCodingScheme"))
                 for i in package["CFItems"]]
        associations = sorted((a["associationType"], a["originNodeURI"]["identifier"],
                               a["destinationNodeURI"]["identifier"], a.get("sequenceNumber"))
                              for a in package["CFAssociations"])
        return package["CFDocument"]["identifier"], items, associations

    assert substance(again) == substance(original)
