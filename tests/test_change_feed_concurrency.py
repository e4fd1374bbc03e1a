"""The change feed under concurrent writers: a reader following the cursor sees every entry exactly once, in order.

Real threads, each with its own database connection, on a separate database of the backend under test (SQLite or
PostgreSQL). Every writer sleeps after appending its entry and before committing, which is exactly when an entry
numbered before another could become visible after it: without the feed's lock, the reader would skip entries.
"""

import random
import threading
import time
import uuid

from api import db
from api.models import Unit
from api.services.common.access import Principal
from api.services.sync import changes, lifecycle
from tests.conftest import UNITS_DIR

WRITERS, EDITS = 4, 6
ADMIN = Principal(kind="account", id=uuid.uuid4(), roles=frozenset({"admin"}))


def test_a_reader_following_the_cursor_misses_nothing_and_repeats_nothing(separate_database, monkeypatch):
    import yaml

    record = changes.record

    def slow_record(*args):
        record(*args)
        time.sleep(random.uniform(0, 0.02))  # still inside the writer's transaction: commit comes later

    monkeypatch.setattr(changes, "record", slow_record)
    codes = [f"CS {n}" for n in (37, 38, 39, 40)][:WRITERS]
    documents = {code: yaml.safe_load((UNITS_DIR / f"skills-cfa-cs-{code[3:]}.yaml").read_text()) for code in codes}
    units = {code: Unit.get(Unit.code == code).id for code in codes}
    start = changes.list_changes(ADMIN, None, 500)
    while start["items"]:
        start = changes.list_changes(ADMIN, start["next_cursor"], 500)
    errors, done = [], threading.Event()

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

    seen: list[dict] = []

    def reader():
        cursor = start["next_cursor"]
        try:
            while True:
                finished = done.is_set()
                page = changes.list_changes(ADMIN, cursor, 3)
                seen.extend(page["items"])
                cursor = page["next_cursor"]
                if finished and not page["items"]:
                    return
                time.sleep(0.002)  # a poller, not a spin loop hogging the GIL that the writers need
        except Exception as error:
            errors.append(error)
        finally:
            separate_database.close()

    writers = [threading.Thread(target=writer, args=(code,)) for code in codes]
    follower = threading.Thread(target=reader)
    follower.start()
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(120)
    done.set()
    follower.join(120)
    assert errors == []
    everything = changes.list_changes(ADMIN, start["next_cursor"], 500)["items"]
    assert len(everything) == WRITERS * EDITS
    assert [e["cursor"] for e in seen] == [e["cursor"] for e in everything]
    for code in codes:  # each writer's own edits appear in the order it made them
        assert [e["action"] for e in everything if e["code"] == code] == ["draft_edited"] * EDITS


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
