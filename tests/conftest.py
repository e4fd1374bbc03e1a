"""Test fixtures: a real database (SQLite file, or PostgreSQL when QUALTRACK_TEST_DATABASE_URL is set), migrated and
loaded with data/units once per session; every test runs inside a transaction that is rolled back afterwards."""

import atexit
import json
import os
import shutil
import sqlite3
import tempfile
import uuid
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
import pytest
import yaml

from api import create_app, db
from api.config import PROJECT_ROOT, Settings
from api.migrations_runner import migrate
from api.services.content.loader import load_path


def _database_of_this_worker(url: str) -> str:
    """``url``, or under pytest-xdist (`make test` runs a worker per core) a database of its own for this worker
    beside it (``test`` -> ``test_gw0``), created if missing. Not merely a schema of its own: advisory locks (the
    change feed's, idempotency keys') and the sync horizon (the oldest open writer) are database-wide on PostgreSQL,
    and every test holds a transaction open, so two workers in one database would wait on each other's locks and
    hold back each other's sync lists."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/')}_{worker}"
    server = psycopg.connect(urlunsplit(parts._replace(query="")))
    server.autocommit = True
    try:
        with server.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cursor.fetchone() is None:
                with suppress(psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
                    cursor.execute(f'CREATE DATABASE "{name}"')  # unless another run makes it meanwhile
    finally:
        server.close()
    return urlunsplit(parts._replace(path=f"/{name}"))


TEST_DATABASE_URL = _database_of_this_worker(os.environ.get("QUALTRACK_TEST_DATABASE_URL", ""))
# This process is a test run: services called outside a request (cursor signing) read their settings from here.
os.environ.setdefault("QUALTRACK_ENV", "test")
UNITS_DIR = PROJECT_ROOT / "data" / "units"


def pytest_report_header(config):
    return f"qualtrack database: {TEST_DATABASE_URL or 'SQLite (temporary file)'}"


@contextmanager
def empty_database_url(directory: Path, prefix: str):
    """A URL for an empty database of the backend under test: a SQLite file in ``directory``, or a fresh PostgreSQL
    schema that is dropped afterwards."""
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{directory / f'{prefix}.db'}"
        return
    schema = f"qt_{prefix}_{uuid.uuid4().hex[:12]}"
    admin = db.make_database(TEST_DATABASE_URL)
    admin.execute_sql(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in TEST_DATABASE_URL else "?"
    try:
        yield f"{TEST_DATABASE_URL}{sep}options={quote(f'-c search_path={schema}')}"
    finally:
        admin.execute_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """The session database's URL."""
    with empty_database_url(tmp_path_factory.mktemp("db"), "session") as url:
        yield url


TEST_PASSWORD = "correct horse battery staple"
# Everyone the authorisation tests need. Centre "A" is "own centre", centre "B" is "other centre".
PEOPLE = {
    "admin": {"roles": ["admin"]},
    "author_skills_cfa": {"roles": ["author"], "awarding_body": "skills-cfa"},
    "author_ocr": {"roles": ["author"], "awarding_body": "ocr"},
    "centre_admin_a": {"roles": ["centre_admin"], "centres": ["A"]},
    "assessor_a": {"roles": ["assessor"], "centres": ["A"], "assessor_status": "qualified"},
    "trainee_assessor_a": {"roles": ["assessor"], "centres": ["A"], "assessor_status": "trainee"},
    "iqa_a": {"roles": ["iqa"], "centres": ["A"]},
    "learner_a": {"roles": ["learner"], "centres": ["A"]},
    "centre_admin_b": {"roles": ["centre_admin"], "centres": ["B"]},
    "assessor_b": {"roles": ["assessor"], "centres": ["B"], "assessor_status": "qualified"},
}
CLIENTS = {
    "lms_client_a": {"scopes": ["act_for_accounts", "content:read", "tracking:read", "tracking:write"], "centre": "A"},
    "import_client_b": {"scopes": ["import", "tracking:read"], "centre": "B"},
    "sync_client_skills_cfa": {"scopes": ["content:read", "content:write"], "awarding_body": "skills-cfa"},
    "hooks_client_a": {"scopes": ["webhooks"], "centre": "A"},
}


@dataclass
class Identities:
    """What the session database was seeded with: centres by code, accounts and clients by name."""

    centres: dict
    accounts: dict
    clients: dict
    client_secrets: dict


