"""Drop three indexes that duplicate others and cost every learner insert (bulk import measured ~0.25 s per 100,000
learners): learner(centre_id) is the leading column of learner(centre_id, uln); learner_external_id(centre_id) is
the leading column of its primary key (centre_id, system, external_id), which a unique index repeated."""

import peewee as pw
from peewee_migrate import Migrator

REDUNDANT = ("learner_centre_id", "learnerexternalid_centre_id", "learnerexternalid_centre_id_system_external_id")


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    for name in REDUNDANT:
        migrator.sql(f'DROP INDEX IF EXISTS "{name}"')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql('CREATE INDEX IF NOT EXISTS "learner_centre_id" ON "learner" ("centre_id")')
    migrator.sql('CREATE INDEX IF NOT EXISTS "learnerexternalid_centre_id" ON "learner_external_id" ("centre_id")')
    migrator.sql('CREATE UNIQUE INDEX IF NOT EXISTS "learnerexternalid_centre_id_system_external_id" '
                 'ON "learner_external_id" ("centre_id", "system", "external_id")')
