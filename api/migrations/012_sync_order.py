"""Learners and enrolments are listed in updated_at order for clients that keep a copy in sync
(GET /v1/learners?sort=updated_at&updated_since=...): an index in that order, with the id that breaks ties."""

import peewee as pw
from peewee_migrate import Migrator

INDEXES = {"learner_updated_at_id": "learner", "enrolment_updated_at_id": "enrolment"}


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    for name, table in INDEXES.items():
        migrator.sql(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("updated_at", "id")')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    for name in INDEXES:
        migrator.sql(f'DROP INDEX IF EXISTS "{name}"')
