"""Each CASE framework version keeps its CFDocument apart (``document``: the CFDocument with only the members it links
to, case_package.document_part), so that listing the frameworks served reads each one's document, not its whole
package. Filled for every stored version."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields("case_framework_version", document=pw.TextField(null=True))
    if not fake:
        migrator.run(_fill, database)


def _fill(database: pw.Database) -> None:
    from api.models.base import JSONTextField
    from api.services.interop import case_package

    stored = JSONTextField()
    for row_id, package in database.execute_sql("SELECT id, package FROM case_framework_version").fetchall():
        part = case_package.document_part(stored.python_value(package))
        database.execute_sql(f"UPDATE case_framework_version SET document = {database.param} WHERE id = {database.param}",
                             (stored.db_value(part), row_id))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields("case_framework_version", "document")