class _HashingOnce:
    """The accounts' password hasher, hashing each distinct secret once: every seeded account has TEST_PASSWORD, and
    an argon2 hash takes a third of a second by design (a mutation run builds the session database per mutant)."""

    def __init__(self, hasher):
        self.hasher, self.hashes = hasher, {}

    def hash(self, secret: str) -> str:
        if secret not in self.hashes:
            self.hashes[secret] = self.hasher.hash(secret)
        return self.hashes[secret]


def seed_identities() -> Identities:
    from api.services import accounts
    from api.services.accounts import administration  # where accounts and clients are made, with its hasher

    real_hasher, administration.hasher = administration.hasher, _HashingOnce(administration.hasher)
    try:
        centres = {code: accounts.create_centre(code, f"Centre {code}") for code in ("A", "B")}
        people = {name: accounts.create_account(f"{name.replace('_', '.')}@example.test", TEST_PASSWORD,
                                                roles=spec["roles"], centres=spec.get("centres", []),
                                                awarding_body=spec.get("awarding_body"),
                                                assessor_status=spec.get("assessor_status"))
                  for name, spec in PEOPLE.items()}
        made = {name: accounts.create_client(name, spec["scopes"], centre=spec.get("centre"),
                                             awarding_body=spec.get("awarding_body"))
                for name, spec in CLIENTS.items()}
    finally:
        administration.hasher = real_hasher
    return Identities(centres, people, {n: m.client for n, m in made.items()}, {n: m.secret for n, m in made.items()})


_sqlite_template: dict = {}  # this process's first prepared SQLite database: its copy's path, and its identities


def prepared_database(url: str):
    """The database at ``url`` as the app builds it (pooled on PostgreSQL), bound, migrated, loaded with every file in
    data/units, and seeded with the test identities (``database.identities``). On SQLite the first one is built and
    the later ones of this process are copies of it (tests/real_writes makes one per module, and a mutation run one
    per mutant)."""
    path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else None
    if path and _sqlite_template:
        _copy_sqlite(_sqlite_template["path"], path)
    database = db.database_for(Settings(database_url=url, env="test"))
    db.bind(database)
    database.connect()
    if path and _sqlite_template:
        database.identities = _sqlite_template["identities"]
        return database
    migrate(database)
    report = load_path(UNITS_DIR)
    assert report.ok, "\n".join(map(str, report.problems))
    database.identities = seed_identities()
    if path:
        template = Path(tempfile.mkdtemp(prefix="qualtrack-tests-")) / "prepared.db"
        _copy_sqlite(path, str(template))
        _sqlite_template.update(path=str(template), identities=database.identities)
        maker = os.getpid()  # a forked child (a mutation run's) must not remove its parent's template
        atexit.register(lambda: os.getpid() == maker and shutil.rmtree(template.parent, ignore_errors=True))
    return database


def _copy_sqlite(source: str, target: str) -> None:
    """Copy a SQLite database, its write-ahead log included (SQLite's online backup)."""
    with closing(sqlite3.connect(source)) as reading, closing(sqlite3.connect(target)) as writing:
        reading.backup(writing)


def app_for(database, database_url: str):
    """The app as the tests use it: on ``database``, with rate limits no test run reaches."""
    settings = Settings(database_url=database_url, env="test", token_rate_limit="10000 per minute",
                        account_login_rate_limit="10000 per minute", webhook_allow_private=True)
    app = create_app(settings, database=database)
    app.config["TESTING"] = True
    return app


def token_minter(app, identities: Identities):
    """mint(name) -> a valid access token for a seeded account or client (minted directly, cached, and valid for a
    day: a slow run must not outlive the tokens it cached)."""
    from datetime import timedelta

    from api.auth import issue_tokens
    from api.services import accounts

    cache: dict[str, str] = {}

    def mint(name: str) -> str:
        if name not in cache:
            usual = app.config["JWT_ACCESS_TOKEN_EXPIRES"]
            app.config["JWT_ACCESS_TOKEN_EXPIRES"] = timedelta(days=1)
            try:
                with app.test_request_context():
                    if name in identities.accounts:
                        account = identities.accounts[name]
                        body = issue_tokens(f"account:{account.id}", accounts.account_claims(account),
                                            with_refresh=False)
                    else:
                        client = identities.clients[name]
                        body = issue_tokens(f"client:{client.id}", accounts.client_claims(client), with_refresh=False)
            finally:
                app.config["JWT_ACCESS_TOKEN_EXPIRES"] = usual
            cache[name] = body["access_token"]
        return cache[name]

    return mint


