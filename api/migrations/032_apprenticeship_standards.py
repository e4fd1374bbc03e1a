"""Apprenticeship standards (issue: apprenticeship standards beside units): each standard, its published versions
keyed by (reference number, version), and each version's KSBs and duties in published order."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class ApprenticeshipStandard(pw.Model):
        id = pw.UUIDField(primary_key=True)
        reference_number = pw.CharField(max_length=16, unique=True)
        title = pw.TextField()
        level = pw.IntegerField(null=True)
        route = pw.TextField(null=True)
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "apprenticeship_standard"

    @migrator.create_model
    class ApprenticeshipStandardVersion(pw.Model):
        id = pw.UUIDField(primary_key=True)
        standard = pw.ForeignKeyField(column_name="standard_id", field="id", model=ApprenticeshipStandard,
                                      on_delete="RESTRICT", index=False)
        version = pw.CharField(max_length=16)
        status = pw.CharField(max_length=16, null=True)
        status_source = pw.TextField(null=True)
        title = pw.TextField()
        level = pw.IntegerField(null=True)
        earliest_start_date = pw.DateField(null=True)
        latest_start_date = pw.DateField(null=True)
        minimum_otj_hours = pw.IntegerField(null=True)
        minimum_otj_hours_read_on = pw.DateField()
        source = pw.TextField()
        source_hash = pw.CharField(max_length=64)
        document = pw.TextField()
        etag = pw.CharField(max_length=80)
        imported_at = pw.DateTimeField()
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "apprenticeship_standard_version"
            indexes = [(("standard", "version"), True)]

    @migrator.create_model
    class ApprenticeshipKsb(pw.Model):
        id = pw.UUIDField(primary_key=True)
        version = pw.ForeignKeyField(column_name="version_id", field="id", model=ApprenticeshipStandardVersion,
                                     on_delete="CASCADE", index=False)
        ksb_id = pw.CharField(max_length=64, null=True, index=True)
        kind = pw.CharField(max_length=16)
        code = pw.CharField(max_length=16)
        position = pw.IntegerField()
        detail = pw.TextField()
        detail_source = pw.TextField()

        class Meta:
            table_name = "apprenticeship_ksb"
            indexes = [(("version", "code"), True)]

    @migrator.create_model
    class ApprenticeshipDuty(pw.Model):
        id = pw.UUIDField(primary_key=True)
        version = pw.ForeignKeyField(column_name="version_id", field="id", model=ApprenticeshipStandardVersion,
                                     on_delete="CASCADE", index=False)
        duty_id = pw.CharField(max_length=64, null=True)
        code = pw.CharField(max_length=16)
        position = pw.IntegerField()
        detail = pw.TextField()
        detail_source = pw.TextField()
        is_core = pw.BooleanField(null=True)
        ksb_codes = pw.TextField()
        unresolved_ksb_ids = pw.TextField()

        class Meta:
            table_name = "apprenticeship_duty"
            indexes = [(("version", "code"), True)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    for table in ("apprenticeship_duty", "apprenticeship_ksb", "apprenticeship_standard_version",
                  "apprenticeship_standard"):
        migrator.remove_model(table)
