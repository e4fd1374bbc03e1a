"""Apprenticeship standards as Skills England publishes them: each standard, its versions (keyed by reference number
and version, with the published object kept as it came), and each version's KSBs and duties in published order.
Ids are content ids of the natural keys, so an import into any database gives the same ids."""

import peewee

from api.models.base import BaseModel, JSONTextField, utcnow

STANDARD_STATUSES = ("approved", "retired", "in_development", "withdrawn")
PUBLIC_STATUSES = ("approved", "retired", "withdrawn")  # published for delivery once: readable by anyone


class ApprenticeshipStandard(BaseModel):
    """A standard (ST0384), with the title, level and route of its latest version imported."""

    id = peewee.UUIDField(primary_key=True)
    reference_number = peewee.CharField(max_length=16, unique=True)
    title = peewee.TextField()
    level = peewee.IntegerField(null=True)
    route = peewee.TextField(null=True)
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "apprenticeship_standard"


class ApprenticeshipStandardVersion(BaseModel):
    """One version of a standard. ``status`` is None when the published ``status_source`` is none DfE publishes.
    ``source`` is the published object as imported (its SHA-256 is ``source_hash``: an import of the same object
    changes nothing); ``document`` is what the API serves. ``minimum_otj_hours`` can change within a version:
    ``minimum_otj_hours_read_on`` is the day it was read."""

    id = peewee.UUIDField(primary_key=True)
    standard = peewee.ForeignKeyField(ApprenticeshipStandard, backref="versions", on_delete="RESTRICT", index=False)
    version = peewee.CharField(max_length=16)
    status = peewee.CharField(max_length=16, null=True)
    status_source = peewee.TextField(null=True)
    title = peewee.TextField()
    level = peewee.IntegerField(null=True)
    earliest_start_date = peewee.DateField(null=True)
    latest_start_date = peewee.DateField(null=True)
    minimum_otj_hours = peewee.IntegerField(null=True)
    minimum_otj_hours_read_on = peewee.DateField()
    source = JSONTextField()
    source_hash = peewee.CharField(max_length=64)
    document = peewee.TextField()
    etag = peewee.CharField(max_length=80)
    imported_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "apprenticeship_standard_version"
        indexes = ((("standard", "version"), True),)


class ApprenticeshipKsb(BaseModel):
    """A knowledge, skill or behaviour of a version: its published GUID (``ksb_id``, which mostly carries over
    between versions), its code by position (K1, S3, B2) and its text (``detail_source`` as published, ``detail``
    with HTML entities decoded)."""

    id = peewee.UUIDField(primary_key=True)
    version = peewee.ForeignKeyField(ApprenticeshipStandardVersion, backref="ksbs", on_delete="CASCADE", index=False)
    ksb_id = peewee.CharField(max_length=64, null=True, index=True)
    kind = peewee.CharField(max_length=16)
    code = peewee.CharField(max_length=16)
    position = peewee.IntegerField()
    detail = peewee.TextField()
    detail_source = peewee.TextField()

    class Meta:
        table_name = "apprenticeship_ksb"
        indexes = ((("version", "code"), True),)


class ApprenticeshipDuty(BaseModel):
    """A duty of a version (D1...), its published GUID and text, and the codes of the KSBs it maps to, in published
    order (``ksb_codes``; GUIDs that name no KSB of the version are kept in ``unresolved_ksb_ids``)."""

    id = peewee.UUIDField(primary_key=True)
    version = peewee.ForeignKeyField(ApprenticeshipStandardVersion, backref="duties", on_delete="CASCADE",
                                     index=False)
    duty_id = peewee.CharField(max_length=64, null=True)
    code = peewee.CharField(max_length=16)
    position = peewee.IntegerField()
    detail = peewee.TextField()
    detail_source = peewee.TextField()
    is_core = peewee.BooleanField(null=True)
    ksb_codes = JSONTextField(default=list)
    unresolved_ksb_ids = JSONTextField(default=list)

    class Meta:
        table_name = "apprenticeship_duty"
        indexes = ((("version", "code"), True),)


class ApprenticeshipCaseMember(BaseModel):
    """Which version holds a CFItem or CFAssociation of the CASE framework it is served as, by identifier, so the
    provider finds a member without building every version's package: ``kind`` is the provider path it is served at
    (CFItems, CFAssociations). Rewritten whenever the version's content is."""

    identifier = peewee.UUIDField(primary_key=True)
    version = peewee.ForeignKeyField(ApprenticeshipStandardVersion, backref="case_members", on_delete="CASCADE")
    kind = peewee.CharField(max_length=16)

    class Meta:
        table_name = "apprenticeship_case_member"


APPRENTICESHIP_MODELS = [ApprenticeshipStandard, ApprenticeshipStandardVersion, ApprenticeshipKsb, ApprenticeshipDuty,
                         ApprenticeshipCaseMember]
