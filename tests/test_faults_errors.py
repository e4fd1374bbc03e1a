"""Which database failures are the caller's to retry: a database that is locked, busy or unreachable is a 503 with
Retry-After (GraphQL: SERVICE_UNAVAILABLE with retryAfter); any other database error is a 500 carrying the request id
(GraphQL: INTERNAL_SERVER_ERROR with requestId), logged with its traceback under that id. One classification
(api.db.is_transient) for both edges, on both backends, with real locks and real SQL errors.

The locked cases run on a separate database (committed data, real connections): SQLite's write lock held by another
connection (BEGIN IMMEDIATE), or on PostgreSQL a table lock held by another connection while the app's connections
have a short lock_timeout (set in the database URL, as an operator would)."""

import io
import json
import logging
import sqlite3
import sys
import threading
import time
from contextlib import contextmanager
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import peewee
import pytest
from prometheus_client import REGISTRY

from api import create_app, db
from api.config import Settings
from api.migrations_runner import migrate
from tests.conftest import TEST_PASSWORD, UNITS_DIR
from tests.graphql_helpers import gql
from tests.tracking_helpers import VALID_ULN, valid_uln

WAIT_MS = 400  # the write wait (SQLite) or lock_timeout (PostgreSQL) of the app under test
MARGIN_SECONDS = 1.5  # for a loaded machine; the old code answered only after 5 s


def _with_lock_timeout(url: str, milliseconds: int) -> str:
    """``url`` with ``-c lock_timeout=...`` added to its libpq options (PostgreSQL); a SQLite URL as it is."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        return url
    query = dict(parse_qsl(parts.query))
    query["options"] = f"{query.get('options', '')} -c lock_timeout={milliseconds}".strip()
    return parts._replace(query=urlencode(query, quote_via=quote)).geturl()


@pytest.fixture
def faulty(fresh_url, database):
    """An app over a separate migrated database (B13 loaded, centre F, an admin), whose writes wait at most WAIT_MS
    for a lock; the session's database is bound again afterwards."""
    from api.auth import issue_tokens
    from api.services import accounts
    from api.services.content.loader import load_path

    setup = db.database_for(Settings(database_url=fresh_url, env="test"))  # no short waits while setting up: other
    db.bind(setup)  # runs on the same PostgreSQL database may hold the change feed's advisory lock for a while
    try:
        migrate(setup)
        for name in ("catalogue", "nos-plan-organise-and-control-customer-service-operations", "ocr-b13"):
            assert load_path(UNITS_DIR / f"{name}.yaml").ok
        centre = accounts.create_centre("F", "Faults")
        admin = accounts.create_account("admin@faults.test", TEST_PASSWORD, roles=["admin"])
    finally:
        setup.close_all() if hasattr(setup, "close_all") else setup.close()
    settings = Settings(database_url=_with_lock_timeout(fresh_url, WAIT_MS), env="test",
                        token_rate_limit="10000 per minute", sqlite_write_wait_ms=WAIT_MS)
    fresh = db.database_for(settings)
    try:
        app = create_app(settings, database=fresh)
        app.config["TESTING"] = True

        @app.get("/test-only/broken-sql")
        def broken_sql():  # a bug in a query: a 500, never "busy, retry"
            db.database_proxy.execute_sql("SELECT no_such_column FROM learner")

        with app.test_request_context():
            token = issue_tokens(f"account:{admin.id}", accounts.account_claims(admin), with_refresh=False)
        app.admin = {"Authorization": f"Bearer {token['access_token']}"}
        app.centre_id = str(centre.id)
        app.database = fresh
        app.fresh_url = fresh_url
        yield app
    finally:
        fresh.close_all() if hasattr(fresh, "close_all") else fresh.close()
        db.bind(database)


