"""Each enrolment's progress counts are kept in ``enrolment_tally``, written with every decision, countersignature,
claim, sample, verdict and migration, so a centre's progress sums rows instead of deriving every enrolment's
document (3.6 s for a centre of 20,000 enrolments). A tally carries its enrolment's centre (an enrolment never
changes centre), indexed, so a centre's roll-up reads only its own tallies. The rows are derived by migration 018
(every enrolment's, from the same derivation every progress document uses)."""

import peewee as pw
from peewee_migrate import Migrator

COLUMNS = ("criteria", "claimed", "met", "verified", "reopened", "iqa_outstanding", "awaiting_countersignature")


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    key = "TEXT" if isinstance(database, pw.SqliteDatabase) else "UUID"
    counts = ", ".join(f'"{c}" INTEGER NOT NULL' for c in COLUMNS)
    migrator.sql(f'CREATE TABLE IF NOT EXISTS "enrolment_tally" ("enrolment_id" {key} NOT NULL PRIMARY KEY '
                 f'REFERENCES "enrolment" ("id") ON DELETE CASCADE, "centre_id" {key} NOT NULL '
                 f'REFERENCES "centre" ("id") ON DELETE RESTRICT, {counts}, "complete" BOOLEAN NOT NULL)')
    migrator.sql('CREATE INDEX IF NOT EXISTS "enrolmenttally_centre_id" ON "enrolment_tally" ("centre_id")')
    # the tallies themselves are derived by migration 018, once the table has the shape the code writes


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql('DROP TABLE IF EXISTS "enrolment_tally"')
