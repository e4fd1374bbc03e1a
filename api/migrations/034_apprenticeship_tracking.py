"""Apprenticeships as tracked (issue: apprenticeship standards beside units): unit criteria mapped to KSBs, a
learner's apprenticeship and the unit enrolments that deliver it, off-the-job training activities, and the funding
rule sets for planned off-the-job hours (seeded from data/otj-rule-sets.json; `qualtrack load-otj-rules` updates
them)."""

import json

import peewee as pw
from peewee_migrate import Migrator

RULE_COLUMNS = ("id", "title", "applies_from", "applies_until", "method", "percent", "weekly_hours",
                "full_time_weekly_hours", "statutory_leave_weeks_per_year", "minimum_hours", "sources", "updated_at")


def _seed_rule_sets(database: pw.Database) -> None:
    from datetime import UTC, datetime

    from api.config import PROJECT_ROOT

    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    placeholders = ", ".join([database.param] * len(RULE_COLUMNS))
    rule_sets = PROJECT_ROOT / "data" / "otj-rule-sets.json"
    for rule in json.loads(rule_sets.read_text(encoding="utf-8"))["rule_sets"]:
        values = [rule.get(column) for column in RULE_COLUMNS[:-2]]
        values += [json.dumps(rule.get("sources", []), sort_keys=True, separators=(",", ":")), now]
        database.execute_sql(f"INSERT INTO otj_rule_set ({', '.join(RULE_COLUMNS)}) VALUES ({placeholders})", values)


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    orm = migrator.orm

    @migrator.create_model
    class KsbMapping(pw.Model):
        id = pw.UUIDField(primary_key=True)
        unit_version = pw.ForeignKeyField(column_name="unit_version_id", field="id", model=orm["unit_version"],
                                          on_delete="CASCADE")
        criterion = pw.ForeignKeyField(column_name="criterion_id", field="id", model=orm["assessment_criterion"],
                                       null=True, on_delete="CASCADE", index=False)
        standard_version = pw.ForeignKeyField(column_name="standard_version_id", field="id",
                                              model=orm["apprenticeship_standard_version"], on_delete="CASCADE",
                                              index=False)
        ksb_code = pw.CharField(max_length=16)
        ksb_guid = pw.CharField(max_length=64, null=True)
        carried_from = pw.UUIDField(null=True)
        created_by = pw.CharField(max_length=80)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "ksb_mapping"
            indexes = [(("standard_version", "ksb_code"), False)]

    @migrator.create_model
    class Apprenticeship(pw.Model):
        id = pw.UUIDField(primary_key=True)
        learner = pw.ForeignKeyField(column_name="learner_id", field="id", model=orm["learner"], on_delete="RESTRICT")
        centre = pw.ForeignKeyField(column_name="centre_id", field="id", model=orm["centre"], on_delete="RESTRICT")
        standard_version = pw.ForeignKeyField(column_name="standard_version_id", field="id",
                                              model=orm["apprenticeship_standard_version"], on_delete="RESTRICT",
                                              index=False)
        option_id = pw.CharField(max_length=64, null=True)
        start_date = pw.DateField()
        planned_end_date = pw.DateField()
        weekly_hours = pw.FloatField(null=True)
        prior_learning_hours = pw.IntegerField()
        gateway_date = pw.DateField(null=True)
        status = pw.CharField(max_length=16)
        row_version = pw.IntegerField()
        created_at = pw.DateTimeField()
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "apprenticeship"

    @migrator.create_model
    class ApprenticeshipUnit(pw.Model):
        apprenticeship = pw.ForeignKeyField(column_name="apprenticeship_id", field="id", model=Apprenticeship,
                                            on_delete="CASCADE")
        enrolment = pw.ForeignKeyField(column_name="enrolment_id", field="id", model=orm["enrolment"],
                                       on_delete="RESTRICT")

        class Meta:
            table_name = "apprenticeship_unit"
            primary_key = pw.CompositeKey("apprenticeship", "enrolment")

    @migrator.create_model
    class OtjActivity(pw.Model):
        id = pw.UUIDField(primary_key=True)
        apprenticeship = pw.ForeignKeyField(column_name="apprenticeship_id", field="id", model=Apprenticeship,
                                            on_delete="RESTRICT", index=False)
        centre = pw.ForeignKeyField(column_name="centre_id", field="id", model=orm["centre"], on_delete="RESTRICT",
                                    index=False)
        learner = pw.ForeignKeyField(column_name="learner_id", field="id", model=orm["learner"],
                                     on_delete="RESTRICT", index=False)
        activity_date = pw.DateField()
        minutes = pw.IntegerField()
        kind = pw.CharField(max_length=32)
        description = pw.TextField()
        ksb_codes = pw.TextField()
        evidence = pw.ForeignKeyField(column_name="evidence_id", field="id", model=orm["evidence"], null=True,
                                      on_delete="RESTRICT", index=False)
        external_ref = pw.CharField(max_length=128, null=True)
        recorded_by = pw.CharField(max_length=80)
        confirmed_by = pw.CharField(max_length=80, null=True)
        confirmed_at = pw.DateTimeField(null=True)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "otj_activity"
            indexes = [(("apprenticeship", "activity_date"), False)]

    @migrator.create_model
    class OtjRuleSet(pw.Model):
        id = pw.CharField(max_length=64, primary_key=True)
        title = pw.TextField()
        applies_from = pw.DateField()
        applies_until = pw.DateField(null=True)
        method = pw.CharField(max_length=32)
        percent = pw.FloatField(null=True)
        weekly_hours = pw.FloatField(null=True)
        full_time_weekly_hours = pw.FloatField(null=True)
        statutory_leave_weeks_per_year = pw.FloatField(null=True)
        minimum_hours = pw.IntegerField(null=True)
        sources = pw.TextField()
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "otj_rule_set"

    migrator.sql("CREATE UNIQUE INDEX apprenticeship_learner_version_live ON apprenticeship "
                 "(learner_id, standard_version_id) WHERE status <> 'withdrawn'")
    migrator.sql("CREATE UNIQUE INDEX otj_activity_external_ref ON otj_activity (apprenticeship_id, external_ref) "
                 "WHERE external_ref IS NOT NULL")
    migrator.run(_seed_rule_sets, database)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    for table in ("otj_rule_set", "otj_activity", "apprenticeship_unit", "apprenticeship", "ksb_mapping"):
        migrator.remove_model(table)
