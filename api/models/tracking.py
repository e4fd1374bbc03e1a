"""Tracking: learners, enrolments pinned to a unit version, evidence and claims, append-only assessor decisions and
countersignatures, IQA sampling plans, samples and verdicts, the audit log, and stored idempotent responses.

Decisions, countersignatures, verdicts and audit events are written once and never deleted; of a decision, only its
``updated_at`` changes (when it is countersigned, sampled or given a verdict), so sync clients see it again.
"""

import peewee

from api.models.accounts import Account, Centre
from api.models.base import BaseModel, JSONTextField, utcnow
from api.models.content import AssessmentCriterion, EvidenceType, Unit, UnitVersion

LEARNER_STATUSES = ("active", "withdrawn")
ENROLMENT_STATUSES = ("active", "completed", "withdrawn", "transferred")
DECISION_OUTCOMES = ("met", "not_yet_met", "referred")
VERDICTS = ("confirmed", "not_confirmed")
STAFF_ROLES = ("assessor", "iqa")  # what an account is on an enrolment (EnrolmentStaff.role)


class Learner(BaseModel):
    id = peewee.UUIDField(primary_key=True)
    centre = peewee.ForeignKeyField(Centre, backref="learners", on_delete="RESTRICT", index=False)  # see Meta
    uln = peewee.CharField(max_length=64)  # 10 digits; a sha256 hex digest once pseudonymised
    given_name = peewee.CharField(max_length=200)
    family_name = peewee.CharField(max_length=200)
    email = peewee.CharField(max_length=254, null=True)
    date_of_birth = peewee.DateField(null=True)
    status = peewee.CharField(max_length=16, default="active")
    row_version = peewee.IntegerField(default=1)
    pseudonymised_at = peewee.DateTimeField(null=True)
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("centre", "uln"), False),  # also serves lookups by centre alone
                   (("updated_at", "id"), False),  # lists in updated_at order (sync)
                   (("family_name", "given_name", "id"), False))  # lists in name order (migration 030)
        # and (centre_id, lower(family_name)), (centre_id, lower(given_name)): name search, on expressions a model
        # cannot declare (migration 014; tests/test_schema_drift.py checks they exist)


TEMPORARY_ULN = "9999999999"  # the placeholder ULN for a learner who has none yet: the one ULN that may repeat
# One learner per (centre, ULN): concurrent creates and imports on several hosts meet here (migration 008)
Learner.add_index(Learner.index(Learner.centre, Learner.uln, unique=True, where=Learner.uln != TEMPORARY_ULN))


class LearnerExternalId(BaseModel):
    """A learner's id in an integrating system (MIS, LMS); unique per system within a centre."""

    learner = peewee.ForeignKeyField(Learner, backref="external_ids", on_delete="CASCADE")
    centre = peewee.ForeignKeyField(Centre, on_delete="RESTRICT", index=False)  # the key's first column
    system = peewee.CharField(max_length=64)
    external_id = peewee.CharField(max_length=128)

    class Meta:
        primary_key = peewee.CompositeKey("centre", "system", "external_id")
        indexes = ((("external_id", "centre"), False),)  # learner search by external id, any system (migration 014)


class Enrolment(BaseModel):
    """A learner on a unit at a centre, pinned to the unit version that was current when they enrolled."""

    id = peewee.UUIDField(primary_key=True)
    learner = peewee.ForeignKeyField(Learner, backref="enrolments", on_delete="RESTRICT")
    centre = peewee.ForeignKeyField(Centre, on_delete="RESTRICT", index=False)  # (centre, unit_version) below
    unit = peewee.ForeignKeyField(Unit, on_delete="RESTRICT")
    unit_version = peewee.ForeignKeyField(UnitVersion, on_delete="RESTRICT")
    status = peewee.CharField(max_length=16, default="active")
    start_date = peewee.DateField()
    planned_end_date = peewee.DateField(null=True)
    row_version = peewee.IntegerField(default=1)
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("updated_at", "id"), False),  # lists in updated_at order (sync)
                   (("centre", "unit_version"), False))  # a centre's enrolments, counted by version (centre progress)


# One active enrolment per (learner, unit): a second enrol of the same learner on the same unit is a conflict
Enrolment.add_index(Enrolment.index(Enrolment.learner, Enrolment.unit, unique=True,
                                    where=Enrolment.status == "active"))


class EnrolmentStaff(BaseModel):
    """An assessor or IQA assigned to an enrolment."""

    enrolment = peewee.ForeignKeyField(Enrolment, backref="staff", on_delete="CASCADE")
    account = peewee.ForeignKeyField(Account, on_delete="RESTRICT")
    centre = peewee.ForeignKeyField(Centre, on_delete="RESTRICT", index=False)  # the enrolment's (migration 015)
    role = peewee.CharField(max_length=16)

    class Meta:
        primary_key = peewee.CompositeKey("enrolment", "account", "role")
        indexes = ((("centre", "role"), False),)  # a centre's progress by assessor


