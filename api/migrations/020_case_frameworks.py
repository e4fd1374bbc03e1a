"""CASE frameworks imported whole (issue: lossless CASE): a framework (identity: its CFDocument's identifier, owned by
an awarding body), its versions (the package as stored, draft, published or withdrawn), and an index of which version
holds each member (item, association, definition, rubric) by identifier, for the provider's lookups."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class CaseFramework(pw.Model):
        id = pw.UUIDField(primary_key=True)
        owner = pw.ForeignKeyField(column_name="owner_id", field="id", model=migrator.orm["awarding_body"],
                                   on_delete="RESTRICT")
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "case_framework"

    @migrator.create_model
    class CaseFrameworkVersion(pw.Model):
        id = pw.UUIDField(primary_key=True)
        framework = pw.ForeignKeyField(column_name="framework_id", field="id", model=migrator.orm["case_framework"],
                                       on_delete="CASCADE")
        number = pw.IntegerField()
        status = pw.CharField(max_length=16)
        title = pw.TextField()
        package = pw.TextField()
        package_hash = pw.CharField(max_length=64)
        created_at = pw.DateTimeField()
        updated_at = pw.DateTimeField()
        published_at = pw.DateTimeField(null=True)
        withdrawn_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "case_framework_version"
            indexes = [(("framework", "number"), True)]

    @migrator.create_model
    class CaseFrameworkMember(pw.Model):
        version = pw.ForeignKeyField(column_name="version_id", field="id",
                                     model=migrator.orm["case_framework_version"], on_delete="CASCADE")
        kind = pw.CharField(max_length=32)
        identifier = pw.CharField(max_length=200)
        position = pw.IntegerField()

        class Meta:
            table_name = "case_framework_member"
            primary_key = pw.CompositeKey("version", "kind", "identifier")
            indexes = [(("identifier", "kind"), False)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("case_framework_member")
    migrator.remove_model("case_framework_version")
    migrator.remove_model("case_framework")
