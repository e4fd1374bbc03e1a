"""Each tally carries its enrolment's unit version (so `qualtrack check-progress` can tell a tally left on an old
version), and tallies and enrolments are indexed by (centre, unit version), prefixes of which serve every read by
centre. (This release first summed a centre's progress by version here; migration 018 gives every enrolment a tally
instead, which PostgreSQL answers without a subquery per enrolment.) SQLite cannot add a NOT NULL column to a table
with rows: there the table is rebuilt."""

import peewee as pw
from peewee_migrate import Migrator

COUNTS = ("criteria", "claimed", "met", "verified", "reopened", "iqa_outstanding", "awaiting_countersignature")
INDEXES = (('DROP INDEX IF EXISTS "enrolment_centre_id"',
            'CREATE INDEX IF NOT EXISTS "enrolment_centre_id_unit_version_id" ON "enrolment" ("centre_id", '
            '"unit_version_id")'),
           ('DROP INDEX IF EXISTS "enrolmenttally_centre_id"',
            'CREATE INDEX IF NOT EXISTS "enrolmenttally_centre_id_unit_version_id" ON "enrolment_tally" ("centre_id", '
            '"unit_version_id")'))


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    if isinstance(database, pw.SqliteDatabase):
        counts = ", ".join(f'"{c}" INTEGER NOT NULL' for c in COUNTS)
        migrator.sql(f'CREATE TABLE "enrolment_tally_017" ("enrolment_id" TEXT NOT NULL PRIMARY KEY '
                     f'REFERENCES "enrolment" ("id") ON DELETE CASCADE, "centre_id" TEXT NOT NULL '
                     f'REFERENCES "centre" ("id") ON DELETE RESTRICT, "unit_version_id" TEXT NOT NULL '
                     f'REFERENCES "unit_version" ("id") ON DELETE RESTRICT, {counts}, "complete" BOOLEAN NOT NULL)')
        columns = ", ".join(f"t.{c}" for c in COUNTS)
        migrator.sql(f'INSERT INTO "enrolment_tally_017" SELECT t.enrolment_id, t.centre_id, e.unit_version_id, '
                     f'{columns}, t.complete FROM enrolment_tally t JOIN enrolment e ON e.id = t.enrolment_id')
        migrator.sql('DROP TABLE "enrolment_tally"')
        migrator.sql('ALTER TABLE "enrolment_tally_017" RENAME TO "enrolment_tally"')
    else:
        migrator.sql('ALTER TABLE "enrolment_tally" ADD COLUMN "unit_version_id" UUID REFERENCES "unit_version" ("id") '
                     'ON DELETE RESTRICT')
        migrator.sql('UPDATE enrolment_tally t SET unit_version_id = e.unit_version_id FROM enrolment e '
                     'WHERE e.id = t.enrolment_id')
        migrator.sql('ALTER TABLE "enrolment_tally" ALTER COLUMN "unit_version_id" SET NOT NULL')
    for drop, create in INDEXES:
        migrator.sql(drop)
        migrator.sql(create)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql('DROP INDEX IF EXISTS "enrolmenttally_centre_id_unit_version_id"')
    migrator.sql('CREATE INDEX IF NOT EXISTS "enrolmenttally_centre_id" ON "enrolment_tally" ("centre_id")')
    migrator.sql('DROP INDEX IF EXISTS "enrolment_centre_id_unit_version_id"')
    migrator.sql('CREATE INDEX IF NOT EXISTS "enrolment_centre_id" ON "enrolment" ("centre_id")')
    migrator.sql('ALTER TABLE "enrolment_tally" DROP COLUMN "unit_version_id"')
