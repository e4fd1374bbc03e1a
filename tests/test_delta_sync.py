"""A client keeps a copy of a centre's learners by paging `GET /v1/learners?sort=updated_at&updated_since=...` while
others keep changing them, against `qualtrack serve` (four workers) on a fresh database of the backend under test:
it ends with every learner at its latest state, and no page of a pass repeats what it already gave. On PostgreSQL,
where writers commit side by side, a page also stops short of a change that is still being committed."""

import random
import threading
import urllib.parse

import psycopg
import pytest

from tests.conftest import TEST_DATABASE_URL, empty_database_url
from tests.test_deploy import Host, make_centre_admin, token
from tests.test_identity_concurrency import Served
from tests.test_serve import running_server
from tests.tracking_helpers import valid_uln

LEARNERS = 24
WRITERS, UPDATES_EACH = 3, 30


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with empty_database_url(tmp_path_factory.mktemp("sync"), "sync") as url, \
            running_server(url, QUALTRACK_WORKERS="4") as base:
        host = Host(process=None, base=base, log=None)
        centre_id, email = make_centre_admin(url, "SYN")
        yield Served(host, url, centre_id, {"Authorization": f"Bearer {token(host, email)}"})


def make_learners(served: Served, count: int, first_seed: int) -> list[str]:
    ids = []
    for seed in range(first_seed, first_seed + count):
        status, _, body = served.send("POST", "/v1/learners", {
            "centre_id": served.centre_id, "uln": valid_uln(seed), "given_name": "v0", "family_name": f"F{seed}"})
        assert status == 201, body
        ids.append(body["id"])
    return ids


def rename(served: Served, learner_id: str, given_name: str) -> None:
    """Set a learner's given name, retrying when another writer changed the learner in between (412)."""
    for _ in range(20):
        status, headers, body = served.send("GET", f"/v1/learners/{learner_id}")
        assert status == 200, body
        status, _, body = served.send("PATCH", f"/v1/learners/{learner_id}", {"given_name": given_name},
                                      {"If-Match": headers["ETag"]})
        if status == 200:
            return
        assert status == 412, body
    raise AssertionError(f"could not rename {learner_id}")


def sync_pass(served: Served, since: str, copy: dict) -> str:
    """Page from ``since`` to the end, upserting each learner into ``copy``; the newest updated_at seen (where the
    next pass starts). No page repeats a (learner, state) the pass already gave."""
    seen, newest = set(), since
    url = f"/v1/learners?sort=updated_at&limit=7&centre_id={served.centre_id}&updated_since={urllib.parse.quote(since)}"
    while url:
        status, _, page = served.send("GET", url)
        assert status == 200, page
        for learner in page["items"]:
            state = (learner["id"], learner["given_name"])
            assert state not in seen, f"{state} came twice in one pass"
            seen.add(state)
            copy[learner["id"]] = learner["given_name"]
            newest = max(newest, learner["updated_at"])
        url = page["next_cursor"] and f"{url.split('&cursor=')[0]}&cursor={page['next_cursor']}"
    return newest


def test_a_syncing_client_ends_with_every_learner_at_its_latest_state_while_others_write(served):
    ids = make_learners(served, LEARNERS, 7000)
    copy: dict = {}
    since = sync_pass(served, "2000-01-01T00:00:00Z", copy)
    assert copy == dict.fromkeys(ids, "v0")
    done = threading.Event()
    failures: list = []

    def write(writer: int) -> None:
        pick = random.Random(writer)
        try:
            for update in range(1, UPDATES_EACH + 1):
                rename(served, pick.choice(ids), f"w{writer}u{update}")
        except BaseException as error:  # reported by the test below
            failures.append(error)

    writers = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    for thread in writers:
        thread.start()
    passes = 0
    while any(thread.is_alive() for thread in writers) or not done.is_set():
        if not any(thread.is_alive() for thread in writers):
            done.set()  # one more pass after the last write
        since = sync_pass(served, since, copy)
        passes += 1
    for thread in writers:
        thread.join()
    assert not failures, failures
    latest = {i: served.send("GET", f"/v1/learners/{i}")[2]["given_name"] for i in ids}
    assert sum(name != "v0" for name in latest.values()) > LEARNERS // 2
    assert copy == latest
    assert passes > 1


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="SQLite: one writer at a time stamps and commits in turn, so no "
                                                   "change can still be committing behind a committed later one")
