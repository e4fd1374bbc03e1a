"""Every operation of the contract shows how it is called and what it answers, and every example is true to its schema.

The contract checked is the one client generators get (api.openapi_bundle.bundle(), served at /v1/openapi.json):
- each operation has an example for every media type of its request body, an example of at least one success (2xx)
  answer with a body, and an example of at least one error answer (its own, or one of the shared components/responses
  it refers to);
- every example (`example` and `examples`, inline or a $ref to components/examples, on request bodies, responses,
  parameters and headers) validates against the schema beside it with Draft 2020-12, resolving the schema's $refs in
  the contract through a referencing Registry, and checking the formats date, date-time, uuid, uri and email;
- the CASE operations' examples also validate against the official 1EdTech schemas in schema/case/, since the
  contract's own schemas for CASE payloads are deliberately open;
- every components/examples entry has a summary and a value and is used somewhere.

The examples are requests this API accepted and answers it gave (run in-process over data/units, the qualification of
tests/fixtures and one centre's records made through the API), trimmed to one or two items per list where a list is
long: a failure here means the contract and an example disagree, and one of them is wrong.
"""

import json
import re
from functools import cache
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from api.config import PROJECT_ROOT
from api.openapi_bundle import bundle

CONTRACT = bundle()
URI = "urn:qualtrack:openapi.json"  # the bundled contract as one resource: its "#/components/..." refs resolve in it
REGISTRY = Registry().with_resource(URI, Resource.from_contents(CONTRACT, default_specification=DRAFT202012))
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
CASE_DIR = PROJECT_ROOT / "schema" / "case"
# Our units have no subjects, concepts, licences, association groupings or rubrics: only a framework imported whole
# holds them, and the examples come from data/units, so their 200s have no example here (tests/test_case_frameworks.py
# checks those answers against the official schemas).
NEVER_SUCCEED = {"getCFSubject", "getCFConcept", "getCFLicense", "getCFAssociationGrouping", "getCFRubric"}
CHECKED_FORMATS = {"date", "date-time", "uuid", "uri", "email"}

FORMATS = FormatChecker(Draft202012Validator.FORMAT_CHECKER.checkers)


@FORMATS.checks("uri")
def _is_uri(value) -> bool:
    """An absolute URI (RFC 3986: a scheme, then no white space); jsonschema checks `uri` only with an optional
    package installed, so the check is spelt out here."""
    if not isinstance(value, str):
        return True
    return bool(re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", value)) and urlsplit(value).scheme != "" and not re.search(
        r"\s", value)


def _pointer(*parts) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def _resolve(node: dict, pointer: str) -> tuple[dict, str]:
    """A Reference Object followed to what it names (repeatedly), with that object's JSON pointer."""
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        assert node["$ref"].startswith("#/"), node["$ref"]
        pointer = node["$ref"][1:]
        node = CONTRACT
        for part in pointer.strip("/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node, pointer


def _operations() -> dict[str, tuple[str, str, dict, list]]:
    """operationId -> (path, method, operation, [(parameter, its pointer)] with the path item's parameters)."""
    found = {}
    for path, item in CONTRACT["paths"].items():
        for method in METHODS:
            if method in item:
                operation = item[method]
                parameters = [(p, _pointer("paths", path, "parameters", i)) for i, p in
                              enumerate(item.get("parameters", []))]
                parameters += [(p, _pointer("paths", path, method, "parameters", i)) for i, p in
                               enumerate(operation.get("parameters", []))]
                found[operation["operationId"]] = (path, method, operation, parameters)
    return found


OPERATIONS = _operations()


def _examples_beside(owner: dict, pointer: str) -> list[tuple[str, object]]:
    """(name, value) of the `example` and each of the `examples` of a media type, parameter or header object."""
    found = []
    if "example" in owner:
        found.append(("example", owner["example"]))
    for name, example in owner.get("examples", {}).items():
        example, _ = _resolve(example, f"{pointer}/examples/{name}")
        assert "value" in example and "externalValue" not in example, (pointer, name)
        found.append((name, example["value"]))
    return found


def _example_sites(operation_id: str) -> list[dict]:
    """Every place of the operation that holds a schema and may hold examples: each request-body media type, each
    response's media types and headers, each parameter (or its content's media type)."""
    path, method, operation, parameters = OPERATIONS[operation_id]
    base = _pointer("paths", path, method)
    sites = []

    def media_sites(content: dict, pointer: str, where: str, status: str | None = None) -> None:
        for media, media_object in content.items():
            sites.append({"where": f"{where} {media}", "kind": where.split()[0], "status": status, "media": media,
                          "owner": media_object, "pointer": f"{pointer}{_pointer(media)}"})

    for parameter, pointer in parameters:
        parameter, pointer = _resolve(parameter, pointer)
        if "content" in parameter:
            media_sites(parameter["content"], f"{pointer}/content", f"parameter {parameter['name']}")
        else:
            sites.append({"where": f"parameter {parameter['name']}", "kind": "parameter", "status": None,
                          "media": None, "owner": parameter, "pointer": pointer})
    if "requestBody" in operation:
        body, pointer = _resolve(operation["requestBody"], f"{base}/requestBody")
        media_sites(body["content"], f"{pointer}/content", "request")
    for status, response in operation["responses"].items():
        response, pointer = _resolve(response, f"{base}/responses{_pointer(status)}")
        media_sites(response.get("content", {}), f"{pointer}/content", f"response {status}", status)
        for name, header in response.get("headers", {}).items():
            header, header_pointer = _resolve(header, f"{pointer}/headers{_pointer(name)}")
            sites.append({"where": f"response {status} header {name}", "kind": "header", "status": status,
                          "media": None, "owner": header, "pointer": header_pointer})
    return sites


@cache
def _validator(schema_pointer: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"{URI}#{schema_pointer}"}, registry=REGISTRY, format_checker=FORMATS)