def bearer_headers(token_for):
    """auth(name) -> request headers carrying that identity's bearer token; auth(None) -> no headers."""
    return lambda name: {"Authorization": f"Bearer {token_for(name)}"} if name else {}


def open_prepared_database(database_url: str):
    """The prepared database at ``database_url`` (see prepared_database), closed afterwards."""
    database = prepared_database(database_url)
    yield database
    database.close_all() if hasattr(database, "close_all") else database.close()


def identities_of(database) -> Identities:
    return database.identities


def shared_fixtures(scope: str) -> tuple:
    """The fixtures that tests build on (database, identities, app, token_for, auth, content_ids) at ``scope``: the
    session here; a module in tests/real_writes, whose modules each get a database of their own."""
    return tuple(pytest.fixture(scope=scope, name=name)(function) for name, function in (
        ("database", open_prepared_database), ("identities", identities_of), ("app", app_for),
        ("token_for", token_minter), ("auth", bearer_headers), ("content_ids", content_ids_in)))


@pytest.fixture(autouse=True)
def rollback(request):
    """Run each test that touches the database in a transaction that is rolled back, so tests cannot leak."""
    if "database" not in request.fixturenames:
        yield
        return
    database = request.getfixturevalue("database")
    db.bind(database)
    with database.atomic() as transaction:
        yield
        transaction.rollback()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def unit_ids(database):
    """Unit code -> unit id, for every loaded unit."""
    from api.models import Unit

    return {u.code: str(u.id) for u in Unit.select()}


@pytest.fixture
def fresh_url(tmp_path):
    """An empty database of the backend under test, separate from the session's (for subprocess tests)."""
    with empty_database_url(tmp_path, "fresh") as url:
        yield url


@contextmanager
def bound_fresh_database(url: str, session_database, *, migrated_to: str | None = None):
    """The database at ``url`` as the app builds it (pooled on PostgreSQL), migrated (up to ``migrated_to`` if given)
    and loaded with data/units, bound until the block ends; the session's database is bound again afterwards."""
    from api.migrations_runner import router_for
    from api.services.sync import feed

    fresh = db.database_for(Settings(database_url=url, env="test"))
    db.bind(fresh)
    router_for(fresh).run(migrated_to) if migrated_to else migrate(fresh)
    if migrated_to:  # the feed's table as this code writes it comes with migration 025: load without feed events
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(feed, "append", lambda rows: None)
            patch.setattr(feed, "_append_content", lambda row: None)
            assert load_path(UNITS_DIR).ok
    else:
        assert load_path(UNITS_DIR).ok
    try:
        yield fresh
    finally:
        fresh.close_all() if hasattr(fresh, "close_all") else fresh.close()
        db.bind(session_database)


@pytest.fixture
def separate_database(fresh_url, database):
    """A separate database of the backend under test, migrated and loaded with data/units, bound for the test's
    duration (the session's afterwards): for tests whose threads need their own connections and committed data."""
    with bound_fresh_database(fresh_url, database) as fresh:
        yield fresh


def write_yaml(directory: Path, name: str, text: str) -> Path:
    """Write a YAML file for a loader test and return its path."""
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


# -- records for the authorisation matrices (REST and GraphQL) and the parity tests ----------------------------------

def content_ids_in(database, identities: Identities) -> dict:
    """Real ids for the probes in the bound database: a published unit (B13), a skills-cfa draft (CS 39), their parts,
    and both centres."""
    from api.models import AssessmentCriterion, LearningOutcome, Standard, Unit, UnitVersion

    units = {u.code: u.id for u in Unit.select()}
    b13, cs39 = (UnitVersion.get(UnitVersion.unit == units[code]) for code in ("B13", "CS 39"))
    return {
        "B13": str(units["B13"]), "CS 39": str(units["CS 39"]), "CS 34": str(units["CS 34"]),
        "b13_criterion": str(AssessmentCriterion.get(AssessmentCriterion.version == b13.id).id),
        "cs39_criterion": str(AssessmentCriterion.get(AssessmentCriterion.version == cs39.id).id),
        "b13_outcome": str(LearningOutcome.get(LearningOutcome.version == b13.id).id),
        "cs39_outcome": str(LearningOutcome.get(LearningOutcome.version == cs39.id).id),
        "standard": str(Standard.get().id), "centre_a": str(identities.centres["A"].id),
        "centre_b": str(identities.centres["B"].id),
        "cs39_document": yaml.safe_load((UNITS_DIR / "skills-cfa-cs-39.yaml").read_text(encoding="utf-8")),
    }


