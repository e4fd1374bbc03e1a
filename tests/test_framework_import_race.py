"""Two imports of one new CASE framework at the same moment, on PostgreSQL: one creates it; the other waits for the
first to commit, is a 409 that says to retry, and leaves nothing of its own (one framework, one version, one change
feed entry). The first pauses after indexing its framework's members, before it commits, so the second really
arrives while the first holds the new framework.

Real threads, each with its own connection, on a separate database of the backend under test."""

import threading
import time

import pytest

from api import db
from api.errors import Conflict
from api.models import CaseFrameworkVersion, FeedEvent
from api.services.common.access import Principal
from api.services.interop import case_frameworks, case_import
from tests.conftest import seed_identities
from tests.test_case_frameworks import DOC, framework

WAITING_TO_CREATE = ("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                     "AND position('case_framework' IN query) > 0")


def test_the_second_of_two_simultaneous_imports_of_a_new_framework_is_a_409_and_leaves_nothing(separate_database,
                                                                                               monkeypatch):
    if db.is_sqlite():
        pytest.skip("SQLite runs one write transaction at a time: two importers cannot interleave")
    people = seed_identities()
    admin = Principal(kind="account", id=people.accounts["admin"].id, roles=frozenset({"admin"}))
    indexed, go_on = threading.Event(), threading.Event()
    index = case_frameworks._index

    def index_then_wait(*args):
        index(*args)
        if threading.current_thread().name == "first":
            indexed.set()
            assert go_on.wait(10)

    monkeypatch.setattr(case_frameworks, "_index", index_then_wait)
    outcomes: dict[str, object] = {}

    def run(name: str) -> None:
        try:
            with db.write_transaction():
                outcomes[name] = case_import.import_package(admin, framework(), "ocr")["framework"]["outcome"]
        except Exception as error:  # the test reads it below; a thread cannot fail the test itself
            outcomes[name] = error
        finally:
            separate_database.close()

    first = threading.Thread(target=run, args=("first",), name="first")
    first.start()
    second = threading.Thread(target=run, args=("second",), name="second")
    try:
        assert indexed.wait(10)
        second.start()
        deadline = time.monotonic() + 10
        while second.is_alive() and not db.fetch_rows(WAITING_TO_CREATE)[0][0]:
            assert time.monotonic() < deadline, "the second import neither finished nor waited for the first"
            second.join(0.01)
    finally:
        go_on.set()
        first.join(10)
        second.join(10)
    assert outcomes["first"] == "created", outcomes
    assert isinstance(outcomes["second"], Conflict) and "retry" in str(outcomes["second"]), outcomes
    assert CaseFrameworkVersion.select().where(CaseFrameworkVersion.framework == DOC).count() == 1
    assert FeedEvent.select().where(FeedEvent.framework == DOC).count() == 1
