"""Trusted documents (QUALTRACK_GRAPHQL_TRUSTED_DOCUMENTS): with a manifest, /graphql runs the documents it holds, by
``documentId`` or by their exact text, and nothing else; without one, documentId is refused. The manifest is made
with `qualtrack trusted-documents`, as an operator would, and checked when the app starts."""

import hashlib
import json

import pytest

from api.app import create_app
from api.config import ConfigurationError, Settings
from api.gql.trusted_documents import document_id
from tests.test_cli import qualtrack
from tests.tracking_helpers import fresh_uln

UNITS = "query Units($first: Int) { units(first: $first) { totalCount nodes { id code title } } }\n"
CREATE = ("mutation Create($input: CreateLearnerInput!) { createLearner(input: $input) { __typename "
          "... on Learner { uln givenName } ... on ValidationError { fields { field messages } } } }\n")
GRAPHQL_RESPONSE = "application/graphql-response+json"


@pytest.fixture(scope="module")
def manifest(tmp_path_factory, database_url):
    """A manifest of UNITS and CREATE, made by the CLI from two .graphql files."""
    directory = tmp_path_factory.mktemp("trusted")
    for name, text in (("units.graphql", UNITS), ("create.graphql", CREATE)):
        (directory / name).write_text(text, encoding="utf-8")
    made = qualtrack("trusted-documents", str(directory / "units.graphql"), str(directory / "create.graphql"),
                     database_url=database_url)
    assert document_id(UNITS) in made.stderr and document_id(CREATE) in made.stderr
    path = directory / "manifest.json"
    path.write_text(made.stdout, encoding="utf-8")
    return path


def settings_with(database_url: str, manifest) -> Settings:
    return Settings(database_url=database_url, env="test", graphql_trusted_documents=manifest)


@pytest.fixture
def trusted(database, database_url, manifest):
    """A test client of the app with the manifest configured."""
    app = create_app(settings_with(database_url, manifest), database=database)
    app.config["TESTING"] = True
    return app.test_client()


def test_a_trusted_document_runs_by_id_and_answers_as_its_text_does_anywhere(trusted, client):
    by_id = trusted.post("/graphql", json={"documentId": document_id(UNITS), "variables": {"first": 2}})
    assert by_id.status_code == 200, by_id.get_data(as_text=True)
    plain = client.post("/graphql", json={"query": UNITS, "variables": {"first": 2}})
    assert by_id.get_json() == plain.get_json() and len(by_id.get_json()["data"]["units"]["nodes"]) == 2
    by_get = trusted.get("/graphql", query_string={"documentId": document_id(UNITS),
                                                   "variables": json.dumps({"first": 2})})
    assert by_get.get_json() == plain.get_json()
    by_text = trusted.post("/graphql", json={"query": UNITS, "variables": {"first": 2}})
    assert by_text.get_json() == plain.get_json()


def test_a_trusted_mutation_runs_by_id_with_its_variables(trusted, auth, identities):
    uln = fresh_uln()
    variables = {"input": {"centreId": str(identities.centres["A"].id), "uln": uln, "givenName": "Trusted",
                           "familyName": "Document"}}
    made = trusted.post("/graphql", json={"documentId": document_id(CREATE), "variables": variables},
                        headers=auth("centre_admin_a")).get_json()
    assert made["data"]["createLearner"] == {"__typename": "Learner", "uln": uln, "givenName": "Trusted"}
    over_get = trusted.get("/graphql", query_string={"documentId": document_id(CREATE),
                                                     "variables": json.dumps(variables)},
                           headers=auth("centre_admin_a"))
    assert (over_get.status_code, over_get.headers["Allow"]) == (405, "POST")


