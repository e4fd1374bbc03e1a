"""The contract is usable by a real client generator: a Python client generated from openapi.yaml by
openapi-python-client signs in, pages through units and records an assessor's decision against a real server.

What this proves, beyond the schema checks of test_contract.py:
- openapi.yaml, bundled into one document by api.openapi_bundle (the generator does not follow its relative
  references to schema/*.schema.json), generates a client with every operation and model used here, and no other
  part is dropped than the ones listed in KNOWN_GENERATOR_WARNINGS;
- the generated typed models parse what the API really sends: a response that disagreed with its schema (a missing
  required member, a member the contract does not name, a value outside an enum, an id that is not a UUID, a date
  that is not a date, an undocumented status) would fail here, as it would in the client an integrator generates;
- the flow an LMS integration needs works through that client alone: password grant, who am I, units with their
  cursor, a learner and an enrolment made by a centre admin, then an assessor's decision recorded and read back.

The client is generated once per session into a temporary directory and imported from there; the server is
`qualtrack serve` (gunicorn) over a fresh database of the backend under test, as in test_serve.py.
"""

import importlib
import importlib.util
import json
import re
import subprocess
import sys
from datetime import date
from http import HTTPStatus
from types import SimpleNamespace
from uuid import UUID

import pytest
import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource

from api.config import PROJECT_ROOT
from api.openapi_bundle import bundle
from tests.test_cli import qualtrack
from tests.test_serve import running_server

PACKAGE = "qualtrack_generated_client"
PASSWORD = "a long enough password for the generated client"
CENTRE_ADMIN = "centre.admin@generated.test"
ASSESSOR = "assessor@generated.test"
TIMEOUT = 30.0  # seconds per request: the first request to each worker is slow on a busy 2-core machine

# What openapi-python-client 0.29 skips from the bundled contract, and why. Nothing else may be skipped.
KNOWN_GENERATOR_WARNINGS = {
    # The body is text/csv or application/x-ndjson: the generator only writes JSON, form and multipart bodies.
    "WARNING parsing POST /v1/imports/learners within learners. Endpoint will not be generated.",
    # The 200 body is application/yaml, which the generator cannot parse; the operation is generated without it.
    "WARNING parsing GET /v1/openapi.yaml within meta.",
}


# -- generating and importing the client -------------------------------------------------------------------------------

def generator_input(contract: dict) -> dict:
    """The bundled contract with a workaround for openapi-python-client 0.29 that does not change what it means."""
    _one_media_type_per_same_schema_body(contract)
    return contract


def _one_media_type_per_same_schema_body(contract: dict) -> None:
    """A request body offered in several media types with one schema keeps only the first (POST /v1/auth/token:
    form-encoded, as OAuth2 specifies, and JSON). For such a body the generator writes a module that does not import
    (``Unset`` is not defined) and, were it fixed, would send a form-encoded body labelled application/json
    (openapi-python-client issue #1276)."""
    for path_item in contract["paths"].values():
        for operation in path_item.values():
            content = operation.get("requestBody", {}).get("content", {}) if isinstance(operation, dict) else {}
            if len(content) > 1 and len({json.dumps(media.get("schema"), sort_keys=True)
                                         for media in content.values()}) == 1:
                first = next(iter(content))
                operation["requestBody"]["content"] = {first: content[first]}


def generator_warnings(output: str) -> list[str]:
    """The parts the generator says it skipped: one line per operation or schema."""
    return [line.strip() for line in output.splitlines()
            if line.startswith("WARNING parsing") or line.startswith("Unable to process schema")]


