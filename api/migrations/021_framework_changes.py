"""The change feed carries CASE framework versions too: an entry names a unit and its version, or a framework and
its version (the unit columns become nullable; SQLite rebuilds the table to drop NOT NULL, keeping every entry and
its seq)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.drop_not_null("content_change", "unit", "version")
    migrator.add_fields(
        "content_change",
        framework=pw.ForeignKeyField(column_name="framework_id", field="id", model=migrator.orm["case_framework"],
                                     null=True, on_delete="CASCADE"),
        framework_version=pw.ForeignKeyField(column_name="framework_version_id", field="id",
                                             model=migrator.orm["case_framework_version"], null=True,
                                             on_delete="CASCADE"))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql('DELETE FROM "content_change" WHERE "unit_id" IS NULL')
    for column in ("framework_id", "framework_version_id"):  # SQLite drops no column an index still names
        migrator.sql(f'DROP INDEX IF EXISTS "content_change_{column}"')
    migrator.remove_fields("content_change", "framework", "framework_version")
    migrator.add_not_null("content_change", "unit", "version")
