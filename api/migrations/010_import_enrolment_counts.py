"""Learner imports count the enrolments their rows named (created, or already there and left as they are), and
remember whether an empty cell was asked to clear a stored value (a re-run resumes only a job run the same way)."""

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator

with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext  # noqa: F401


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        'learner_import',
        enrolments_created=pw.IntegerField(default=0),
        enrolments_unchanged=pw.IntegerField(default=0),
        clear_empty=pw.BooleanField(default=False))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields('learner_import', 'enrolments_created', 'enrolments_unchanged', 'clear_empty')
