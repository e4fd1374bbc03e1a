"""Migrations 023 and 024 on a database from before them: every stored unit document gains ``case.framework`` (the
framework a unit was imported from, or null) with its ETag, exactly as rendering today gives it; every framework
version gains its document part, from which the provider lists it as it serves it within its package."""

import json
import uuid

import pytest

from api import create_app
from api.config import Settings
from api.ids import new_id
from api.migrations_runner import migrate
from api.models import AwardingBody, CaseFramework, CaseFrameworkVersion, Unit, UnitVersion
from api.services.content import rendering
from api.services.content.data_files import source_hash
from tests.conftest import bound_fresh_database
from tests.test_case_frameworks import DOC, LICENCE, framework

CASE_DOCUMENT = {"identifier": DOC, "title": "Deep framework ∑"}


@pytest.fixture
def before_023(fresh_url, database):
    """A fresh database migrated up to 022 and loaded with data/units, bound for the test."""
    with bound_fresh_database(fresh_url, database, migrated_to="022_framework_units") as fresh:
        yield fresh


def test_documents_name_their_framework_and_frameworks_keep_their_document_apart(before_023, fresh_url):
    imported = UnitVersion.get(UnitVersion.unit == Unit.get(Unit.code == "CS 47").id)
    source = {**imported.source, "case_document": CASE_DOCUMENT}
    UnitVersion.update(source=source, source_hash=source_hash(source)).where(UnitVersion.id == imported.id).execute()
    for version in UnitVersion.select():  # as rendered before 023: no case.framework
        document = json.loads(version.document)
        document["case"].pop("framework")
        text, etag = rendering.dump(document)
        UnitVersion.update(document=text, etag=etag).where(UnitVersion.id == version.id).execute()
    owner = AwardingBody.get(AwardingBody.slug == "ocr")
    CaseFramework.create(id=uuid.UUID(DOC), owner=owner.id)
    package = framework()
    CaseFrameworkVersion.insert(id=new_id(), framework=uuid.UUID(DOC), number=1, status="published",
                                title="Deep framework ∑", package=package, package_hash="0" * 64).execute()

    migrate(before_023)

    for version in UnitVersion.select():
        assert (version.document, version.etag) == rendering.render_unit_version(version)
    link = json.loads(UnitVersion.get_by_id(imported.id).document)["case"]["framework"]
    assert link == {**CASE_DOCUMENT, "uri": f"/ims/case/v1p1/CFPackages/{DOC}", "href": f"/v1/frameworks/{DOC}"}
    client = create_app(Settings(database_url=fresh_url, env="test"), database=before_023).test_client()
    listed = client.get("/ims/case/v1p1/CFDocuments").get_json()["CFDocuments"]
    [document] = [d for d in listed if d["identifier"] == DOC]
    assert document["licenseURI"]["uri"] == f"http://localhost/ims/case/v1p1/CFLicenses/{LICENCE}"
    in_package = client.get(f"/ims/case/v1p1/CFPackages/{DOC}").get_json()["CFDocument"]
    assert document == {**in_package, "CFPackageURI": document["CFPackageURI"]}
