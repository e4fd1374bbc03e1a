"""Apply the schema migrations in api/migrations (peewee-migrate) to a database."""

import logging
from pathlib import Path

import peewee
from peewee_migrate import Router

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def router_for(database: peewee.Database) -> Router:
    return Router(database, migrate_dir=MIGRATIONS_DIR, ignore=["basemodel"], logger=logging.getLogger("migrations"))


def migrate(database: peewee.Database) -> list[str]:
    """Apply every pending migration; return the names applied (empty when the schema is current)."""
    router = router_for(database)
    pending = router.diff
    if pending:
        router.run()
    return pending


def pending_migrations(database: peewee.Database) -> list[str]:
    """Names of migrations not yet applied."""
    return router_for(database).diff
