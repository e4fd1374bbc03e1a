"""Bulk learner imports: the job of each run and the rows it refused."""

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator

with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext  # noqa: F401


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class LearnerImport(pw.Model):
        id = pw.UUIDField(primary_key=True)
        centre = pw.ForeignKeyField(column_name='centre_id', field='id', model=migrator.orm['centre'],
                                    on_delete='RESTRICT')
        actor = pw.CharField(max_length=80)
        file_sha256 = pw.CharField(index=True, max_length=64)
        file_format = pw.CharField(max_length=8)
        mode = pw.CharField(max_length=16)
        dry_run = pw.BooleanField(default=False)
        status = pw.CharField(default='running', max_length=16)
        received = pw.IntegerField(default=0)
        created = pw.IntegerField(default=0)
        updated = pw.IntegerField(default=0)
        unchanged = pw.IntegerField(default=0)
        rejected = pw.IntegerField(default=0)
        rows_done = pw.IntegerField(default=0)
        started_at = pw.DateTimeField()
        finished_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "learner_import"

    @migrator.create_model
    class LearnerImportProblem(pw.Model):
        id = pw.AutoField()
        job = pw.ForeignKeyField(column_name='job_id', field='id', model=migrator.orm['learner_import'],
                                 on_delete='CASCADE')
        row = pw.IntegerField()
        field = pw.CharField(max_length=64)
        message = pw.TextField()

        class Meta:
            table_name = "learner_import_problem"
            indexes = [(('job', 'row'), False)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model('learner_import_problem')
    migrator.remove_model('learner_import')
