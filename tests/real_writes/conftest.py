"""The tests in this folder run on the real write path. Each module gets a database of its own (a SQLite file, or a
PostgreSQL schema, as the app builds it: pooled on PostgreSQL), and nothing wraps a test in a transaction: every
request opens, commits or rolls back its own, as in production (on SQLite through the writers' turn). The fixtures
here replace the session-wide ones of tests/conftest.py with module-wide ones of the same names; tests in a module see
each other's committed records, so each makes its own learners and accounts."""

import pytest

from api import db
from tests.conftest import empty_database_url, shared_fixtures
from tests.tracking_helpers import criteria_of, enrol, make_learner


@pytest.fixture(scope="module")
def database_url(tmp_path_factory):
    with empty_database_url(tmp_path_factory.mktemp("db"), "module") as url:
        yield url


database, identities, app, token_for, auth, content_ids = shared_fixtures("module")


@pytest.fixture(autouse=True)
def rollback(request):
    """Here, no transaction around the test: bind the module's database and let every write commit."""
    if "database" in request.fixturenames:
        db.bind(request.getfixturevalue("database"))
    yield


@pytest.fixture
def b13(client, auth, identities, unit_ids):
    """A centre A learner enrolled on B13, assessed by assessor_a and trainee_assessor_a, with IQA iqa_a."""
    learner = make_learner(client, auth, identities)["id"]
    enrolment = enrol(client, auth, identities, learner, unit_ids["B13"],
                      assessors=("assessor_a", "trainee_assessor_a"))["id"]
    return {"learner": learner, "enrolment": enrolment, "criteria": criteria_of(client, unit_ids["B13"]),
            "decisions": f"/v1/enrolments/{enrolment}/decisions"}
