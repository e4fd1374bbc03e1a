"""Two imports of the same standards at the same moment, on PostgreSQL: the first creates each version, the second
waits for it to commit and then finds every version unchanged. Nothing is stored, audited or told to the feed twice,
and neither import fails. The first import pauses after storing its versions and before committing; the second
must then be waiting on the import's lock (api.services.apprenticeships.importing.IMPORT_LOCK), not racing it.

Real threads, each with its own connection, on a separate database of the backend under test."""

import json
import threading
import time
import uuid
from pathlib import Path

import pytest

from api import db
from api.models import ApprenticeshipStandardVersion, AuditEvent, FeedEvent
from api.services.apprenticeships import importing
from api.services.common.access import Principal

PUBLISHED = Path(__file__).parent / "fixtures" / "apprenticeships"
WAITING_ON_THE_LOCK = ("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                       "AND wait_event = 'advisory' AND datname = current_database()")
ADMIN = Principal(kind="account", id=uuid.UUID(int=0), roles=frozenset({"admin"}))  # as the CLI's operator


def test_two_imports_of_the_same_standards_store_each_version_once(separate_database, monkeypatch):
    if db.is_sqlite():
        pytest.skip("SQLite runs one write transaction at a time: two writers cannot interleave")
    document = json.dumps([json.loads((PUBLISHED / f"{name}.json").read_text(encoding="utf-8"))
                           for name in ("ST0071_1.2", "ST0071_1.3", "ST0384_1.4")]).encode()
    stored, go_on = threading.Event(), threading.Event()
    refresh = importing._refresh_standard

    def pause_once_stored(reference):
        refresh(reference)
        if threading.current_thread().name == "first":
            stored.set()
            assert go_on.wait(10)

    monkeypatch.setattr(importing, "_refresh_standard", pause_once_stored)
    reports: dict[str, object] = {}

    def run(name: str) -> None:
        try:
            with db.write_transaction():
                reports[name] = importing.import_standards(ADMIN, document)
        except Exception as error:  # the test reads it below; a thread cannot fail the test itself
            reports[name] = error
        finally:
            separate_database.close()

    first = threading.Thread(target=run, args=("first",), name="first")
    second = threading.Thread(target=run, args=("second",), name="second")
    first.start()
    try:
        assert stored.wait(10)
        second.start()
        deadline = time.monotonic() + 10
        while second.is_alive() and not db.fetch_rows(WAITING_ON_THE_LOCK, [])[0][0]:
            assert time.monotonic() < deadline, "the second import neither finished nor waited for the first"
            second.join(0.01)
        assert second.is_alive(), "the second import finished while the first held the lock"
    finally:
        go_on.set()
        first.join(10)
        second.join(10)
    assert not any(isinstance(report, Exception) for report in reports.values()), reports
    assert reports["first"]["counts"] == {"created": 3, "updated": 0, "unchanged": 0}
    assert reports["second"]["counts"] == {"created": 0, "updated": 0, "unchanged": 3}
    assert ApprenticeshipStandardVersion.select().count() == 3
    assert AuditEvent.select().where(AuditEvent.action == "apprenticeship_standard_version.imported").count() == 3
    assert FeedEvent.select().where(FeedEvent.type == "apprenticeship_standard.created").count() == 3