def test_a_page_stops_short_of_a_change_still_being_committed(served):
    """A transaction that stamped a learner and has not committed holds back every later change from the list; when
    it commits, the client's next page has both, in order."""
    held_id, later_id = make_learners(served, 2, 7100)
    since = served.send("GET", f"/v1/learners/{later_id}")[2]["updated_at"]
    url = f"/v1/learners?sort=updated_at&centre_id={served.centre_id}&updated_since={urllib.parse.quote(since)}"
    options = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(served.database_url).query))
    held = psycopg.connect(TEST_DATABASE_URL.split("?")[0], options=options["options"])
    try:
        with held.cursor() as cursor:  # psycopg opens the transaction with this first statement
            cursor.execute("UPDATE learner SET given_name = 'held', updated_at = now() AT TIME ZONE 'UTC', "
                           "row_version = row_version + 1 WHERE id = %s", (held_id,))
        rename(served, later_id, "later")
        _, _, page = served.send("GET", url)
        assert "later" not in [learner["given_name"] for learner in page["items"]]
        held.commit()
    finally:
        held.close()
    _, _, page = served.send("GET", url)
    names = [learner["given_name"] for learner in page["items"]]
    assert names.index("held") < names.index("later")


def test_graphql_syncs_the_same_learners_in_the_same_order_with_the_same_cursors(served):
    make_learners(served, 5, 7200)  # more than a page of 4 whatever ran before: both lists have a next page
    since = "2000-01-01T00:00:00Z"
    _, _, rest = served.send("GET", f"/v1/learners?sort=updated_at&limit=4&updated_since={since}")
    query = ('query($since: DateTime) { learners(sort: "updated_at", updatedSince: $since, first: 4) '
             '{ edges { node { id } } pageInfo { endCursor } } }')
    status, _, body = served.send("POST", "/graphql", {"query": query, "variables": {"since": since}})
    assert status == 200 and "errors" not in body, body
    learners = body["data"]["learners"]
    assert [edge["node"]["id"] for edge in learners["edges"]] == [item["id"] for item in rest["items"]]
    assert learners["pageInfo"]["endCursor"] == rest["next_cursor"]
    status, _, bad = served.send("GET", "/v1/learners?sort=uln")
    assert status == 400 and "sort" in bad["errors"], bad


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="SQLite has no horizon: writers stamp and commit in turn")
def test_an_open_write_transaction_holds_changes_back_from_its_begin_and_a_reader_s_does_not(served):
    """One of our transactions counts as a writer from BEGIN, before it stamps or writes anything; a plain reader's
    open transaction holds nothing back."""
    from api import db

    (learner,) = make_learners(served, 1, 7300)
    url = f"/v1/learners?sort=updated_at&centre_id={served.centre_id}&updated_since=2000-01-01T00:00:00Z&limit=500"

    def listed_after_rename(name: str) -> bool:
        rename(served, learner, name)
        return name in [item["given_name"] for item in served.send("GET", url)[2]["items"]]

    options = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(served.database_url).query))
    reader = psycopg.connect(TEST_DATABASE_URL.split("?")[0], options=options["options"])
    writer = db.make_database(served.database_url)
    try:
        with reader.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM learner")  # a transaction open, reading only
        assert listed_after_rename("while a reader reads")
        with writer.atomic():  # begun, nothing written yet
            assert not listed_after_rename("while a writer is open")
        assert served.send("GET", url)[2]["items"][-1]["given_name"] == "while a writer is open"
    finally:
        reader.close()
        writer.close()