@cache
def _official_case_validator(operation_id: str, status: str) -> Draft202012Validator | None:
    """The 1EdTech schema of a CASE operation's answer with ``status`` (None for an operation of ours)."""
    suffix = "200" if status.startswith("2") else "400-401-403-404-429-500-default"
    path = CASE_DIR / f"caseservicegroupv1p1-{operation_id.lower()}-{suffix}-responsepayload-schemav1p0p0.json"
    if not path.exists():
        return None
    return Draft202012Validator(json.loads(path.read_text(encoding="utf-8")), format_checker=FORMATS)


def _problems(validator: Draft202012Validator, value) -> list[str]:
    try:
        errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    except Exception as error:  # a schema $ref that does not resolve: say which, not the whole contract
        return [f"{type(error).__name__}: {str(error)[:200]}"]
    return [f"{error.json_path}: {error.message[:200]}" for error in errors][:5]


def test_the_format_checker_checks_the_formats_the_contract_uses():
    assert set(FORMATS.checkers) >= CHECKED_FORMATS
    for name, good, bad in (("date", "2026-09-01", "01/09/2026"), ("date-time", "2026-12-04T19:03:46Z", "yesterday"),
                            ("uuid", "7a24e6e2-3df1-5569-9060-4a5f4cd60a3d", "B13"),
                            ("uri", "https://portfolio.example.org/evidence/1042", "evidence 1042"),
                            ("email", "ada.lovelace@example.org", "ada.lovelace")):
        assert FORMATS.conforms(good, name) and not FORMATS.conforms(bad, name), name


@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_every_operation_has_request_success_and_error_examples(operation_id):
    sites = _example_sites(operation_id)

    def shown(site) -> bool:
        return bool(_examples_beside(site["owner"], site["pointer"]))

    requests = [site for site in sites if site["kind"] == "request"]
    missing = [site["where"] for site in requests if not shown(site)]
    assert not missing, f"{operation_id}: no example for {missing}"
    successes = [site for site in sites if site["kind"] == "response" and site["status"].startswith("2")]
    if operation_id in NEVER_SUCCEED:
        assert successes and not any(map(shown, successes)), f"{operation_id} has a success example after all"
    elif successes:  # an operation whose every 2xx answer has no body (204) has nothing to show
        assert any(map(shown, successes)), f"{operation_id}: no example of a 2xx answer"
    errors = [site for site in sites if site["kind"] == "response" and site["status"][0] in "45"]
    assert any(map(shown, errors)), f"{operation_id}: no example of an error answer"


@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_every_example_of_the_operation_validates_against_its_schema(operation_id):
    failures, checked = [], 0
    for site in _example_sites(operation_id):
        for name, value in _examples_beside(site["owner"], site["pointer"]):
            checked += 1
            schema_pointer = f"{site['pointer']}/schema"
            problems = _problems(_validator(schema_pointer), value)
            official = _official_case_validator(operation_id, site["status"]) if site["status"] else None
            if official is not None and site["media"] == "application/json":
                problems += [f"(1EdTech schema) {p}" for p in _problems(official, value)]
            if problems:
                failures.append(f"{site['where']}, example {name!r}: {problems}")
    assert not failures, f"{operation_id}:\n" + "\n".join(failures)
    assert checked, f"{operation_id}: no example at all"


def test_every_named_example_has_a_summary_and_a_value_and_is_used():
    named = CONTRACT["components"]["examples"]
    assert all(set(example) <= {"summary", "description", "value"} and {"summary", "value"} <= set(example)
               for example in named.values()), [name for name, example in named.items()
                                                if "summary" not in example or "value" not in example]
    used = set(re.findall(r'"#/components/examples/([^"]+)"', json.dumps(CONTRACT)))
    assert used == set(named), {"unused": set(named) - used, "undefined": used - set(named)}


def test_a_wrong_example_is_caught():
    """The validation above can fail: an example whose id is not a UUID, or whose number is a string, is refused."""
    site = next(s for s in _example_sites("getLearner") if s["where"] == "response 200 application/json")
    [(_, learner)] = _examples_beside(site["owner"], site["pointer"])
    validator = _validator(f"{site['pointer']}/schema")
    assert _problems(validator, learner) == []
    assert _problems(validator, {**learner, "id": "ada"}) == ["$.id: 'ada' is not a 'uuid'"]
    sample = next(s for s in _example_sites("createSamplingPlan") if s["where"] == "request application/json")
    [(_, plan)] = _examples_beside(sample["owner"], sample["pointer"])
    assert _problems(_validator(f"{sample['pointer']}/schema"), {**plan, "rate": "0.25"}) == [
        "$.rate: '0.25' is not of type 'number'"]
