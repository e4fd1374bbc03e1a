"""Each CASE framework version names the units made from its parts that have the unit shape (``units``: JSON, each
{unit_id, code}), so a framework links to its units as its units link to it (their CASE identifiers)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields("case_framework_version", units=pw.TextField(null=True))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields("case_framework_version", "units")
