"""Awarding bodies as credential issuers: a body that issues (a row of issuing_body) signs the credentials of its
units and qualifications with its own keys and keeps its own status lists (an issuer key names a centre or a body;
a credential names the body that issued it, when one did)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class IssuingBody(pw.Model):
        awarding_body = pw.ForeignKeyField(column_name="awarding_body_id", field="id",
                                           model=migrator.orm["awarding_body"], primary_key=True,
                                           on_delete="CASCADE")
        since = pw.DateTimeField()

        class Meta:
            table_name = "issuing_body"

    migrator.drop_not_null("issuer_key", "centre")
    migrator.add_fields("issuer_key", awarding_body=pw.ForeignKeyField(
        column_name="awarding_body_id", field="id", model=migrator.orm["awarding_body"], null=True,
        on_delete="RESTRICT", index=False))
    migrator.add_fields("credential", issuer_body=pw.ForeignKeyField(
        column_name="issuer_body_id", field="id", model=migrator.orm["awarding_body"], null=True,
        on_delete="RESTRICT", index=False))
    migrator.sql("CREATE UNIQUE INDEX issuer_key_one_current_body ON issuer_key (awarding_body_id) "
                 "WHERE retired_at IS NULL")
    migrator.sql("CREATE UNIQUE INDEX credential_issuer_body_status ON credential (issuer_body_id, status_list, "
                 "status_index) WHERE issuer_body_id IS NOT NULL")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql('DELETE FROM "credential" WHERE "issuer_body_id" IS NOT NULL')
    migrator.sql('DELETE FROM "issuer_key" WHERE "centre_id" IS NULL')
    migrator.sql('DROP INDEX IF EXISTS "credential_issuer_body_status"')
    migrator.sql('DROP INDEX IF EXISTS "issuer_key_one_current_body"')
    migrator.remove_fields("credential", "issuer_body")
    migrator.remove_fields("issuer_key", "awarding_body")
    migrator.add_not_null("issuer_key", "centre")
    migrator.remove_model("issuing_body")