@pytest.fixture(scope="session")
def generated(tmp_path_factory):
    """The generated client package, imported; its directory is on sys.path only while the session needs it."""
    if importlib.util.find_spec("openapi_python_client") is None:
        pytest.fail("openapi-python-client is a test dependency: pip install -e '.[test]'")
    directory = tmp_path_factory.mktemp("generated-client")
    document = directory / "openapi.json"
    document.write_text(json.dumps(generator_input(bundle())), encoding="utf-8")
    config = directory / "config.yaml"
    config.write_text("post_hooks: []\n", encoding="utf-8")  # no ruff fix/format: the code is imported, not read
    result = subprocess.run([sys.executable, "-m", "openapi_python_client", "generate", "--path", str(document),
                             "--meta", "none", "--config", str(config), "--output-path", str(directory / PACKAGE)],
                            capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    unexpected = [w for w in generator_warnings(output) if w not in KNOWN_GENERATOR_WARNINGS]
    assert not unexpected, output

    sys.path.insert(0, str(directory))
    try:
        def load(name):
            return importlib.import_module(f"{PACKAGE}.{name}")

        yield SimpleNamespace(
            client=load("client"), models=load("models"), types=load("types"),
            create_token=load("api.auth.create_token"), get_me=load("api.auth.get_me"),
            list_units=load("api.units.list_units"), get_unit=load("api.units.get_unit"),
            create_learner=load("api.learners.create_learner"),
            create_enrolment=load("api.enrolments.create_enrolment"),
            record_decision=load("api.assessment.record_decision"),
            get_decision=load("api.assessment.get_decision"),
            list_decisions=load("api.assessment.list_decisions"))
    finally:
        sys.path.remove(str(directory))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


# -- the server --------------------------------------------------------------------------------------------------------

@pytest.fixture
def server(fresh_url):
    """`qualtrack serve` over a fresh, loaded database with a centre, its admin and a qualified assessor (made with
    the CLI, as an operator would); yields the base URL."""
    with running_server(fresh_url) as base:
        qualtrack("create-centre", "--code", "GEN", "--name", "Generated Client College", database_url=fresh_url)
        for email, options in ((CENTRE_ADMIN, ["--role", "centre_admin"]),
                               (ASSESSOR, ["--role", "assessor", "--assessor-status", "qualified"])):
            qualtrack("create-user", "--email", email, *options, "--centre", "GEN", database_url=fresh_url,
                      env={"QUALTRACK_NEW_PASSWORD": PASSWORD})
        yield base


# -- helpers -----------------------------------------------------------------------------------------------------------

def expect(response, status: HTTPStatus, model):
    """The parsed body of a generated ``sync_detailed`` call, after checking its status, its model class, and that
    every member the API sent is one the contract names (nothing fell through to ``additional_properties``)."""
    assert response.status_code == status, response.content.decode()
    parsed = response.parsed
    assert isinstance(parsed, model), (type(parsed), response.content.decode())
    assert getattr(parsed, "additional_properties", {}) == {}, f"not in the contract's {model.__name__}"
    return parsed


def sign_in(g, base: str, email: str):
    """An AuthenticatedClient for ``email``, from the password grant of the generated create_token."""
    m = g.models
    body = m.TokenRequest(grant_type=m.TokenRequestGrantType.PASSWORD, username=email, password=PASSWORD)
    options = {"base_url": base, "raise_on_unexpected_status": True, "timeout": TIMEOUT}
    tokens = expect(g.create_token.sync_detailed(client=g.client.Client(**options), body=body), HTTPStatus.OK,
                    m.TokenResponse)
    assert tokens.token_type == "Bearer" and tokens.expires_in > 0 and isinstance(tokens.refresh_token, str)
    return g.client.AuthenticatedClient(token=tokens.access_token, **options)


def all_units(g, client, page_size: int) -> list:
    """Every unit the caller may browse, fetched ``page_size`` at a time by following ``next_cursor``."""
    units, cursor = [], g.types.UNSET
    for _ in range(100):
        page = expect(g.list_units.sync_detailed(client=client, limit=page_size, cursor=cursor), HTTPStatus.OK,
                      g.models.UnitPage)
        assert 0 < len(page.items) <= page_size
        assert all(isinstance(unit, g.models.UnitSummary) for unit in page.items)
        units += page.items
        if page.next_cursor is None:
            assert page.total == len(units)
            return units
        cursor = page.next_cursor
    pytest.fail("the cursor does not move on")


# -- the tests ---------------------------------------------------------------------------------------------------------

def test_bundled_contract_is_self_contained_and_means_the_same():
    """The generator's input has no reference outside itself, is valid OpenAPI 3.1, and its inlined unit schema judges
    unit files exactly as schema/unit.schema.json (with the files it refers to) does."""
    bundled = bundle()
    refs = re.findall(r'"\$ref": "([^"]*)"', json.dumps(bundled))
    assert refs and all(ref.startswith("#/") for ref in refs)
    validate(bundled)

    registry = Registry().with_resources(
        (path.name, Resource.from_contents(json.loads(path.read_text(encoding="utf-8"))))
        for path in (PROJECT_ROOT / "schema").glob("*.schema.json"))
    original = Draft202012Validator({"$ref": "unit.schema.json"}, registry=registry)
    inlined = Draft202012Validator({"$ref": "#/components/schemas/UnitSchema", "components": bundled["components"]})
    b13 = yaml.safe_load((PROJECT_ROOT / "data" / "units" / "ocr-b13.yaml").read_text(encoding="utf-8"))
    bad_outcome = {**b13["learning_outcomes"][0], "kind": "skill", "criteria": [{"number": "1", "text": " "}]}
    documents = [b13, {**b13, "status": "archived"}, {**b13, "owner": "Not A Slug", "notes": [{"about": ""}]},
                 {**b13, "learning_outcomes": [bad_outcome]}]
    judged = [sorted((e.json_path, e.message) for e in validator.iter_errors(document))
              for validator in (original, inlined) for document in documents]
    assert judged[:len(documents)] == judged[len(documents):]
    assert judged[0] == [] and all(judged[1:len(documents)])


def test_generated_client_signs_in_pages_units_and_records_a_decision(generated, server):
    g, m = generated, generated.models

    # (1) authenticate: the password grant, then who the token says we are
    admin = sign_in(g, server, CENTRE_ADMIN)
    assessor = sign_in(g, server, ASSESSOR)
    admin_me = expect(g.get_me.sync_detailed(client=admin), HTTPStatus.OK, m.Me)
    assessor_me = expect(g.get_me.sync_detailed(client=assessor), HTTPStatus.OK, m.Me)
    assert admin_me.roles == [m.MeRolesItem.CENTRE_ADMIN]
    assert assessor_me.roles == [m.MeRolesItem.ASSESSOR] and assessor_me.kind == m.MeKind.ACCOUNT
    [centre] = admin_me.centres
    assert centre.code == "GEN" and [c.id for c in assessor_me.centres] == [centre.id]

    # (2) list units one per page, following the cursor to the end
    units = all_units(g, admin, page_size=1)
    codes = [unit.code for unit in units]
    assert len(units) >= 2 and len(set(codes)) == len(codes) and codes == sorted(codes)
    assert all(unit.status == m.DefsStatus.PUBLISHED for unit in units)
    b13 = next(unit for unit in units if unit.code == "B13")
    document = expect(g.get_unit.sync_detailed(b13.id, client=admin), HTTPStatus.OK, m.UnitDocument)
    assert document.version_id == b13.version_id
    criterion = document.learning_outcomes[0].criteria[0]
    assert isinstance(criterion, m.Criterion) and isinstance(criterion.id, UUID)

    # (3) a centre admin registers a learner and enrols them on B13 with the assessor; the assessor decides
    learner = expect(g.create_learner.sync_detailed(client=admin, body=m.LearnerCreate(
        centre_id=centre.id, uln="9999999999", given_name="Grace", family_name="Generated")),
        HTTPStatus.CREATED, m.Learner)
    assert learner.centre_id == centre.id and learner.status == m.LearnerStatus.ACTIVE
    enrolment = expect(g.create_enrolment.sync_detailed(client=admin, body=m.EnrolmentCreate(
        learner_id=learner.id, unit_id=b13.id, start_date=date.today(), assessor_ids=[assessor_me.id])),
        HTTPStatus.CREATED, m.Enrolment)
    assert enrolment.unit_version_id == b13.version_id and enrolment.assessor_ids == [assessor_me.id]

    decision = expect(g.record_decision.sync_detailed(enrolment.id, client=assessor, body=m.DecisionCreate(
        criterion_id=criterion.id, outcome=m.DecisionCreateOutcome.MET, feedback="Observed at work; fully met.")),
        HTTPStatus.CREATED, m.Decision)
    assert (decision.outcome, decision.criterion_id, decision.enrolment_id) == ("met", criterion.id, enrolment.id)
    assert decision.assessor_id == assessor_me.id and decision.sequence == 1 and decision.in_effect

    # ... and read it back, alone and in the enrolment's list
    again = expect(g.get_decision.sync_detailed(decision.id, client=assessor), HTTPStatus.OK, m.Decision)
    assert again.to_dict() == decision.to_dict()
    listed = expect(g.list_decisions.sync_detailed(enrolment.id, client=admin, criterion_id=criterion.id),
                    HTTPStatus.OK, m.ListDecisionsResponse200)
    assert [(d.id, d.outcome, d.criterion_id) for d in listed.items] == [(decision.id, "met", criterion.id)]
