"""An awarding body's sync tool reads a unit as the document PUT /v1/units/{id}/draft accepts, changes what it
means to, and sends it back: PUT what you GET and nothing changes; PUT a change and it is the new draft."""

import pytest
import yaml

from api.config import PROJECT_ROOT
from api.models.base import content_id

UNITS = sorted((PROJECT_ROOT / "data" / "units").glob("*.yaml"))
AUTHORS = {"ocr": "author_ocr", "skills-cfa": "author_skills_cfa"}


def unit_files() -> list[dict]:
    documents = [yaml.safe_load(path.read_text(encoding="utf-8")) for path in UNITS]
    return [d for d in documents if d.get("kind") == "unit"]


@pytest.mark.parametrize("source", unit_files(), ids=lambda d: d["code"])
def test_put_what_you_get_and_nothing_changes(client, auth, source):
    unit_id = content_id("unit", source["owner"], source["code"])
    author = auth(AUTHORS[source["owner"]])
    status = source["status"]
    got = client.get(f"/v1/units/{unit_id}/document?status={status}", headers=author)
    assert got.status_code == 200, got.get_json()
    assert got.get_json() == {**source, "status": "draft"}  # the document as its publisher's file has it
    versions = client.get(f"/v1/units/{unit_id}/versions?status={status}", headers=author).get_json()["items"]
    assert got.headers["ETag"] == versions[0]["etag"]  # the version's, to send as If-Match
    put = client.put(f"/v1/units/{unit_id}/draft", json=got.get_json(),
                     headers={**author, "If-Match": got.headers["ETag"]})
    assert put.status_code == 200, put.get_json()  # not 201: no version made
    assert (put.get_json()["version"], put.headers["ETag"]) == (versions[0]["number"], got.headers["ETag"])


def test_a_document_changed_and_put_back_is_the_new_draft(client, auth, content_ids):
    author = auth("author_ocr")
    got = client.get(f"/v1/units/{content_ids['B13']}/document", headers=author)
    document = got.get_json()
    document["learning_outcomes"][0]["criteria"][0]["text"] += " (revised)"
    put = client.put(f"/v1/units/{content_ids['B13']}/draft", json=document,
                     headers={**author, "If-Match": got.headers["ETag"]})
    assert put.status_code == 201, put.get_json()
    draft = client.get(f"/v1/units/{content_ids['B13']}/document?status=draft", headers=author)
    assert draft.get_json() == document and draft.headers["ETag"] == put.headers["ETag"]
    stale = client.put(f"/v1/units/{content_ids['B13']}/draft", json=document,
                       headers={**author, "If-Match": got.headers["ETag"]})
    assert stale.status_code == 412  # the published version's ETag no longer names the draft


def test_a_draft_document_is_read_only_by_its_awarding_body(client, auth, content_ids):
    url = f"/v1/units/{content_ids['CS 39']}/document?status=draft"
    assert client.get(url, headers=auth("author_skills_cfa")).status_code == 200
    for reader in ({}, auth("author_ocr")):
        answer = client.get(url, headers=reader)
        assert answer.status_code == 404 and answer.mimetype == "application/problem+json"
    published = client.get(f"/v1/units/{content_ids['B13']}/document")
    assert published.status_code == 200  # published: anyone
    again = client.get(f"/v1/units/{content_ids['B13']}/document", headers={"If-None-Match": published.headers["ETag"]})
    assert again.status_code == 304