class EnrolmentTally(BaseModel):
    """The counts of an enrolment's progress document, written in the same transaction as every record that changes
    them (api.services.tracking.tallies), so a centre's roll-up sums rows instead of deriving every document. An
    enrolment with no decision, claim or sample has no row: its tally is its version's criteria and nothing else
    (the roll-up counts those by version: the tally carries its enrolment's centre and version)."""

    enrolment = peewee.ForeignKeyField(Enrolment, primary_key=True, on_delete="CASCADE")
    centre = peewee.ForeignKeyField(Centre, on_delete="RESTRICT", index=False)  # the enrolment's (index below)
    unit_version = peewee.ForeignKeyField(UnitVersion, on_delete="RESTRICT", index=False)  # the enrolment's
    criteria = peewee.IntegerField()
    claimed = peewee.IntegerField()
    met = peewee.IntegerField()
    verified = peewee.IntegerField()
    reopened = peewee.IntegerField()
    iqa_outstanding = peewee.IntegerField()
    awaiting_countersignature = peewee.IntegerField()
    complete = peewee.BooleanField()

    class Meta:
        indexes = ((("centre", "unit_version"), False),)  # a centre's tallies together, by version (migration 017)


class Evidence(BaseModel):
    id = peewee.UUIDField(primary_key=True)
    enrolment = peewee.ForeignKeyField(Enrolment, backref="evidence", on_delete="RESTRICT")
    evidence_type = peewee.ForeignKeyField(EvidenceType, on_delete="RESTRICT")
    title = peewee.CharField(max_length=300)
    description = peewee.TextField(null=True)
    evidence_date = peewee.DateField()
    reference_uri = peewee.CharField(max_length=2000, null=True)
    sha256 = peewee.CharField(max_length=64, null=True)
    authenticity_declared = peewee.BooleanField(default=False)
    submitted_by = peewee.CharField(max_length=80)  # "account:<id>" or "client:<id>"
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)  # when a claim was last added (sync: migration 016)

    class Meta:
        indexes = ((("updated_at", "id"), False),)  # lists in updated_at order (sync)


class Claim(BaseModel):
    """Evidence mapped to one criterion of the enrolment's pinned version."""

    id = peewee.UUIDField(primary_key=True)
    evidence = peewee.ForeignKeyField(Evidence, backref="claims", on_delete="RESTRICT")
    enrolment = peewee.ForeignKeyField(Enrolment, on_delete="RESTRICT")
    criterion = peewee.ForeignKeyField(AssessmentCriterion, on_delete="RESTRICT")
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("evidence", "criterion"), True), (("enrolment", "criterion"), False))


class Decision(BaseModel):
    """An assessor's judgement on one criterion of one enrolment. Append-only: a new one supersedes the last."""

    id = peewee.UUIDField(primary_key=True)
    # enrolment: no index of its own, it leads the unique index below; supersedes and carried_from: none, decisions are
    # never deleted, so nothing looks them up (migration 007)
    enrolment = peewee.ForeignKeyField(Enrolment, backref="decisions", on_delete="RESTRICT", index=False)
    criterion = peewee.ForeignKeyField(AssessmentCriterion, on_delete="RESTRICT")
    sequence = peewee.IntegerField()  # 1, 2, ... per (enrolment, criterion); unique, so racing writers cannot fork
    outcome = peewee.CharField(max_length=16)
    feedback = peewee.TextField()
    reason = peewee.TextField(null=True)  # why it supersedes the previous decision
    supersedes = peewee.ForeignKeyField("self", null=True, on_delete="RESTRICT", index=False)
    assessor = peewee.ForeignKeyField(Account, on_delete="RESTRICT")
    assessor_status = peewee.CharField(max_length=16)  # qualified | trainee, as at the time of the decision
    evidence_ids = JSONTextField(default=list)
    carried_from = peewee.ForeignKeyField("self", null=True, on_delete="RESTRICT", backref="carried_to", index=False)
    created_at = peewee.DateTimeField(default=utcnow)
    # when it was made, or last countersigned, sampled or given a verdict (sync: migration 016)
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("enrolment", "criterion", "sequence"), True),
                   (("updated_at", "id"), False))  # lists in updated_at order (sync)


class Countersignature(BaseModel):
    """A qualified assessor's countersignature that lets a trainee's decision take effect."""

    decision = peewee.ForeignKeyField(Decision, unique=True, on_delete="RESTRICT")
    account = peewee.ForeignKeyField(Account, on_delete="RESTRICT")
    created_at = peewee.DateTimeField(default=utcnow)


