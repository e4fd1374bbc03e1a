"""A centre's progress by assessor reads only the centre's staff assignments: enrolment_staff carries the
enrolment's centre (an enrolment never changes centre), indexed with the role, so the breakdown seeks the centre
instead of joining the whole table (which PostgreSQL's planner chose at 100,000 enrolments: a sequential scan, 56 ms
for a centre of 2,000). SQLite cannot add a NOT NULL column to a table with rows: there the table is rebuilt."""

import peewee as pw
from peewee_migrate import Migrator

STAFF_INDEX = 'CREATE INDEX IF NOT EXISTS "enrolmentstaff_centre_id_role" ON "enrolment_staff" ("centre_id", "role")'


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


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql('DROP INDEX IF EXISTS "enrolmentstaff_centre_id_role"')
