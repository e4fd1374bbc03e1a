"""Decisions and evidence are listed in updated_at order for clients that keep a copy in sync
(GET /v1/decisions?sort=updated_at&updated_since=..., GET /v1/evidence likewise): each gains ``updated_at``, set to
``created_at`` for the records already there, and an index in that order with the id that breaks ties."""

import peewee as pw
from peewee_migrate import Migrator

TABLES = ("decision", "evidence")


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    sqlite = isinstance(database, pw.SqliteDatabase)
    for table in TABLES:
        migrator.sql(f'ALTER TABLE "{table}" ADD COLUMN "updated_at" {"DATETIME" if sqlite else "TIMESTAMP"}')
        migrator.sql(f'UPDATE "{table}" SET "updated_at" = "created_at"')
        if not sqlite:  # SQLite cannot add NOT NULL to a column; the model always writes it
            migrator.sql(f'ALTER TABLE "{table}" ALTER COLUMN "updated_at" SET NOT NULL')
        migrator.sql(f'CREATE INDEX IF NOT EXISTS "{table}_updated_at_id" ON "{table}" ("updated_at", "id")')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    for table in TABLES:
        migrator.sql(f'DROP INDEX IF EXISTS "{table}_updated_at_id"')
        migrator.sql(f'ALTER TABLE "{table}" DROP COLUMN "updated_at"')
