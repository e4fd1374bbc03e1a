"""Test fixtures: a real database (SQLite file, or PostgreSQL when QUALTRACK_TEST_DATABASE_URL is set), migrated and
loaded with data/units once per session; every test runs inside a transaction that is rolled back afterwards."""

import os
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest

from api import create_app, db
from api.config import PROJECT_ROOT, Settings
from api.migrations_runner import migrate
from api.services.loader import load_path

TEST_DATABASE_URL = os.environ.get("QUALTRACK_TEST_DATABASE_URL", "")
UNITS_DIR = PROJECT_ROOT / "data" / "units"


def pytest_report_header(config):
    return f"qualtrack database: {TEST_DATABASE_URL or 'SQLite (temporary file)'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """A URL for an empty database of the backend under test (PostgreSQL: a fresh schema, dropped afterwards)."""
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'qualtrack.db'}"
        return
    schema = f"qt_test_{uuid.uuid4().hex[:12]}"
    admin = db.make_database(TEST_DATABASE_URL)
    admin.execute_sql(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in TEST_DATABASE_URL else "?"
    yield f"{TEST_DATABASE_URL}{sep}options={quote(f'-c search_path={schema}')}"
    admin.execute_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.close()


@pytest.fixture(scope="session")
def database(database_url):
    """The session's database, migrated and loaded with every file in data/units."""
    database = db.make_database(database_url)
    db.bind(database)
    database.connect()
    migrate(database)
    report = load_path(UNITS_DIR)
    assert report.ok, "\n".join(map(str, report.problems))
    yield database
    database.close()


@pytest.fixture(scope="session")
def app(database, database_url):
    app = create_app(Settings(database_url=database_url, env="test"), database=database)
    app.config["TESTING"] = True
    return app


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
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    schema = f"qt_fresh_{uuid.uuid4().hex[:10]}"
    admin = db.make_database(TEST_DATABASE_URL)
    admin.execute_sql(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in TEST_DATABASE_URL else "?"
    yield f"{TEST_DATABASE_URL}{sep}options={quote(f'-c search_path={schema}')}"
    admin.execute_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.close()


def write_yaml(directory: Path, name: str, text: str) -> Path:
    """Write a YAML file for a loader test and return its path."""
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path