@pytest.mark.parametrize(("body", "code"), [
    ({"query": UNITS.replace("  ", " ").rstrip()}, "DOCUMENT_NOT_TRUSTED"),  # the same operation, other text
    ({"query": "{ __schema { types { name } } }"}, "DOCUMENT_NOT_TRUSTED"),
    ({"documentId": "sha256:" + hashlib.sha256(b"{ units { totalCount } }").hexdigest()},
     "PERSISTED_DOCUMENT_NOT_FOUND"),
    ({"documentId": "md5:0cc175b9c0f1b6a831c399e269772661"}, "PERSISTED_DOCUMENT_NOT_FOUND"),
])
def test_anything_else_is_one_graphql_error_and_runs_nothing(trusted, body, code):
    plain = trusted.post("/graphql", json=body)
    assert plain.status_code == 200 and plain.mimetype == "application/json"
    assert plain.get_json()["data"] is None
    [error] = plain.get_json()["errors"]
    assert error["extensions"]["code"] == code and error["message"]
    strict = trusted.post("/graphql", json=body, headers={"Accept": GRAPHQL_RESPONSE})
    assert strict.status_code == 400 and strict.mimetype == GRAPHQL_RESPONSE and "data" not in strict.get_json()


@pytest.mark.parametrize("body", [
    {"query": UNITS, "documentId": document_id(UNITS)},
    {"documentId": 7},
    {"documentId": "sha256:" + "a" * 300},
])
def test_a_malformed_persisted_document_request_is_a_400_problem(trusted, body):
    response = trusted.post("/graphql", json=body)
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert "documentId" in response.get_json()["detail"]


def test_without_a_manifest_document_ids_are_refused(client):
    response = client.post("/graphql", json={"documentId": document_id(UNITS)})
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert "trusted documents" in response.get_json()["detail"]


def test_the_manifest_forms_client_tools_write_are_read(tmp_path, database, database_url):
    apollo = tmp_path / "apollo.json"
    apollo.write_text(json.dumps({"format": "apollo-persisted-query-manifest", "version": 1, "operations": [
        {"id": hashlib.sha256(UNITS.encode()).hexdigest(), "body": UNITS, "name": "Units", "type": "query"}]}))
    bare = tmp_path / "codegen.json"  # GraphQL Code Generator's client preset: bare hex digests
    bare.write_text(json.dumps({hashlib.sha256(UNITS.encode()).hexdigest(): UNITS}))
    for path in (apollo, bare):
        app = create_app(settings_with(database_url, path), database=database)
        answer = app.test_client().post("/graphql", json={"documentId": document_id(UNITS)}).get_json()
        assert answer["data"]["units"]["totalCount"] > 0, path


@pytest.mark.parametrize(("text", "complaint"), [
    (json.dumps({document_id(UNITS): UNITS + " "}), "another hash"),  # the text is not the one its id names
    (json.dumps({"units": UNITS}), "is not a sha256"),
    (json.dumps([UNITS]), "JSON object of document id"),
    ("{not json", "cannot read"),
])
def test_a_manifest_that_could_run_the_wrong_text_stops_the_app_starting(tmp_path, database, database_url, text,
                                                                         complaint):
    path = tmp_path / "manifest.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=complaint):
        create_app(settings_with(database_url, path), database=database)
    with pytest.raises(ConfigurationError, match="cannot read"):
        create_app(settings_with(database_url, tmp_path / "missing.json"), database=database)


def test_the_cli_refuses_a_document_the_schema_does_not_accept(tmp_path, database_url):
    bad = tmp_path / "bad.graphql"
    bad.write_text("{ units { noSuchField } }", encoding="utf-8")
    result = qualtrack("trusted-documents", str(bad), database_url=database_url, check=False)
    assert result.returncode != 0 and "noSuchField" in result.stderr and result.stdout == ""


def test_the_cli_hashes_a_file_as_written_crlf_line_ends_included(tmp_path, database_url):
    crlf = "query Units {\r\n  units { totalCount }\r\n}\r\n"
    path = tmp_path / "crlf.graphql"
    path.write_bytes(crlf.encode())
    made = qualtrack("trusted-documents", str(path), database_url=database_url)
    assert json.loads(made.stdout) == {document_id(crlf): crlf}


def test_a_manifest_with_text_that_is_not_unicode_stops_the_app_starting(tmp_path, database, database_url):
    path = tmp_path / "manifest.json"
    path.write_text('{"sha256:' + "0" * 64 + '": "{ units { totalCount } } \\ud800"}', encoding="utf-8")
    with pytest.raises(ConfigurationError, match="not valid Unicode"):
        create_app(settings_with(database_url, path), database=database)
