"""KSBs assessed directly (issue: apprenticeship standards beside units): evidence claimed for KSBs of an
apprenticeship's standard version, and append-only assessor decisions on a KSB with their countersignatures, IQA
samples and verdicts (api.models.ksb_assessment)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    orm = migrator.orm

    def restrict(name: str, model, **kwargs) -> pw.ForeignKeyField:
        return pw.ForeignKeyField(column_name=f"{name}_id", field=kwargs.pop("field", "id"), model=model,
                                  on_delete="RESTRICT", **kwargs)

    @migrator.create_model
    class KsbEvidence(pw.Model):
        id = pw.UUIDField(primary_key=True)
        apprenticeship = restrict("apprenticeship", orm["apprenticeship"])
        centre = restrict("centre", orm["centre"], index=False)
        learner = restrict("learner", orm["learner"], index=False)
        evidence_type = restrict("evidence_type", orm["evidence_type"], field="code", index=False)
        title = pw.CharField(max_length=300)
        description = pw.TextField(null=True)
        evidence_date = pw.DateField()
        reference_uri = pw.CharField(max_length=2000, null=True)
        sha256 = pw.CharField(max_length=64, null=True)
        authenticity_declared = pw.BooleanField()
        submitted_by = pw.CharField(max_length=80)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "ksb_evidence"

    @migrator.create_model
    class KsbClaim(pw.Model):
        evidence = restrict("evidence", KsbEvidence, index=False)
        apprenticeship = restrict("apprenticeship", orm["apprenticeship"], index=False)
        ksb_code = pw.CharField(max_length=16)

        class Meta:
            table_name = "ksb_claim"
            primary_key = pw.CompositeKey("evidence", "ksb_code")
            indexes = [(("apprenticeship", "ksb_code"), False)]

    @migrator.create_model
    class KsbDecision(pw.Model):
        id = pw.UUIDField(primary_key=True)
        apprenticeship = restrict("apprenticeship", orm["apprenticeship"], index=False)
        centre = restrict("centre", orm["centre"], index=False)
        learner = restrict("learner", orm["learner"], index=False)
        ksb_code = pw.CharField(max_length=16)
        sequence = pw.IntegerField()
        outcome = pw.CharField(max_length=16)
        feedback = pw.TextField()
        reason = pw.TextField(null=True)
        supersedes = pw.UUIDField(null=True)
        assessor = restrict("assessor", orm["account"])
        assessor_status = pw.CharField(max_length=16)
        evidence_ids = pw.TextField()
        created_at = pw.DateTimeField()
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "ksb_decision"
            indexes = [(("apprenticeship", "ksb_code", "sequence"), True)]

    @migrator.create_model
    class KsbCountersignature(pw.Model):
        decision = restrict("decision", KsbDecision, primary_key=True)
        account = restrict("account", orm["account"], index=False)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "ksb_countersignature"

    @migrator.create_model
    class KsbIqaSample(pw.Model):
        decision = restrict("decision", KsbDecision, primary_key=True)
        apprenticeship = restrict("apprenticeship", orm["apprenticeship"])
        iqa = restrict("iqa", orm["account"], index=False)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "ksb_iqa_sample"

    @migrator.create_model
    class KsbIqaVerdict(pw.Model):
        decision = restrict("decision", KsbIqaSample, field="decision", primary_key=True)
        verdict = pw.CharField(max_length=16)
        actions = pw.TextField(null=True)
        iqa = restrict("iqa", orm["account"], index=False)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "ksb_iqa_verdict"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    for table in ("ksb_iqa_verdict", "ksb_iqa_sample", "ksb_countersignature", "ksb_decision", "ksb_claim",
                  "ksb_evidence"):
        migrator.remove_model(table)