database, identities, app, token_for, auth, content_ids = shared_fixtures("session")


@pytest.fixture(scope="module")
def ids(app, database, auth, identities, content_ids):
    """Content ids plus a world of centre A records (learner, enrolment, evidence, decisions, sample, plan, a second
    B13 version, an import, a spare account and client), built once per module inside a transaction that is rolled
    back when the module ends. Each test's own savepoint (rollback) leaves the world as the test found it."""
    db.bind(database)
    with database.atomic() as world:
        yield build_world(app.test_client(), auth, identities, content_ids)
        world.rollback()


def build_world(client, auth, identities: Identities, content_ids: dict) -> dict:
    """Make the records ``ids`` names, through the API as a user would, and return their ids."""
    from tests.tracking_helpers import enrol, make_learner, post

    learner = make_learner(client, auth, identities)["id"]
    enrolment = enrol(client, auth, identities, learner, content_ids["B13"],
                      assessors=("assessor_a", "trainee_assessor_a"))["id"]
    criterion = content_ids["b13_criterion"]
    evidence = post(client, auth, "lms_client_a", f"/v1/enrolments/{enrolment}/evidence", {
        "type": "observation", "title": "t", "date": "2026-10-01", "authenticity_declared": True,
        "criterion_ids": [criterion]})["id"]
    decision = post(client, auth, "assessor_a", f"/v1/enrolments/{enrolment}/decisions", {
        "criterion_id": criterion, "outcome": "met", "feedback": "f", "evidence_ids": [evidence]})["id"]
    trainee_decision = post(client, auth, "trainee_assessor_a", f"/v1/enrolments/{enrolment}/decisions", {
        "criterion_id": criterion, "outcome": "met", "feedback": "f", "reason": "second look",
        "evidence_ids": [evidence]})["id"]
    sample = post(client, auth, "iqa_a", "/v1/iqa/samples", {"decision_id": decision})["id"]
    credential_learner, credential = completed_unit(client, auth, identities, content_ids)
    assessor = str(identities.accounts["assessor_a"].id)
    plan = post(client, auth, "iqa_a", "/v1/iqa/plans", {"centre_id": content_ids["centre_a"],
                                                         "assessor_id": assessor, "rate": 1.0})["id"]
    from api.services.content.loader import load_path
    from tests.conftest import PROJECT_ROOT

    assert load_path(PROJECT_ROOT / "tests" / "fixtures" / "qualification.yaml").ok
    qualification = client.get("/v1/qualifications").get_json()["items"][0]["id"]
    imported = client.post(f"/v1/imports/learners?centre_id={content_ids['centre_a']}", content_type="text/csv",
                           data=b"uln,given_name,family_name\n9999999999,Imported,Learner\n", headers=auth("admin"))
    assert imported.status_code == 201, imported.get_json()
    b13 = yaml.safe_load((UNITS_DIR / "ocr-b13.yaml").read_text(encoding="utf-8"))
    b13 |= {"status": "draft", "purpose": b13["purpose"] + " (B13 version 2, for the matrix)"}
    admin = auth("admin")
    assert client.put(f"/v1/units/{content_ids['B13']}/draft", json=b13, headers=admin).status_code == 201
    assert client.post(f"/v1/units/{content_ids['B13']}/publish", headers=admin).status_code == 200
    framework = client.post("/v1/imports/case?awarding_body=skills-cfa", json=WORLD_FRAMEWORK, headers=admin)
    assert framework.status_code == 200, framework.get_json()
    framework_id = framework.get_json()["framework"]["identifier"]
    assert client.post(f"/v1/frameworks/{framework_id}/publish", headers=admin).status_code == 200
    from api.services import accounts  # an account and a client no caller uses (admin probes disable them)

    spare = accounts.create_account("spare@example.test", TEST_PASSWORD, roles=["centre_admin"], centres=["A"])
    spare_client = accounts.create_client("spare client", ["tracking:read"], centre="A").client
    webhook = post(client, auth, "centre_admin_a", "/v1/webhooks/endpoints", {"url": "http://127.0.0.1:9/hooks"})
    standard = json.loads((PROJECT_ROOT / "tests" / "fixtures" / "apprenticeships" / "ST0072_1.1.json").read_text())
    in_development = {**standard, "version": "1.2", "status": "In development"}  # for admins only
    assert client.post("/v1/imports/apprenticeship-standards", json=[standard, in_development],
                       headers=admin).status_code == 200
    cs34 = client.get(f"/v1/units/{content_ids['CS 34']}").get_json()
    cs34_criterion = cs34["learning_outcomes"][0]["criteria"][0]["id"]
    mapping = post(client, auth, "author_skills_cfa", "/v1/ksb-mappings", {
        "unit_version_id": cs34["version_id"], "criterion_id": cs34_criterion, "reference_number": "ST0072",
        "version": "1.1", "ksb_code": "K1"})["id"]
    apprenticeship = post(client, auth, "centre_admin_a", "/v1/apprenticeships", {
        "learner_id": learner, "reference_number": "ST0072", "start_date": "2026-01-05",
        "planned_end_date": "2027-01-04", "enrolment_ids": [enrolment]})["id"]
    otj_activity = post(client, auth, "assessor_a", f"/v1/apprenticeships/{apprenticeship}/otj-activities", {
        "activity_date": "2026-02-02", "hours": 6, "kind": "teaching", "description": "Workshop",
        "ksb_codes": ["K1"], "external_ref": "world-1"})["id"]
    ksb_evidence = post(client, auth, "lms_client_a", f"/v1/apprenticeships/{apprenticeship}/ksb-evidence", {
        "type": "observation", "title": "Observed at work", "date": "2026-02-03", "authenticity_declared": True,
        "ksb_codes": ["K2", "S2"]})["id"]
    ksb_decision = post(client, auth, "assessor_a", f"/v1/apprenticeships/{apprenticeship}/ksb-decisions", {
        "ksb_code": "K2", "outcome": "met", "feedback": "seen at work", "evidence_ids": [ksb_evidence]})["id"]
    ksb_trainee_decision = post(client, auth, "trainee_assessor_a",
                                f"/v1/apprenticeships/{apprenticeship}/ksb-decisions", {
                                    "ksb_code": "S2", "outcome": "met", "feedback": "seen at work"})["id"]
    post(client, auth, "iqa_a", f"/v1/ksb-decisions/{ksb_decision}/iqa-sample", None, status=200)
    return {**content_ids, "qualification": qualification, "learner": learner, "enrolment": enrolment,
            "import_job": imported.get_json()["id"],
            "evidence": evidence, "decision": decision,
            "trainee_decision": trainee_decision, "sample": sample, "plan": plan, "assessor_a": assessor,
            "spare_account": str(spare.id), "spare_client": str(spare_client.id), "framework": framework_id,
            "webhook": webhook["id"], "credential_learner": credential_learner, "credential": credential,
            "apprenticeship_standard": "ST0072", "apprenticeship_version": "1.1",
            "apprenticeship_version_in_development": "1.2", "cs34_version": cs34["version_id"],
            "cs34_criterion": cs34_criterion, "ksb_mapping": mapping, "apprenticeship": apprenticeship,
            "otj_activity": otj_activity, "ksb_evidence": ksb_evidence, "ksb_decision": ksb_decision,
            "ksb_trainee_decision": ksb_trainee_decision}


