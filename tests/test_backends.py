"""What services learn about their database comes from api.db, and holds for the exact database create_app builds
(on PostgreSQL a pool): the change feed's lock was once skipped in production, the pooled class unnoticed."""

import peewee
import pytest
from playhouse.pool import PooledPostgresqlDatabase

from api import create_app, db
from api.config import Settings
from api.db.raw import PREPARED_LIST_MAX
from tests.conftest import TEST_DATABASE_URL

LOCK_KEY = 0x7465737421


@pytest.fixture
def app_database(fresh_url, database):
    """The database create_app builds for a fresh URL of the backend under test, bound for the test."""
    create_app(Settings(database_url=fresh_url, env="test"))
    built = db.database_proxy.obj
    try:
        yield built
    finally:
        built.close_all() if hasattr(built, "close_all") else built.close()
        db.bind(database)


def test_the_app_s_database_is_known_by_its_backend(app_database):
    assert db.is_sqlite(app_database) == (not TEST_DATABASE_URL)
    assert db.is_sqlite() == db.is_sqlite(app_database)
    if TEST_DATABASE_URL:
        assert isinstance(app_database, peewee.PostgresqlDatabase)
        assert isinstance(app_database, PooledPostgresqlDatabase)  # what production runs


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="SQLite's one writer holds the whole database: no lock to take")
def test_a_lock_held_until_commit_keeps_other_transactions_out_until_then(app_database):
    other = db.make_database(TEST_DATABASE_URL)  # another host's connection
    try:
        with app_database.atomic():
            db.hold_until_commit(LOCK_KEY)
            (taken,) = other.execute_sql("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()
            assert taken is False
        (taken,) = other.execute_sql("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()
        assert taken is True
        other.execute_sql("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    finally:
        other.close()


def _prepared_on_the_server(database: peewee.Database) -> int:
    """Run one statement ten times on one connection of ``database``; how many statements the server then holds
    prepared for that connection."""
    with database.connection_context():
        for n in range(10):
            database.execute_sql("SELECT count(*) FROM pg_class WHERE relname = %s", (f"none_{n}",))
        return database.execute_sql("SELECT count(*) FROM pg_prepared_statements").fetchone()[0]


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="PostgreSQL's prepared statements")
def test_a_statement_a_connection_repeats_is_prepared_on_the_server_unless_the_url_says_none(fresh_url):
    """Repeated statements are planned once per connection (most of a short statement's server time); behind a
    pooler in transaction mode that cannot carry prepared statements, ``?prepare_threshold=none`` turns it off."""
    separator = "&" if "?" in fresh_url else "?"
    prepared = db.make_database(fresh_url, pool_size=2)
    unprepared = db.make_database(f"{fresh_url}{separator}prepare_threshold=none", pool_size=2)
    try:
        assert _prepared_on_the_server(prepared) >= 1
        assert _prepared_on_the_server(unprepared) == 0
    finally:
        prepared.close_all()
        unprepared.close_all()
    with pytest.raises(ValueError, match="prepare_threshold must be a whole number or none"):
        db.make_database(f"{fresh_url}{separator}prepare_threshold=sometimes")


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="PostgreSQL's prepared statements")
def test_a_statement_with_a_long_list_of_values_is_planned_for_its_values_not_prepared(fresh_url, database):
    """A batch repeats one statement shape with different values (an import's 2,000 external ids a batch); planned
    from a prepared plan made for unknown values it scanned whole tables. Short lists stay prepared."""
    pool = db.make_database(fresh_url, pool_size=2)
    db.bind(pool)
    long_list = [f"none_{n}" for n in range(PREPARED_LIST_MAX + 1)]
    try:
        with pool.connection_context():
            for _ in range(10):
                db.fetch_in("SELECT relname FROM pg_class WHERE relname IN ({values})", [], long_list)
                db.fetch_in("SELECT relname FROM pg_class WHERE relname IN ({values})", [], long_list[:2])
            prepared = [row[0] for row in pool.execute_sql("SELECT statement FROM pg_prepared_statements")]
    finally:
        pool.close_all()
        db.bind(database)
    assert [s.count("$") for s in prepared if "pg_class" in s] == [2]  # the short list's statement only
