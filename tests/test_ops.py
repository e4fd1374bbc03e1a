"""What operators and browser-based integrators rely on: health and readiness, metrics, request ids, CORS, body
size limits, and a clean 503 (never a 500) when the database is unreachable."""

import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from api import create_app, db
from api.config import ConfigurationError, Settings
from tests.test_cli import qualtrack
from tests.test_serve import free_port

ORIGIN = "https://lms.example.ac.uk"


@pytest.fixture
def app_with(database):
    """An app with the given settings over the session's database (the binding stays the same)."""

    def build(**settings):
        return create_app(Settings(database_url="unused:", env="test", **settings), database=db.database_proxy.obj)

    return build


def test_health_and_readiness(client):
    health = client.get("/healthz")
    assert (health.status_code, health.get_json()) == (200, {"status": "ok"})
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["checks"] == {"database": "ok", "migrations": "current"}
    assert ready.headers["Cache-Control"] == "no-store"


def test_metrics_count_requests_by_route_template_not_path(client, unit_ids):
    def served(route):
        text = client.get("/metrics").get_data(as_text=True)
        found = re.search(rf'qualtrack_http_requests_total\{{method="GET",route="{re.escape(route)}",status="200"\}}'
                          r" (\S+)", text)
        return float(found.group(1)) if found else 0.0

    before = served("/v1/units/<unit_id>")
    for unit_id in list(unit_ids.values())[:3]:
        client.get(f"/v1/units/{unit_id}")
    assert served("/v1/units/<unit_id>") == before + 2  # CS 39 is a draft: the third is a 404
    metrics = client.get("/metrics")
    assert metrics.mimetype == "text/plain" and "# TYPE qualtrack_http_request_duration_seconds histogram" in \
        metrics.get_data(as_text=True)
    assert not any(unit_id in metrics.get_data(as_text=True) for unit_id in unit_ids.values())  # bounded labels


@pytest.mark.parametrize(("given", "echoed"), [("abc-123", True), ("x" * 129, False), ("bad\u00e9id", False)])
def test_a_request_id_is_returned_and_made_up_when_unusable(client, given, echoed):
    returned = client.get("/v1/evidence-types", headers={"X-Request-ID": given}).headers["X-Request-ID"]
    assert (returned == given) is echoed and 0 < len(returned) <= 128


def test_cors_answers_allowed_origins_only(app_with):
    client = app_with(cors_origins=(ORIGIN,)).test_client()
    preflight = client.options("/v1/learners", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Authorization, Content-Type, Idempotency-Key"})
    assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert {"authorization", "content-type", "idempotency-key"} <= {
        h.strip().lower() for h in preflight.headers["Access-Control-Allow-Headers"].split(",")}
    read = client.get("/v1/units", headers={"Origin": ORIGIN})
    assert read.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "ETag" in read.headers["Access-Control-Expose-Headers"]
    other = client.get("/v1/units", headers={"Origin": "https://evil.example"})
    assert other.status_code == 200 and "Access-Control-Allow-Origin" not in other.headers
    closed = app_with().test_client().get("/v1/units", headers={"Origin": ORIGIN})  # none configured: no CORS
    assert "Access-Control-Allow-Origin" not in closed.headers


def test_cors_origins_must_be_origins():
    with pytest.raises(ConfigurationError, match="not an origin"):
        Settings.from_env({"QUALTRACK_CORS_ORIGINS": f"{ORIGIN}, https://lms.example/path"})
    assert Settings.from_env({"QUALTRACK_CORS_ORIGINS": f"{ORIGIN}/, http://127.0.0.1:3000"}).cors_origins == (
        ORIGIN, "http://127.0.0.1:3000")


def test_bodies_over_the_limit_are_refused_with_a_problem(app_with, auth, identities):
    client = app_with(max_body_bytes=2000, import_max_bytes=3000).test_client()
    big = {"centre_id": str(identities.centres["A"].id), "uln": "9276308686", "given_name": "A" * 3000,
           "family_name": "B"}
    refused = client.post("/v1/learners", json=big, headers=auth("centre_admin_a"))
    assert refused.status_code == 413 and refused.mimetype == "application/problem+json"
    header = "uln,given_name,family_name\n"
    fits = client.post(f"/v1/imports/learners?centre_id={identities.centres['A'].id}&dry_run=true",
                       data=(header + "9276308686,A,B\n" * 100).encode(), content_type="text/csv",
                       headers=auth("centre_admin_a"))
    assert fits.status_code == 200, fits.get_json()  # 2,600 bytes: over the app's limit, within the import's
    too_big = client.post(f"/v1/imports/learners?centre_id={identities.centres['A'].id}&dry_run=true",
                          data=(header + "9276308686,A,B\n" * 300).encode(), content_type="text/csv",
                          headers=auth("centre_admin_a"))
    assert too_big.status_code == 413 and too_big.mimetype == "application/problem+json"


def serve(database_url: str):
    """`qualtrack serve` (no migrations) on a free port; (process, base URL) once it answers /healthz."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", "1"],
                               env={**os.environ, "QUALTRACK_DATABASE_URL": database_url,
                                    "QUALTRACK_ENV": "test"},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=2)
            return process, base
        except OSError:  # refused, reset, or accepted but not answered in time (still starting)
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline
            time.sleep(0.2)


def status_of(url: str, header: str = "Content-Type") -> tuple[int, str, str]:
    """(status, the value of ``header`` (the media type for Content-Type), body) of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            status, headers, body = response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        status, headers, body = error.code, error.headers, error.read().decode()
    return status, headers.get_content_type() if header == "Content-Type" else headers.get(header), body


def test_not_ready_until_migrated(fresh_url):
    process, base = serve(fresh_url)
    try:
        status, mimetype, body = status_of(f"{base}/readyz")
        assert (status, mimetype) == (503, "application/problem+json") and "001_initial" in body
        qualtrack("init-db", database_url=fresh_url)
        assert status_of(f"{base}/readyz")[0] == 200
    finally:
        process.terminate()
        process.wait(30)


def test_an_unreachable_database_is_a_503_not_a_500():
    process, base = serve(f"postgresql://127.0.0.1:{free_port()}/nothing_listens_here")
    try:
        assert status_of(f"{base}/healthz")[0] == 200  # alive, but not ready
        status, mimetype, body = status_of(f"{base}/readyz")
        assert (status, mimetype) == (503, "application/problem+json") and "unreachable" in body
        status, mimetype, body = status_of(f"{base}/v1/units")
        assert (status, mimetype) == (503, "application/problem+json")
        assert status_of(f"{base}/v1/units", "Retry-After")[1] == "2"
        assert "psycopg" not in body and "127.0.0.1" not in body  # no internals in the answer
    finally:
        process.terminate()
        process.wait(30)
