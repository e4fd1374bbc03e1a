"""Migration 011 on a database loaded before provenance named documents by title: every stored source, rendered
document and ETag becomes what loading today's data/units gives, a CASE import's source names its framework, both edges
serve ``source.document``, and rolling back restores what was there."""

import json

import pytest
import yaml

from api import create_app
from api.config import Settings
from api.migrations_runner import migrate, router_for
from api.models import Guidance, Standard, Unit, UnitVersion
from api.services.content import rendering
from api.services.content.data_files import source_hash
from tests.conftest import UNITS_DIR, bound_fresh_database
from tests.graphql_helpers import gql

# What databases loaded before 011 held: each source named by the file name of its document.
FILE_NAMES = {
    "Unit CS 34: Manage customer service operations": "000_f8466d4747cdf51e.txt",
    "National Occupational Standard: planning, organising and controlling customer service operations":
        "001_bc470c1025f5174b.txt",
    "Skills CFA customer service unit suite CS 37-CS 47, reviewer draft": "002_91c5a0d7f4db135e.txt",
    "OCR Level 4 unit B13: Plan, organise and control customer service operations": "003_2ed901b2afcafdf3.txt",
    "Topic synopsis: managing customer service operations": "004_8340d6be44eb04a0.txt",
}
CASE_ROOT = "5b0e7e8c-2f7a-4c41-9d55-0c1f3a2b9e10"
CASE_TITLE = "Customer care: it's “ours”"


def old_source(source: dict) -> dict:
    """A source as stored before 011: ``seed`` (a file name) where ``document`` is now, in the same place."""
    return {("seed" if key == "document" else key): (FILE_NAMES[value] if key == "document" else value)
            for key, value in source.items()}


def stored_state() -> dict:
    """Every stored source, rendered document and ETag, by table and id."""
    return {
        "unit_version": {v.id: (v.source, v.source_hash, v.document, v.etag) for v in UnitVersion.select()},
        "standard": {s.id: (s.document, s.etag) for s in Standard.select()},
        "guidance": {g.id: g.body for g in Guidance.select()},
    }


def store_as_before_011(database) -> None:
    """Rewrite the loaded content as the loader stored it before 011: guidance first (unit documents embed it), then
    standards and every unit version, re-rendered from their old sources (the renderer copies a source as it is)."""
    for guidance in Guidance.select():
        Guidance.update(body={**guidance.body, "source": old_source(guidance.body["source"])}) \
            .where(Guidance.id == guidance.id).execute()
    for standard in Standard.select():
        document = json.loads(standard.document)
        document["source"] = old_source(document["source"])
        text, etag = rendering.dump(document)
        Standard.update(document=text, etag=etag).where(Standard.id == standard.id).execute()
    for version in UnitVersion.select():
        source = {**version.source, "source": old_source(version.source["source"])}
        UnitVersion.update(source=source, source_hash=source_hash(source)).where(UnitVersion.id == version.id) \
            .execute()
        stored = UnitVersion.get_by_id(version.id)  # as the loader renders: from the stored (key-sorted) source
        document, etag = rendering.render_unit_version(stored)
        UnitVersion.update(document=document, etag=etag).where(UnitVersion.id == version.id).execute()


def import_as_before_011(version: UnitVersion) -> None:
    """Make ``version`` look like a draft a CASE import saved before 011."""
    source = {**version.source, "source": {"seed": f"CASE package {CASE_ROOT}",
                                           "description": f"Imported from the CASE framework {CASE_TITLE!r}"}}
    UnitVersion.update(source=source, source_hash=source_hash(source)).where(UnitVersion.id == version.id).execute()
    document, etag = rendering.render_unit_version(UnitVersion.get_by_id(version.id))
    UnitVersion.update(document=document, etag=etag).where(UnitVersion.id == version.id).execute()


@pytest.fixture
def before_011(fresh_url, database):
    """A fresh database migrated up to 010 and loaded with data/units, bound for the test."""
    with bound_fresh_database(fresh_url, database, migrated_to="010_import_enrolment_counts") as fresh:
        yield fresh


def test_sources_name_their_documents_after_migrating_as_a_fresh_load_does(before_011, fresh_url):
    loaded = stored_state()  # what today's data/units gives
    store_as_before_011(before_011)
    imported = UnitVersion.get(UnitVersion.unit == Unit.get(Unit.code == "CS 47").id)
    import_as_before_011(imported)
    aged = stored_state()
    assert "seed" in aged["unit_version"][imported.id][0]["source"]

    migrate(before_011)

    after = stored_state()
    case_version = after["unit_version"].pop(imported.id)
    loaded["unit_version"].pop(imported.id)
    assert after == loaded  # sources, hashes, documents and ETags: published versions, drafts, standards, guidance
    source, digest, document, etag = case_version
    assert source["source"] == {"document": CASE_TITLE,
                                "description": f"Imported from CASE package {CASE_ROOT}"}
    assert digest == source_hash(source)
    assert (document, etag) == rendering.render_unit_version(UnitVersion.get_by_id(imported.id))

    app = create_app(Settings(database_url=fresh_url, env="test"), database=before_011)
    client = app.test_client()
    b13 = UnitVersion.get(UnitVersion.unit == Unit.get(Unit.code == "B13").id)
    response = client.get(f"/v1/units/{b13.unit_id}")
    b13_file = yaml.safe_load((UNITS_DIR / "ocr-b13.yaml").read_text(encoding="utf-8"))
    assert response.get_json()["source"] == b13_file["source"]
    assert response.headers["ETag"] == loaded["unit_version"][b13.id][3]
    body = gql(client, "query($id: UUID!) { unit(id: $id) { source { document description } } }",
               {"id": str(b13.unit_id)})
    assert body["data"]["unit"]["source"] == b13_file["source"]

    router = router_for(before_011)
    while router.done[-1] != "010_import_enrolment_counts":  # back to before 011, through any later migration
        router.rollback()
    assert stored_state() == aged
