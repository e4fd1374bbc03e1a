"""KSBs assessed directly: evidence an apprentice offers for KSBs of their standard version, and assessor decisions on
a KSB, append-only with countersignatures and IQA samples and verdicts, as for unit criteria (api.models.tracking).

A decision is written once; only its ``updated_at`` changes (when it is countersigned, sampled or given a verdict), so
sync clients see it again. Countersignatures, samples and verdicts are rows of their own, one per decision, keyed by
it, so two at once cannot both land.
"""

import peewee

from api.models.accounts import Account, Centre
from api.models.apprenticeship_tracking import Apprenticeship
from api.models.base import BaseModel, JSONTextField, utcnow
from api.models.content import EvidenceType
from api.models.tracking import Learner


class KsbEvidence(BaseModel):
    """Evidence for KSBs of an apprenticeship's standard version (claimed in KsbClaim)."""

    id = peewee.UUIDField(primary_key=True)
    apprenticeship = peewee.ForeignKeyField(Apprenticeship, on_delete="RESTRICT")
    centre = peewee.ForeignKeyField(Centre, on_delete="RESTRICT", index=False)  # the apprenticeship's
    learner = peewee.ForeignKeyField(Learner, on_delete="RESTRICT", index=False)  # the apprenticeship's
    evidence_type = peewee.ForeignKeyField(EvidenceType, on_delete="RESTRICT", index=False)
    title = peewee.CharField(max_length=300)
    description = peewee.TextField(null=True)
    evidence_date = peewee.DateField()
    reference_uri = peewee.CharField(max_length=2000, null=True)
    sha256 = peewee.CharField(max_length=64, null=True)
    authenticity_declared = peewee.BooleanField(default=False)
    submitted_by = peewee.CharField(max_length=80)  # "account:<id>" or "client:<id>"
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "ksb_evidence"


class KsbClaim(BaseModel):
    """A piece of KSB evidence claimed for one KSB (by its code in the apprenticeship's standard version)."""

    evidence = peewee.ForeignKeyField(KsbEvidence, on_delete="RESTRICT", index=False)  # leads the key
    apprenticeship = peewee.ForeignKeyField(Apprenticeship, on_delete="RESTRICT", index=False)  # index below
    ksb_code = peewee.CharField(max_length=16)

    class Meta:
        table_name = "ksb_claim"
        primary_key = peewee.CompositeKey("evidence", "ksb_code")
        indexes = ((("apprenticeship", "ksb_code"), False),)


class KsbDecision(BaseModel):
    """An assessor's judgement on one KSB of one apprenticeship. Append-only: a new one supersedes the last, and
    (apprenticeship, ksb_code, sequence) is unique, so racing writers cannot fork the history."""

    id = peewee.UUIDField(primary_key=True)
    apprenticeship = peewee.ForeignKeyField(Apprenticeship, on_delete="RESTRICT", index=False)  # leads the key
    centre = peewee.ForeignKeyField(Centre, on_delete="RESTRICT", index=False)  # the apprenticeship's
    learner = peewee.ForeignKeyField(Learner, on_delete="RESTRICT", index=False)  # the apprenticeship's
    ksb_code = peewee.CharField(max_length=16)
    sequence = peewee.IntegerField()
    outcome = peewee.CharField(max_length=16)  # DECISION_OUTCOMES
    feedback = peewee.TextField()
    reason = peewee.TextField(null=True)  # why it supersedes the previous decision
    supersedes = peewee.UUIDField(null=True)
    assessor = peewee.ForeignKeyField(Account, on_delete="RESTRICT")
    assessor_status = peewee.CharField(max_length=16)  # qualified | trainee, as at the time of the decision
    evidence_ids = JSONTextField(default=list)
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "ksb_decision"
        indexes = ((("apprenticeship", "ksb_code", "sequence"), True),)


class KsbCountersignature(BaseModel):
    """A qualified assessor's countersignature that lets a trainee's KSB decision take effect."""

    decision = peewee.ForeignKeyField(KsbDecision, primary_key=True, on_delete="RESTRICT")
    account = peewee.ForeignKeyField(Account, on_delete="RESTRICT", index=False)
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "ksb_countersignature"


class KsbIqaSample(BaseModel):
    """An IQA's sample of a KSB decision, awaiting (or given) a verdict."""

    decision = peewee.ForeignKeyField(KsbDecision, primary_key=True, on_delete="RESTRICT")
    apprenticeship = peewee.ForeignKeyField(Apprenticeship, on_delete="RESTRICT")
    iqa = peewee.ForeignKeyField(Account, on_delete="RESTRICT", index=False)
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "ksb_iqa_sample"


class KsbIqaVerdict(BaseModel):
    """confirmed or not_confirmed on a sampled KSB decision; once, never changed."""

    decision = peewee.ForeignKeyField(KsbIqaSample, primary_key=True, on_delete="RESTRICT",
                                      column_name="decision_id")
    verdict = peewee.CharField(max_length=16)
    actions = peewee.TextField(null=True)
    iqa = peewee.ForeignKeyField(Account, on_delete="RESTRICT", index=False)
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "ksb_iqa_verdict"


KSB_ASSESSMENT_MODELS = [KsbEvidence, KsbClaim, KsbDecision, KsbCountersignature, KsbIqaSample, KsbIqaVerdict]
