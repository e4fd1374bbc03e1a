"""Apprenticeship standard versions as CASE frameworks (issue 27): an index of which version holds each CFItem and
CFAssociation by identifier, for the provider's lookups. Filled for every version stored."""

import json

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class ApprenticeshipCaseMember(pw.Model):
        identifier = pw.UUIDField(primary_key=True)
        version = pw.ForeignKeyField(column_name="version_id", field="id",
                                     model=migrator.orm["apprenticeship_standard_version"], on_delete="CASCADE")
        kind = pw.CharField(max_length=16)

        class Meta:
            table_name = "apprenticeship_case_member"

    if not fake:
        migrator.run(_fill, database)


def _fill(database: pw.Database) -> None:
    from api.services.interop import case_standards

    ids = pw.UUIDField()
    insert = ("INSERT INTO apprenticeship_case_member (identifier, version_id, kind) "
              f"VALUES ({database.param}, {database.param}, {database.param})")
    for version_id, document in database.execute_sql("SELECT id, document FROM apprenticeship_standard_version"
                                                      ).fetchall():
        for identifier, kind in case_standards.members(json.loads(document)):
            database.execute_sql(insert, (ids.db_value(identifier), ids.db_value(version_id), kind))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("apprenticeship_case_member")
