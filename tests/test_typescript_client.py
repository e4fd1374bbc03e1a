"""A second generator, from another ecosystem, reads the contract: openapi-typescript turns /v1/openapi.json into
TypeScript types with no warning, and tsc (strict) accepts them together with the real answers the API gives to
every request of the authorisation matrix, each typed as its operation's documented response for the status it
came with.

So an answer with a member its schema does not name, a missing required member, a value outside an enum, a number
where a string is documented or a status the operation does not document is a tsc error here, as it would be in a
TypeScript integration. The node tools are pinned in tests/node/package-lock.json and installed by `make test`.
"""

import json
import re
import subprocess

import pytest

from api.config import PROJECT_ROOT
from api.openapi_bundle import bundle
from tests.test_authorization_matrix import probes

NODE_TOOLS = PROJECT_ROOT / "tests" / "node" / "node_modules" / ".bin"
JSON_MEDIA = ("application/json", "application/problem+json")
SIGNS_OUT = {"auth.revoke", "auth.refresh"}  # they would revoke the token every later probe is made with


def _templates(contract: dict) -> list[tuple[re.Pattern, str]]:
    """Each path of the contract as a pattern, literal paths before templated ones (``/v1/learners/template.csv``
    is not ``/v1/learners/{learner_id}``)."""
    patterns = [(re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$"), path)
                for path in contract["paths"]]
    return sorted(patterns, key=lambda pair: pair[1].count("{"))


def _caller(allowed: set) -> str | None:
    """Someone the probe allows: an admin where one may, else the first in name order."""
    if None in allowed:
        return None
    return "admin" if "admin" in allowed else sorted(allowed)[0]


def _answers(client, auth, ids: dict, contract: dict) -> list[tuple[str, str, int, str, object]]:
    """(path template, method, status, media type, body) of each probe's JSON answer, made as a caller it allows."""
    templates, found = _templates(contract), []
    for endpoint, endpoint_probes in sorted(probes(ids).items()):
        if endpoint in SIGNS_OUT:
            continue
        for probe in endpoint_probes:
            path = probe.url.split("?", 1)[0]
            template = next((t for pattern, t in templates if pattern.match(path)), None)
            if template is None or not probe.allowed:
                continue
            response = client.open(probe.url, method=probe.method,
                                   headers={**auth(_caller(probe.allowed)), **(probe.headers or {})},
                                   json=probe.body if probe.raw is None else None, data=probe.raw)
            if response.mimetype in JSON_MEDIA and response.get_data():
                found.append((template, probe.method.lower(), response.status_code, response.mimetype,
                              response.get_json()))
    return found


def _typed_constants(answers: list) -> str:
    """A TypeScript module declaring each answer as a constant of its documented response type."""
    lines = ['import type { paths } from "./api";', ""]
    for n, (template, method, status, media, body) in enumerate(answers):
        response = f"paths[{json.dumps(template)}][{json.dumps(method)}][\"responses\"][{status}]"
        lines.append(f"export const answer{n}: {response}[\"content\"][{json.dumps(media)}] = {json.dumps(body)};")
    return "\n".join(lines) + "\n"


def _distinct_errors(output: str, answers: list) -> str:
    """tsc's errors, once each, with the operation and status of the answer each is about."""
    found = {}
    for line, message in re.findall(r"answers\.ts\((\d+),\d+\): (.*)", output):
        template, method, status, _, _ = answers[int(line) - 3]  # two lines of preamble
        found.setdefault(f"{method.upper()} {template} {status}: {message}", None)
    return "\n".join(found) or output[:6000]


def _run(tool: str, *args: str, cwd) -> subprocess.CompletedProcess:
    if not (NODE_TOOLS / tool).exists():
        pytest.fail(f"{NODE_TOOLS / tool} is missing: `make install-test` installs tests/node (npm ci)")
    return subprocess.run([str(NODE_TOOLS / tool), *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_typescript_types_from_the_contract_accept_every_real_answer(client, auth, ids, tmp_path):
    contract = bundle()
    (tmp_path / "openapi.json").write_text(json.dumps(contract), encoding="utf-8")
    generated = _run("openapi-typescript", "openapi.json", "--output", "api.d.ts", cwd=tmp_path)
    output = generated.stdout + generated.stderr
    assert generated.returncode == 0 and not re.search(r"(?i)\b(warn|warning|error)\b", output), output

    answers = _answers(client, auth, ids, contract)
    statuses = sorted(status for _, _, status, _, _ in answers)
    assert len(answers) >= 80 and statuses.count(401) == 0 and statuses.count(200) >= 50, statuses
    (tmp_path / "answers.ts").write_text(_typed_constants(answers), encoding="utf-8")
    checked = _run("tsc", "--noEmit", "--strict", "--target", "es2022", "--module", "es2022", "--moduleResolution",
                   "bundler", "api.d.ts", "answers.ts", cwd=tmp_path)
    assert checked.returncode == 0, _distinct_errors(checked.stdout, answers)


def test_tsc_refuses_an_answer_that_breaks_its_schema(tmp_path):
    """The check above can fail: a learner page with an undocumented member, and one with a status outside its
    enum, are tsc errors."""
    contract = bundle()
    (tmp_path / "openapi.json").write_text(json.dumps(contract), encoding="utf-8")
    assert _run("openapi-typescript", "openapi.json", "--output", "api.d.ts", cwd=tmp_path).returncode == 0
    learner = {"id": "0", "centre_id": "0", "uln": "9999999999", "given_name": "A", "family_name": "B",
               "email": None, "date_of_birth": None, "status": "active", "external_ids": [], "created_at": None,
               "updated_at": "2026-01-01T00:00:00Z", "href": "/v1/learners/0"}
    bad = [("/v1/learners", "get", 200, "application/json",
            {"items": [{**learner, "nickname": "x"}], "next_cursor": None, "total": 1}),
           ("/v1/learners", "get", 200, "application/json",
            {"items": [{**learner, "status": "graduated"}], "next_cursor": None, "total": 1})]
    for n, answer in enumerate(bad):
        (tmp_path / f"bad{n}.ts").write_text(_typed_constants([answer]), encoding="utf-8")
        checked = _run("tsc", "--noEmit", "--strict", "--target", "es2022", "--module", "es2022",
                       "--moduleResolution", "bundler", "api.d.ts", f"bad{n}.ts", cwd=tmp_path)
        assert checked.returncode != 0 and f"bad{n}.ts" in checked.stdout, checked.stdout