class SamplingPlan(BaseModel):
    """How much of an assessor's work an IQA samples: a rate, or everything for an assessor flagged new."""

    id = peewee.UUIDField(primary_key=True)
    centre = peewee.ForeignKeyField(Centre, on_delete="RESTRICT")
    assessor = peewee.ForeignKeyField(Account, on_delete="RESTRICT")
    rate = peewee.FloatField()
    assessor_is_new = peewee.BooleanField(default=False)
    created_by = peewee.CharField(max_length=80)
    created_at = peewee.DateTimeField(default=utcnow)


class IqaSample(BaseModel):
    id = peewee.UUIDField(primary_key=True)
    decision = peewee.ForeignKeyField(Decision, unique=True, on_delete="RESTRICT")
    enrolment = peewee.ForeignKeyField(Enrolment, on_delete="RESTRICT")
    iqa = peewee.ForeignKeyField(Account, on_delete="RESTRICT")
    created_at = peewee.DateTimeField(default=utcnow)


class IqaVerdict(BaseModel):
    id = peewee.UUIDField(primary_key=True)
    sample = peewee.ForeignKeyField(IqaSample, unique=True, on_delete="RESTRICT")
    verdict = peewee.CharField(max_length=16)
    actions = peewee.TextField(null=True)
    iqa = peewee.ForeignKeyField(Account, on_delete="RESTRICT")
    created_at = peewee.DateTimeField(default=utcnow)


class AuditEvent(BaseModel):
    """Who did what, when, to which record, in which request. Append-only."""

    id = peewee.UUIDField(primary_key=True)
    occurred_at = peewee.DateTimeField(default=utcnow, index=True)
    actor = peewee.CharField(max_length=80)
    acting_client = peewee.CharField(max_length=80, null=True)  # the client that acted for the actor, if one did
    action = peewee.CharField(max_length=64)
    subject_type = peewee.CharField(max_length=32)
    subject_id = peewee.CharField(max_length=64)
    centre = peewee.ForeignKeyField(Centre, null=True, on_delete="RESTRICT")
    request_id = peewee.CharField(max_length=128, null=True)
    before = JSONTextField(null=True)
    after = JSONTextField(null=True)

    class Meta:
        indexes = ((("subject_type", "subject_id"), False),)


class IdempotentResponse(BaseModel):
    """The stored response to a POST sent with an Idempotency-Key, replayed when the same request comes again."""

    subject = peewee.CharField(max_length=160)
    key = peewee.CharField(max_length=255)
    request_hash = peewee.CharField(max_length=64)
    status = peewee.IntegerField()
    body = peewee.TextField()
    location = peewee.CharField(max_length=500, null=True)
    etag = peewee.CharField(max_length=200, null=True)
    media_type = peewee.CharField(max_length=100, null=True)  # None: application/json
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        primary_key = peewee.CompositeKey("subject", "key")


class LearnerImport(BaseModel):
    """One run of a bulk learner import: what it was given, how far it got, and what it did.

    ``rows_done`` is the number of data rows whose outcome is committed; it is written in the same transaction as
    each batch, so after a crash a re-run of the same file (same ``file_sha256``) resumes after it."""

    id = peewee.UUIDField(primary_key=True)
    centre = peewee.ForeignKeyField(Centre, on_delete="RESTRICT")
    actor = peewee.CharField(max_length=80)
    file_sha256 = peewee.CharField(max_length=64, index=True)
    file_format = peewee.CharField(max_length=8)
    mode = peewee.CharField(max_length=16)
    dry_run = peewee.BooleanField(default=False)
    status = peewee.CharField(max_length=16, default="running")  # running | complete | rejected
    received = peewee.IntegerField(default=0)
    created = peewee.IntegerField(default=0)
    updated = peewee.IntegerField(default=0)
    unchanged = peewee.IntegerField(default=0)
    rejected = peewee.IntegerField(default=0)
    enrolments_created = peewee.IntegerField(default=0)
    enrolments_unchanged = peewee.IntegerField(default=0)  # named by a row, already there: left as they are
    clear_empty = peewee.BooleanField(default=False)  # an empty cell clears a stored optional field
    rows_done = peewee.IntegerField(default=0)
    started_at = peewee.DateTimeField(default=utcnow)
    finished_at = peewee.DateTimeField(null=True)


class LearnerImportProblem(BaseModel):
    """A row an import refused: its number in the file (the header is row 1), the field, and why."""

    job = peewee.ForeignKeyField(LearnerImport, backref="problems", on_delete="CASCADE")
    row = peewee.IntegerField()
    field = peewee.CharField(max_length=64)
    message = peewee.TextField()

    class Meta:
        indexes = ((("job", "row"), False),)


TRACKING_MODELS = [Learner, LearnerExternalId, Enrolment, EnrolmentStaff, EnrolmentTally, Evidence, Claim, Decision,
                   Countersignature, SamplingPlan, IqaSample, IqaVerdict, AuditEvent, IdempotentResponse, LearnerImport,
                   LearnerImportProblem]
