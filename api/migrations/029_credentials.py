"""Open Badges 3.0 credentials (issue: achievements that travel): each centre's Ed25519 signing keys (one current,
the retired ones kept so their credentials stay verifiable), and the credentials issued when enrolments became
complete, each with its place in its centre's revocation status list."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class IssuerKey(pw.Model):
        id = pw.UUIDField(primary_key=True)
        centre = pw.ForeignKeyField(column_name="centre_id", field="id", model=migrator.orm["centre"],
                                    on_delete="RESTRICT")
        public_key_multibase = pw.CharField(max_length=64, unique=True)
        sealed_private_key = pw.CharField(max_length=200)
        created_at = pw.DateTimeField()
        retired_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "issuer_key"

    @migrator.create_model
    class Credential(pw.Model):
        id = pw.UUIDField(primary_key=True)
        centre = pw.ForeignKeyField(column_name="centre_id", field="id", model=migrator.orm["centre"],
                                    on_delete="RESTRICT", index=False)
        learner = pw.ForeignKeyField(column_name="learner_id", field="id", model=migrator.orm["learner"],
                                     on_delete="RESTRICT", index=False)
        enrolment = pw.ForeignKeyField(column_name="enrolment_id", field="id", model=migrator.orm["enrolment"],
                                       on_delete="RESTRICT")
        unit_version = pw.ForeignKeyField(column_name="unit_version_id", field="id",
                                          model=migrator.orm["unit_version"], on_delete="RESTRICT", index=False)
        document = pw.TextField()
        status_list = pw.IntegerField()
        status_index = pw.IntegerField()
        issued_at = pw.DateTimeField()
        revoked_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "credential"
            indexes = [(("centre", "status_list", "status_index"), True), (("learner", "issued_at"), False)]

    migrator.sql("CREATE UNIQUE INDEX issuer_key_one_current ON issuer_key (centre_id) WHERE retired_at IS NULL")
    migrator.sql("CREATE UNIQUE INDEX credential_enrolment_id_live ON credential (enrolment_id) "
                 "WHERE revoked_at IS NULL")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("credential")
    migrator.remove_model("issuer_key")
