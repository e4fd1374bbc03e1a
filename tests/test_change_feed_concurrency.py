"""The change feed under concurrent writers: a reader following the cursor sees every entry exactly once, in order.

Real threads, each with its own database connection, on a separate database of the backend under test (SQLite or
PostgreSQL). Every writer, after appending its entry and before committing (exactly when an entry numbered before
another could become visible after it), hands the reader a turn and waits until the reader has read the feed. The
reader answers the latest writer first, so a writer that could append beside an uncommitted entry would commit first
and be seen first: without the feed's lock, the reader would skip entries.
"""

import queue
import threading
import uuid

from api import db
from api.models import Unit
from api.services.common.access import Principal
from api.services.sync import feed as changes
from api.services.sync import lifecycle
from tests.conftest import UNITS_DIR

WRITERS, EDITS = 4, 6
ADMIN = Principal(kind="account", id=uuid.uuid4(), roles=frozenset({"admin"}))
PATIENCE = 120  # seconds a thread waits for another before the test fails instead of hanging


def test_a_reader_following_the_cursor_misses_nothing_and_repeats_nothing(separate_database, monkeypatch):
    import yaml

    record = changes.record
    turns: queue.Queue = queue.Queue()  # events of writers waiting, inside their transactions, for the reader

    def record_then_let_the_reader_look(*args):
        record(*args)
        looked = threading.Event()
        turns.put(looked)
        if not looked.wait(PATIENCE):
            raise TimeoutError("the reader never read the feed")

    monkeypatch.setattr(changes, "record", record_then_let_the_reader_look)
    codes = [f"CS {n}" for n in (37, 38, 39, 40)][:WRITERS]
    documents = {code: yaml.safe_load((UNITS_DIR / f"skills-cfa-cs-{code[3:]}.yaml").read_text()) for code in codes}
    units = {code: Unit.get(Unit.code == code).id for code in codes}
    start = changes.list_changes(ADMIN, None, 500)
    while start["items"]:
        start = changes.list_changes(ADMIN, start["next_cursor"], 500)
    errors: list = []
    seen: list[dict] = []
    cursor = start["next_cursor"]

    def read_to_the_end():
        nonlocal cursor
        while page := changes.list_changes(ADMIN, cursor, 3):
            seen.extend(page["items"])
            cursor = page["next_cursor"]
            if not page["items"]:
                return

    def writer(code):
        try:
            for edit in range(EDITS):
                document = documents[code] | {"purpose": f"edit {edit} by a concurrent writer"}
                with db.write_transaction():
                    lifecycle.save_draft(ADMIN, units[code], document, None)
        except Exception as error:  # reported below; a thread cannot fail the test itself
            errors.append(error)
        finally:
            separate_database.close()

    reader_connected = threading.Event()

    def reader():
        try:
            read_to_the_end()  # takes its connection now: with every writer holding one, the pool may have no more
            reader_connected.set()
            while (first := turns.get(timeout=PATIENCE)) is not None:
                waiting = [first]
                while not turns.empty():
                    waiting.append(turns.get_nowait())
                for looked in reversed(waiting):  # the latest writer first: it commits while the others wait
                    if looked is None:
                        return
                    read_to_the_end()
                    looked.set()
        except Exception as error:
            errors.append(error)
        finally:
            read_to_the_end()
            separate_database.close()

    writers = [threading.Thread(target=writer, args=(code,)) for code in codes]
    follower = threading.Thread(target=reader)
    follower.start()
    assert reader_connected.wait(PATIENCE), errors
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(PATIENCE)
    turns.put(None)
    follower.join(PATIENCE)
    assert errors == []
    everything = changes.list_changes(ADMIN, start["next_cursor"], 500)["items"]
    assert len(everything) == WRITERS * EDITS
    assert [e["cursor"] for e in seen] == [e["cursor"] for e in everything]
    for code in codes:  # each writer's own edits appear in the order it made them
        assert [e["action"] for e in everything if e["code"] == code] == ["draft_edited"] * EDITS


def test_an_entry_is_not_committed_while_an_earlier_one_is_still_open(separate_database, monkeypatch):
    """The feed's guarantee, checked at the moment it matters: while a writer holds an appended, uncommitted entry,
    a second writer cannot commit its own entry (it would be numbered later, and a reader could see it first). The
    second writer is given a second to finish; it must still be waiting when the first commits, and then finish."""
    import yaml

    record = changes.record
    first_appended, let_first_commit = threading.Event(), threading.Event()

    def record_and_hold_the_first(*args):
        record(*args)
        if threading.current_thread().name == "first":
            first_appended.set()
            if not let_first_commit.wait(PATIENCE):
                raise TimeoutError("the test never let the first writer commit")

    monkeypatch.setattr(changes, "record", record_and_hold_the_first)
    errors: list = []
    committed = {"first": threading.Event(), "second": threading.Event()}

    def edit(code):
        try:
            document = yaml.safe_load((UNITS_DIR / f"skills-cfa-cs-{code[3:]}.yaml").read_text())
            with db.write_transaction():
                lifecycle.save_draft(ADMIN, Unit.get(Unit.code == code).id, document | {"purpose": "edited"}, None)
            committed[threading.current_thread().name].set()
        except Exception as error:
            errors.append(error)
        finally:
            separate_database.close()

    before = changes.list_changes(ADMIN, None, 500)
    first = threading.Thread(target=edit, args=("CS 37",), name="first")
    first.start()
    assert first_appended.wait(PATIENCE), errors
    second = threading.Thread(target=edit, args=("CS 38",), name="second")
    second.start()
    second_finished_early = committed["second"].wait(1.0)
    let_first_commit.set()
    for thread in (first, second):
        thread.join(PATIENCE)
    assert errors == [] and not second_finished_early
    after = changes.list_changes(ADMIN, before["next_cursor"], 500)["items"]
    assert [e["code"] for e in after] == ["CS 37", "CS 38"]  # numbered in commit order


def test_concurrent_edits_and_publishes_of_one_unit_never_change_a_published_version(separate_database):
    import yaml

    from api.errors import ApiError
    from api.models import UnitVersion

    document = yaml.safe_load((UNITS_DIR / "skills-cfa-cs-40.yaml").read_text())
    unit_id = Unit.get(Unit.code == "CS 40").id
    published: dict = {}  # version id -> the document bytes it was published with
    errors: list = []

    def author(name):
        try:
            for edit in range(4):
                try:
                    with db.write_transaction():
                        lifecycle.save_draft(ADMIN, unit_id, document | {"purpose": f"{name} edit {edit}"}, None)
                    with db.write_transaction():
                        saved = lifecycle.publish(ADMIN, unit_id, None)
                    published.setdefault(saved.version.id, saved.version.document)
                except ApiError:
                    pass  # a refusal (409, 412...) is a fine answer to a race; anything else is not
        except Exception as error:
            errors.append(error)
        finally:
            separate_database.close()

    threads = [threading.Thread(target=author, args=(f"author {n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    numbers = sorted(v.number for v in UnitVersion.select().where(UnitVersion.unit == unit_id))
    assert numbers == list(range(1, len(numbers) + 1)) and len(published) >= 2
    heads = [v.status for v in UnitVersion.select().where(UnitVersion.unit == unit_id, UnitVersion.is_head)]
    assert heads.count("draft") <= 1 and len(heads) - heads.count("draft") == 1  # one draft head, one released
    for version_id, document_at_publication in published.items():
        assert UnitVersion.get_by_id(version_id).document == document_at_publication  # frozen
