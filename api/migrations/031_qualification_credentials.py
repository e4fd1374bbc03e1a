"""Credentials for qualifications as well as units: a credential names the enrolment whose unit it records, or the
qualification whose rules of combination its learner met (the enrolment and unit version become nullable; SQLite
rebuilds the table to drop NOT NULL, keeping every credential). One is live per learner and qualification."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.drop_not_null("credential", "enrolment", "unit_version")
    migrator.add_fields(
        "credential",
        qualification=pw.ForeignKeyField(column_name="qualification_id", field="id",
                                         model=migrator.orm["qualification"], null=True, on_delete="RESTRICT",
                                         index=False))
    migrator.sql("CREATE UNIQUE INDEX credential_learner_qualification_live ON credential (learner_id, "
                 "qualification_id) WHERE revoked_at IS NULL AND qualification_id IS NOT NULL")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql('DELETE FROM "credential" WHERE "enrolment_id" IS NULL')
    migrator.sql('DROP INDEX IF EXISTS "credential_learner_qualification_live"')
    migrator.remove_fields("credential", "qualification")
    migrator.add_not_null("credential", "enrolment", "unit_version")
