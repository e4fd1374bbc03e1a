"""openapi.yaml is the contract: it is a valid OpenAPI 3.1 document, and schemathesis finds no response that breaks it
(no server errors, undocumented statuses or content types, or bodies and headers that do not match their schemas)."""

import re

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.config import PROJECT_ROOT
from api.services.tracking.uln import TEMPORARY_ULN, WEIGHTS, uln_problem

OPENAPI = PROJECT_ROOT / "openapi.yaml"
CONFIG = PROJECT_ROOT / "schemathesis.toml"  # a 414 from the request-line limit is a rejection (whatever the cwd)
# A ULN (openapi.yaml's format "uln") has a check digit that a pattern cannot state: generated ones are valid, so
# requests that create learners are accepted and chains of calls go on from them.
ULNS = st.integers(100_000_000, 999_999_999).map(str).map(
    lambda nine: nine + str(10 - r) if (r := sum(int(d) * w for d, w in zip(nine, WEIGHTS, strict=True)) % 11) else "")
schemathesis.openapi.format("uln", st.one_of(st.just(TEMPORARY_ULN), ULNS.filter(bool)))
# A learner import's NDJSON body is text: schemathesis sends the contract's example of it as it sends text/plain.
schemathesis.serializer.alias("application/x-ndjson", "text/plain")
schema = schemathesis.openapi.from_path(OPENAPI, config=SchemathesisConfig.from_path(CONFIG))
# For runs as a caller: the caller's token is always sent, so the generator must not also make requests "without
# Authorization" (negative cases) that the token then authenticates.
schema_as_caller = schemathesis.openapi.from_path(OPENAPI, config=SchemathesisConfig.from_path(CONFIG))
schema_as_caller.config.generation.update(with_security_parameters=False)
# For the random runs: the coverage phase (every boundary and every missing or wrong-typed parameter the schema
# implies) is deterministic, so it is the same on every run; the derandomised runs below make its requests anonymously
# and as an admin. Random runs add what is new on each run: their own fuzzed requests, and the contract's examples.
random_schema = schemathesis.openapi.from_path(OPENAPI, config=SchemathesisConfig.from_path(CONFIG))
random_schema.config.phases.update(phases=["examples", "fuzzing"])
random_schema_as_caller = schemathesis.openapi.from_path(OPENAPI, config=SchemathesisConfig.from_path(CONFIG))
random_schema_as_caller.config.generation.update(with_security_parameters=False)
random_schema_as_caller.config.phases.update(phases=["examples", "fuzzing"])


def test_openapi_document_is_valid():
    validate(yaml.safe_load(OPENAPI.read_text(encoding="utf-8")), base_uri=OPENAPI.as_uri())


def test_the_self_contained_contract_is_served_for_client_generators(client):
    from api.openapi_bundle import bundle

    served = client.get("/v1/openapi.json")
    assert served.status_code == 200 and served.get_json() == bundle()
    assert all(ref.startswith("#/") for ref in re.findall(r'"\$ref": ?"([^"]*)"', served.get_data(as_text=True)))
    validate(served.get_json())


def test_the_case_list_sorts_by_exactly_the_fields_the_contract_lists():
    from api.services.interop.case import DOCUMENT_FIELDS

    [sort] = [p for p in yaml.safe_load(OPENAPI.read_text())["paths"]["/ims/case/v1p1/CFDocuments"]["get"]["parameters"]
              if p["name"] == "sort"]
    assert sort["schema"]["enum"] == list(DOCUMENT_FIELDS)


def test_every_route_is_in_the_contract(app):
    """A new endpoint cannot ship undocumented."""
    documented = {path for path in yaml.safe_load(OPENAPI.read_text())["paths"]}
    routes = {rule.rule.replace("<", "{").replace(">", "}") for rule in app.url_map.iter_rules()
              if rule.endpoint != "static"}
    routes = {re.sub(r"\{int\(signed=True\):(\w+)\}", r"{\1}", r) for r in routes}
    assert routes == documented


def _excluded_checks(case) -> list:
    """Opaque cursors, ETags, credentials and a unit document's identity cannot be generated from a schema: a made-up
    one is rightly refused, so the "schema-valid data is accepted" check is skipped for requests that carry one (a
    unit document must name the unit of its path and existing owners, evidence types and standards; a CASE package
    must hold a framework; a learner file must hold valid learners for a centre that exists; a KSB mapping must name
    a unit version, a standard version and a KSB that exist, and an off-the-job log apprenticeships the caller may
    record for; a webhook URL must resolve to an address that may be sent to). Every other check
    still applies. So are the CASE list's fields, filter and sort, whose grammar a string schema cannot state."""
    query = case.query or {}
    made_up = (query.get("cursor") is not None or query.get("since") is not None or "If-Match" in (case.headers or {})
               or case.path == "/v1/auth/token"
               or case.path.endswith("/draft") or case.path in ("/v1/imports/case", "/v1/imports/learners")
               or (case.method == "POST" and case.path in ("/v1/ksb-mappings", "/v1/ksb-mapping-carries",
                                                          "/v1/imports/otj-activities"))
               or (case.path.startswith("/v1/webhooks/endpoints") and case.method in ("POST", "PATCH"))
               or any(query.get(name) is not None for name in ("fields", "filter", "sort")))  # CASE query grammar
    return [positive_data_acceptance] if made_up else []