@contextmanager
def write_lock_held(app):
    """Another connection holds what a learner write needs until the block ends: SQLite's write lock, or on
    PostgreSQL a lock on the learner table that lets reads through but no write."""
    if db.is_sqlite(app.database):
        other = sqlite3.connect(app.database.database, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.rollback()
            other.close()
        return
    other = db.make_database(app.fresh_url)
    try:
        with other.atomic():
            other.execute_sql('LOCK TABLE "learner" IN EXCLUSIVE MODE')
            yield
    finally:
        other.close()


def server_errors(edge: str, kind: str) -> float:
    return REGISTRY.get_sample_value("qualtrack_server_errors_total", {"edge": edge, "kind": kind}) or 0.0


@contextmanager
def json_log_lines():
    """The app's own logging set up as in production (JSON on stderr), into a buffer: yields the list its lines are
    parsed into when the block ends."""
    from api.observability import configure_logging

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    buffer, lines = io.StringIO(), []
    stderr, sys.stderr = sys.stderr, buffer
    try:
        configure_logging(Settings(env="test"))
    finally:
        sys.stderr = stderr
    try:
        yield lines
    finally:
        root.handlers, root.level = handlers, level
        lines.extend(json.loads(line) for line in buffer.getvalue().splitlines() if line.startswith("{"))


def learner_body(app, uln=VALID_ULN) -> dict:
    return {"centre_id": app.centre_id, "uln": uln, "given_name": "Ada", "family_name": "Lovelace"}


def test_a_write_held_up_by_a_lock_is_a_503_with_retry_after_when_the_wait_ends(faulty):
    client = faulty.test_client()
    before = server_errors("rest", "unavailable")
    with write_lock_held(faulty):
        started = time.monotonic()
        response = client.post("/v1/learners", json=learner_body(faulty), headers=faulty.admin)
        elapsed = time.monotonic() - started
        listed = client.get(f"/v1/learners?centre_id={faulty.centre_id}", headers=faulty.admin)
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert int(response.headers["Retry-After"]) > 0
    body = response.get_json()
    assert body["type"] == "/problems/database-unavailable" and "retry" in body["detail"]
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert WAIT_MS / 1000 - 0.05 <= elapsed < WAIT_MS / 1000 + MARGIN_SECONDS
    assert listed.status_code == 200 and listed.get_json()["total"] == 0  # reads go on; nothing was half-written
    assert server_errors("rest", "unavailable") == before + 1
    retried = client.post("/v1/learners", json=learner_body(faulty), headers=faulty.admin)
    assert retried.status_code == 201, retried.get_data(as_text=True)  # the retry the 503 asked for succeeds


def test_a_graphql_write_held_up_by_a_lock_is_service_unavailable_with_retry_after(faulty):
    client = faulty.test_client()
    learner = client.post("/v1/learners", json=learner_body(faulty, valid_uln(7)), headers=faulty.admin).get_json()
    unit = client.get("/v1/units?code=B13").get_json()["items"][0]["id"]
    mutation = ("mutation($input: EnrolLearnerInput!) { enrolLearner(input: $input) { __typename "
                "... on Enrolment { id } } }")
    variables = {"input": {"learnerId": learner["id"], "unitId": unit, "startDate": "2026-09-01"}}
    before = server_errors("graphql", "unavailable")
    with write_lock_held(faulty):
        started = time.monotonic()
        body = gql(client, mutation, variables, faulty.admin, expect_errors=True)
        elapsed = time.monotonic() - started
    [error] = body["errors"]
    assert error["extensions"] == {"code": "SERVICE_UNAVAILABLE", "status": 503, "retryAfter": 2}, error
    assert error["path"] == ["enrolLearner"] and "retry" in error["message"]
    assert elapsed < WAIT_MS / 1000 + MARGIN_SECONDS
    assert server_errors("graphql", "unavailable") == before + 1
    enrolments = client.get(f"/v1/enrolments?learner_id={learner['id']}", headers=faulty.admin).get_json()
    assert enrolments["total"] == 0  # rolled back whole
    retried = gql(client, mutation, variables, faulty.admin)
    assert retried["data"]["enrolLearner"]["__typename"] == "Enrolment"


def test_an_sql_error_is_a_500_with_the_request_id_logged_with_its_traceback(faulty):
    client = faulty.test_client()
    before = server_errors("rest", "internal")
    with json_log_lines() as lines:
        response = client.get("/test-only/broken-sql")
    assert response.status_code == 500, response.get_data(as_text=True)
    assert "Retry-After" not in response.headers
    body = response.get_json()
    assert response.mimetype == "application/problem+json" and "no_such_column" not in json.dumps(body)
    request_id = response.headers["X-Request-ID"]
    assert body["request_id"] == request_id
    [logged] = [line for line in lines if line.get("request_id") == request_id and line["level"] == "ERROR"]
    assert "no_such_column" in logged["exc_info"] and "Traceback" in logged["exc_info"]
    assert server_errors("rest", "internal") == before + 1


def test_a_graphql_sql_error_is_internal_server_error_with_the_request_id_logged_with_its_traceback(
        faulty, monkeypatch):
    from api.services.content import catalog

    def broken_query(*_args, **_kwargs):
        return db.database_proxy.execute_sql("SELECT code FROM no_such_table").fetchall()

    monkeypatch.setattr(catalog, "list_evidence_types", broken_query)
    client = faulty.test_client()
    with json_log_lines() as lines:
        response = client.post("/graphql", json={"query": "{ evidenceTypes { totalCount } }"})
    [error] = response.get_json()["errors"]
    request_id = response.headers["X-Request-ID"]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "status": 500, "requestId": request_id}
    assert "no_such_table" not in error["message"]
    [logged] = [line for line in lines if line.get("request_id") == request_id and line["level"] == "ERROR"]
    assert "no_such_table" in logged["exc_info"] and "Traceback" in logged["exc_info"]


