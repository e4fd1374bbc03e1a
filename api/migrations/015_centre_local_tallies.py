"""A centre's progress reads only its own rows: enrolment_staff and enrolment_tally carry the enrolment's centre
(an enrolment never changes centre), indexed, so the roll-up and its by-assessor breakdown seek the centre in each
table instead of joining whole tables (which PostgreSQL's planner chose at 100,000 enrolments: a sequential scan of
both, 56 ms for a centre of 2,000).

enrolment_staff gains centre_id NOT NULL (SQLite cannot add a NOT NULL column to a table with rows: the table is
rebuilt); enrolment_tally is made again with it, and every tally stored again."""

import peewee as pw
from peewee_migrate import Migrator

STAFF_INDEX = 'CREATE INDEX IF NOT EXISTS "enrolmentstaff_centre_id_role" ON "enrolment_staff" ("centre_id", "role")'
COUNTS = ("criteria", "claimed", "met", "verified", "reopened", "iqa_outstanding", "awaiting_countersignature")


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    sqlite = isinstance(database, pw.SqliteDatabase)
    key = "TEXT" if sqlite else "UUID"
    if sqlite:
        migrator.sql(f'CREATE TABLE "enrolment_staff_015" ("enrolment_id" {key} NOT NULL, "account_id" {key} NOT NULL, '
                     f'"centre_id" {key} NOT NULL, "role" VARCHAR(16) NOT NULL, '
                     'PRIMARY KEY ("enrolment_id", "account_id", "role"), '
                     'FOREIGN KEY ("enrolment_id") REFERENCES "enrolment" ("id") ON DELETE CASCADE, '
                     'FOREIGN KEY ("account_id") REFERENCES "account" ("id") ON DELETE RESTRICT, '
                     'FOREIGN KEY ("centre_id") REFERENCES "centre" ("id") ON DELETE RESTRICT)')
        migrator.sql('INSERT INTO "enrolment_staff_015" SELECT s.enrolment_id, s.account_id, e.centre_id, s.role '
                     'FROM enrolment_staff s JOIN enrolment e ON e.id = s.enrolment_id')
        migrator.sql('DROP TABLE "enrolment_staff"')
        migrator.sql('ALTER TABLE "enrolment_staff_015" RENAME TO "enrolment_staff"')
        for column in ("enrolment_id", "account_id"):  # the indexes the table had
            migrator.sql(f'CREATE INDEX IF NOT EXISTS "enrolmentstaff_{column}" ON "enrolment_staff" ("{column}")')
    else:
        migrator.sql('ALTER TABLE "enrolment_staff" ADD COLUMN "centre_id" UUID REFERENCES "centre" ("id") '
                     'ON DELETE RESTRICT')
        migrator.sql('UPDATE enrolment_staff s SET centre_id = e.centre_id FROM enrolment e WHERE e.id = s.enrolment_id')
        migrator.sql('ALTER TABLE "enrolment_staff" ALTER COLUMN "centre_id" SET NOT NULL')
    migrator.sql(STAFF_INDEX)
    migrator.sql('DROP TABLE IF EXISTS "enrolment_tally"')
    counts = ", ".join(f'"{c}" INTEGER NOT NULL' for c in COUNTS)
    migrator.sql(f'CREATE TABLE "enrolment_tally" ("enrolment_id" {key} NOT NULL PRIMARY KEY '
                 f'REFERENCES "enrolment" ("id") ON DELETE CASCADE, "centre_id" {key} NOT NULL '
                 f'REFERENCES "centre" ("id") ON DELETE RESTRICT, {counts}, "complete" BOOLEAN NOT NULL)')
    migrator.sql('CREATE INDEX IF NOT EXISTS "enrolmenttally_centre_id" ON "enrolment_tally" ("centre_id")')
    if not fake:
        migrator.run(_tally_assessed_enrolments)


def _tally_assessed_enrolments():
    from api.services.tracking import tallies
    tallies.rebuild()


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql('DROP INDEX IF EXISTS "enrolmentstaff_centre_id_role"')
    migrator.sql('DROP INDEX IF EXISTS "enrolmenttally_centre_id"')
