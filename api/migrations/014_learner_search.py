"""Learner search (GET /v1/learners?q=, api.services.tracking.learner_search): a name prefix is a range on
lower(name) within the caller's centres, served by an index on (centre_id, lower(name)) for each name, compared in
code point order (PostgreSQL's "C" collation; SQLite's default); an external id is looked up on its own, without its
system, by an index on (external_id, centre_id): the primary key (centre_id, system, external_id) cannot seek it."""

import peewee as pw
from peewee_migrate import Migrator

NAME_INDEXES = {"learner_centre_id_lower_family_name": "family_name",
                "learner_centre_id_lower_given_name": "given_name"}
EXTERNAL_ID_INDEX = "learnerexternalid_external_id_centre_id"


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    collate = "" if isinstance(database, pw.SqliteDatabase) else ' COLLATE "C"'
    for name, column in NAME_INDEXES.items():
        migrator.sql(f'CREATE INDEX IF NOT EXISTS "{name}" ON "learner" ("centre_id", (lower("{column}"){collate}))')
    migrator.sql(f'CREATE INDEX IF NOT EXISTS "{EXTERNAL_ID_INDEX}" ON "learner_external_id" '
                 '("external_id", "centre_id")')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    for name in (*NAME_INDEXES, EXTERNAL_ID_INDEX):
        migrator.sql(f'DROP INDEX IF EXISTS "{name}"')