def completed_unit(client, auth, identities: Identities, content_ids: dict) -> tuple[str, str]:
    """A second learner at centre A whose B13 enrolment every criterion of which is met: (learner id, the id of the
    credential that completing it issued)."""
    from tests.tracking_helpers import criteria_of, enrol, make_learner, post

    learner = make_learner(client, auth, identities)["id"]
    enrolment = enrol(client, auth, identities, learner, content_ids["B13"])["id"]
    post(client, auth, "assessor_a", f"/v1/enrolments/{enrolment}/decisions/batch", {"decisions": [
        {"criterion_id": c, "outcome": "met", "feedback": "seen"} for c in criteria_of(client, content_ids["B13"])]})
    [credential] = client.get(f"/v1/learners/{learner}/credentials", headers=auth("admin")).get_json()["items"]
    return learner, credential["id"]


# A published CASE framework of Skills CFA that has no unit shape: kept and served as a framework only.
WORLD_FRAMEWORK = {
    "CFDocument": {"identifier": "3c9a4e5b-1d2f-4a6b-8c7d-9e0f1a2b3c4d", "title": "World framework",
                   "creator": "Skills CFA"},
    "CFItems": [{"identifier": "4d0b5f6c-2e3a-4b7c-9d8e-0f1a2b3c4d5e", "fullStatement": "A competency of its own"}],
}