def _call_and_validate(case, app, **kwargs) -> None:
    case.operation.app = case.operation.schema.app = app  # checks that re-send a request (without the token) too
    case.call_and_validate(app=app, excluded_checks=_excluded_checks(case), **kwargs)


# derandomize: CI must be reproducible; the same examples run on every machine and every backend.
@schema.parametrize()
@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_openapi_anonymously(case, app):
    _call_and_validate(case, app)


@schema_as_caller.parametrize()
@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_openapi_with_a_token(case, app, auth):
    """The same contract as an admin (who sees drafts) sees it."""
    _call_and_validate(case, app, headers=auth("admin"))


# random: new examples on every run, as a client's own inputs would be; a failure prints the seed that reproduces it.
@random_schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_openapi_with_random_examples_anonymously(case, app):
    _call_and_validate(case, app)


@random_schema_as_caller.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.parametrize("caller", ["centre_admin_a", "assessor_a", "lms_client_a"])
def test_api_conforms_to_openapi_with_random_examples_as_each_kind_of_caller(case, app, auth, caller):
    """Random generation, every check, as a centre's admin and assessor, and an LMS client."""
    _call_and_validate(case, app, headers=auth(caller))


# JSON Schema 2020-12's keywords and OpenAPI 3.1's additions to them: what a schema object of the contract may hold.
SCHEMA_KEYWORDS = {
    "$schema", "$id", "$ref", "$anchor", "$dynamicRef", "$dynamicAnchor", "$defs", "$comment", "$vocabulary",
    "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentSchemas", "prefixItems", "items", "contains",
    "properties", "patternProperties", "additionalProperties", "propertyNames", "unevaluatedItems",
    "unevaluatedProperties", "type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum",
    "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "maxContains",
    "minContains", "maxProperties", "minProperties", "required", "dependentRequired", "format", "contentEncoding",
    "contentMediaType", "contentSchema", "title", "description", "default", "deprecated", "readOnly", "writeOnly",
    "examples", "example", "discriminator", "xml", "externalDocs",
}
SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")
SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
SUBSCHEMAS = ("items", "not", "if", "then", "else", "contains", "additionalProperties", "propertyNames",
              "unevaluatedItems", "unevaluatedProperties", "contentSchema")


def _schema_keyword_faults(schema, where: str):
    """(where, keyword) for every key of ``schema`` and its subschemas that is no schema keyword."""
    if not isinstance(schema, dict):
        return
    for key in schema:
        if key not in SCHEMA_KEYWORDS and not key.startswith("x-"):
            yield where, key
    for name in SUBSCHEMA_MAPS:
        for child, subschema in (schema.get(name) or {}).items():
            yield from _schema_keyword_faults(subschema, f"{where}/{name}/{child}")
    for name in SUBSCHEMA_LISTS:
        for index, subschema in enumerate(schema.get(name) or []):
            yield from _schema_keyword_faults(subschema, f"{where}/{name}/{index}")
    for name in SUBSCHEMAS:
        yield from _schema_keyword_faults(schema.get(name), f"{where}/{name}")


def _schema_roots(node, where: str = "#"):
    """Every schema object the contract holds at the top of a schema tree: components/schemas and every `schema` of a
    parameter, header or media type."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "schema" and isinstance(value, dict):
                yield f"{where}/schema", value
            elif key == "schemas" and where == "#/components":
                yield from ((f"{where}/schemas/{name}", schema) for name, schema in value.items())
            elif key not in ("examples", "example"):
                yield from _schema_roots(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _schema_roots(value, f"{where}/{index}")


def test_every_schema_holds_schema_keywords_only():
    """A typo, or a description cut short by a comma in a YAML flow mapping (`{description: a, b}` makes a key `b`),
    is a key no validator or generator reads: the text is lost without a word. Six such descriptions were found."""
    from api.openapi_bundle import bundle

    faults = [fault for where, schema in _schema_roots(bundle()) for fault in _schema_keyword_faults(schema, where)]
    assert faults == []


@settings(max_examples=200, deadline=None)
@given(ULNS.filter(bool))
def test_the_generated_ulns_are_valid(uln):
    assert uln_problem(uln) is None


def test_the_change_feed_s_types_kinds_and_actions_are_the_contract_s_and_each_kind_has_an_href():
    from api.services.sync import feed

    change = yaml.safe_load(OPENAPI.read_text())["components"]["schemas"]["Change"]["properties"]
    kinds = {t.split(".", 1)[0] for t in feed.TYPES}
    assert change["type"]["enum"] == list(feed.TYPES)
    assert set(change["kind"]["enum"]) == kinds and set(change["action"]["enum"]) == {
        t.split(".", 1)[1] for t in feed.TYPES}
    assert kinds - {"unit", "framework", "apprenticeship_standard", "enrolment"} <= set(feed.HREFS)  # GET the href
