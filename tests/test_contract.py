"""openapi.yaml is the contract: it is a valid OpenAPI 3.1 document, and schemathesis finds no response that breaks it
(no server errors, undocumented statuses or content types, or bodies and headers that do not match their schemas)."""

import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.config import PROJECT_ROOT

OPENAPI = PROJECT_ROOT / "openapi.yaml"
schema = schemathesis.openapi.from_path(OPENAPI)


def test_openapi_document_is_valid():
    validate(yaml.safe_load(OPENAPI.read_text(encoding="utf-8")), base_uri=OPENAPI.as_uri())


def test_every_route_is_in_the_contract(app):
    """A new endpoint cannot ship undocumented."""
    documented = {path for path in yaml.safe_load(OPENAPI.read_text())["paths"]}
    routes = {rule.rule.replace("<", "{").replace(">", "}") for rule in app.url_map.iter_rules()
              if rule.endpoint != "static"}
    routes = {r.replace("{int(signed=True):number}", "{number}") for r in routes}
    assert routes == documented


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_openapi(case, app):
    # An opaque cursor cannot be generated from a schema: a made-up one is rightly a 400, so the "schema-valid data is
    # accepted" check is skipped for requests that carry one. Every other check still applies to them.
    excluded = [positive_data_acceptance] if (case.query or {}).get("cursor") is not None else []
    case.call_and_validate(app=app, excluded_checks=excluded)
