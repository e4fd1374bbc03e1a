"""Apprenticeships as tracked: unit criteria mapped to the KSBs of a standard version, a learner's apprenticeship
(a standard version, an option, the unit enrolments that deliver it), its off-the-job (OTJ) training activities, and
the funding rule sets its planned OTJ hours come from."""

import peewee

from api.models.accounts import Centre
from api.models.apprenticeships import ApprenticeshipStandardVersion
from api.models.base import BaseModel, JSONTextField, utcnow
from api.models.content import AssessmentCriterion, UnitVersion
from api.models.tracking import Enrolment, Evidence, Learner

APPRENTICESHIP_STATUSES = ("active", "completed", "withdrawn")
OTJ_KINDS = ("teaching", "practical_training", "learning_support", "shadowing", "mentoring", "industry_visit",
             "simulation", "assignment", "online_learning", "other")


class KsbMapping(BaseModel):
    """A criterion of a unit version (or the whole unit version: ``criterion`` NULL) mapped to a KSB of a standard
    version. The id is a content id of (unit version, criterion or 'unit', standard version, KSB code), so the same
    mapping made twice is one row. ``ksb_guid`` is the KSB's published GUID, when it has one: a mapping names its KSB
    by it first (a re-imported version may renumber its KSBs), and carrying mappings to a later version matches it."""

    id = peewee.UUIDField(primary_key=True)
    unit_version = peewee.ForeignKeyField(UnitVersion, on_delete="CASCADE")
    criterion = peewee.ForeignKeyField(AssessmentCriterion, null=True, on_delete="CASCADE", index=False)
    standard_version = peewee.ForeignKeyField(ApprenticeshipStandardVersion, on_delete="CASCADE", index=False)
    ksb_code = peewee.CharField(max_length=16)
    ksb_guid = peewee.CharField(max_length=64, null=True)
    carried_from = peewee.UUIDField(null=True)  # the mapping (to an earlier standard version) this one was carried from
    created_by = peewee.CharField(max_length=80)
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "ksb_mapping"
        indexes = ((("standard_version", "ksb_code"), False),)


class Apprenticeship(BaseModel):
    """A learner on a standard version (and one of its options), from ``start_date``. ``weekly_hours`` (contracted)
    and ``prior_learning_hours`` (the OTJ hours recognised prior learning takes off) feed the planned OTJ hours;
    ``gateway_date`` ends the period in which OTJ training counts. One live apprenticeship per learner and standard
    version (a partial unique index: withdrawn ones do not count)."""

    id = peewee.UUIDField(primary_key=True)
    learner = peewee.ForeignKeyField(Learner, on_delete="RESTRICT")
    centre = peewee.ForeignKeyField(Centre, on_delete="RESTRICT")
    standard_version = peewee.ForeignKeyField(ApprenticeshipStandardVersion, on_delete="RESTRICT", index=False)
    option_id = peewee.CharField(max_length=64, null=True)
    start_date = peewee.DateField()
    planned_end_date = peewee.DateField()
    weekly_hours = peewee.FloatField(null=True)
    prior_learning_hours = peewee.IntegerField(default=0)
    gateway_date = peewee.DateField(null=True)
    status = peewee.CharField(max_length=16, default="active")
    row_version = peewee.IntegerField(default=1)
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "apprenticeship"


class ApprenticeshipUnit(BaseModel):
    """A unit enrolment of the learner that delivers their apprenticeship."""

    apprenticeship = peewee.ForeignKeyField(Apprenticeship, backref="units", on_delete="CASCADE")
    enrolment = peewee.ForeignKeyField(Enrolment, on_delete="RESTRICT")

    class Meta:
        table_name = "apprenticeship_unit"
        primary_key = peewee.CompositeKey("apprenticeship", "enrolment")


class OtjActivity(BaseModel):
    """Off-the-job training: ``minutes`` on ``activity_date``, of a ``kind`` (OTJ_KINDS), covering KSBs (codes of
    the apprenticeship's standard version), with optional evidence. Recorded by one person or client, confirmed by
    another. ``external_ref``: the recording system's own id for it, unique per apprenticeship, so a CSV imported
    twice records each activity once."""

    id = peewee.UUIDField(primary_key=True)
    apprenticeship = peewee.ForeignKeyField(Apprenticeship, backref="otj", on_delete="RESTRICT", index=False)
    centre = peewee.ForeignKeyField(Centre, on_delete="RESTRICT", index=False)
    learner = peewee.ForeignKeyField(Learner, on_delete="RESTRICT", index=False)
    activity_date = peewee.DateField()
    minutes = peewee.IntegerField()
    kind = peewee.CharField(max_length=32)
    description = peewee.TextField()
    ksb_codes = JSONTextField(default=list)
    evidence = peewee.ForeignKeyField(Evidence, null=True, on_delete="RESTRICT", index=False)
    external_ref = peewee.CharField(max_length=128, null=True)
    recorded_by = peewee.CharField(max_length=80)
    confirmed_by = peewee.CharField(max_length=80, null=True)
    confirmed_at = peewee.DateTimeField(null=True)
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "otj_activity"
        indexes = ((("apprenticeship", "activity_date"), False),)


class OtjRuleSet(BaseModel):
    """A funding rule set for planned OTJ hours, for apprenticeships starting in [applies_from, applies_until).
    ``method``: percent_of_working_hours (``percent`` of weekly hours capped at ``full_time_weekly_hours``),
    weekly_minimum (``weekly_hours`` a week, pro-rated below ``full_time_weekly_hours``), both over the planned weeks
    less ``statutory_leave_weeks_per_year``; or standard_minimum (the standard version's published minimum).
    ``minimum_hours``: a floor on what prior learning may reduce the plan to. ``sources``: the documents cited."""

    id = peewee.CharField(max_length=64, primary_key=True)
    title = peewee.TextField()
    applies_from = peewee.DateField()
    applies_until = peewee.DateField(null=True)
    method = peewee.CharField(max_length=32)
    percent = peewee.FloatField(null=True)
    weekly_hours = peewee.FloatField(null=True)
    full_time_weekly_hours = peewee.FloatField(null=True)
    statutory_leave_weeks_per_year = peewee.FloatField(null=True)
    minimum_hours = peewee.IntegerField(null=True)
    sources = JSONTextField(default=list)
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "otj_rule_set"


Apprenticeship.add_index(Apprenticeship.index(Apprenticeship.learner, Apprenticeship.standard_version, unique=True,
                                              where=Apprenticeship.status != "withdrawn",
                                              name="apprenticeship_learner_version_live"))
OtjActivity.add_index(OtjActivity.index(OtjActivity.apprenticeship, OtjActivity.external_ref, unique=True,
                                        where=OtjActivity.external_ref.is_null(False),
                                        name="otj_activity_external_ref"))

APPRENTICESHIP_TRACKING_MODELS = [KsbMapping, Apprenticeship, ApprenticeshipUnit, OtjActivity, OtjRuleSet]