# -- the classification itself, with real errors from each driver ----------------------------------------------------

def _raised(action) -> BaseException:
    try:
        action()
    except BaseException as error:  # noqa: BLE001 - the error is what is being looked at
        return error
    raise AssertionError("no error raised")


def test_is_transient_knows_a_lock_from_a_bug_on_this_backend(faulty):
    database = faulty.database
    bug = _raised(lambda: database.execute_sql("SELECT nothing FROM nowhere"))
    assert not db.is_transient(bug)
    duplicate = _raised(lambda: database.execute_sql('INSERT INTO "centre" ("id", "code", "name") '
                                                     'SELECT "id", "code", "name" FROM "centre"'))
    assert isinstance(duplicate, peewee.IntegrityError) and not db.is_transient(duplicate)
    with write_lock_held(faulty):
        def write():
            with db.write_transaction():
                database.execute_sql('UPDATE "learner" SET "given_name" = "given_name"')
        locked = _raised(write)
    assert db.is_transient(locked), repr(locked)
    try:
        raise RuntimeError("a bug while handling a lock error") from None
    except RuntimeError as unrelated:
        unrelated.__context__ = locked
        assert not db.is_transient(unrelated)  # only explicit causes count, not what was being handled


def test_an_unreachable_or_exhausted_postgresql_is_transient(fresh_url):
    if fresh_url.startswith("sqlite"):
        pytest.skip("PostgreSQL: connections and their pool")
    from tests.test_serve import free_port

    refused = db.make_database(f"postgresql://127.0.0.1:{free_port()}/nothing_listens_here")
    assert db.is_transient(_raised(refused.connect))
    pool = db.make_database(fresh_url, pool_size=1)
    pool._wait_timeout = 0.2  # noqa: SLF001 - playhouse.pool's wait for a free connection (10 s in the app)
    pool.connect()
    try:
        errors = []
        other = threading.Thread(target=lambda: errors.append(_raised(pool.connect)))
        other.start()
        other.join(10)
        [exhausted] = errors
        assert db.is_transient(exhausted), repr(exhausted)
    finally:
        pool.close_all()
