"""Canonical content: awarding bodies, evidence types, standards (NOS), units and their versions, guidance,
qualifications. A published UnitVersion is immutable and carries its rendered JSON document and ETag."""

import peewee

from api.models.base import BaseModel, JSONTextField, utcnow

OUTCOME_KINDS = ("knowledge", "competence")
VERSION_STATUSES = ("draft", "published", "withdrawn")
STANDARD_ITEM_KINDS = ("performance", "knowledge")
MAPPING_STRENGTHS = ("full", "partial")


class AwardingBody(BaseModel):
    id = peewee.UUIDField(primary_key=True)
    slug = peewee.CharField(max_length=64, unique=True)
    name = peewee.CharField(max_length=200)


class EvidenceType(BaseModel):
    code = peewee.CharField(max_length=64, primary_key=True)
    name = peewee.CharField(max_length=200)
    description = peewee.TextField(null=True)


class Standard(BaseModel):
    """A National Occupational Standard. ``document`` is its rendered JSON."""

    id = peewee.UUIDField(primary_key=True)
    slug = peewee.CharField(max_length=200, unique=True)
    urn = peewee.CharField(max_length=64, null=True, index=True)
    title = peewee.CharField(max_length=500)
    source_hash = peewee.CharField(max_length=64)
    document = peewee.TextField()
    etag = peewee.CharField(max_length=80)
    updated_at = peewee.DateTimeField(default=utcnow)


class StandardItem(BaseModel):
    """A performance criterion (P1..) or knowledge item (K1..) of a standard."""

    id = peewee.UUIDField(primary_key=True)
    standard = peewee.ForeignKeyField(Standard, backref="items", on_delete="CASCADE")
    kind = peewee.CharField(max_length=16, choices=[(k, k) for k in STANDARD_ITEM_KINDS])
    number = peewee.CharField(max_length=16)
    text = peewee.TextField()
    position = peewee.IntegerField()

    class Meta:
        indexes = ((("standard", "number"), True),)


class Unit(BaseModel):
    """A unit's stable identity: (owner, code). Its content lives in UnitVersion rows."""

    id = peewee.UUIDField(primary_key=True)
    owner = peewee.ForeignKeyField(AwardingBody, backref="units", on_delete="RESTRICT")
    code = peewee.CharField(max_length=64)
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("owner", "code"), True), (("code",), False))


class UnitVersion(BaseModel):
    """One version of a unit. ``is_head`` marks the newest draft and the newest released (published or withdrawn)
    version, the two a unit can be read at without naming a version number."""

    id = peewee.UUIDField(primary_key=True)
    unit = peewee.ForeignKeyField(Unit, backref="versions", on_delete="CASCADE")
    number = peewee.IntegerField()
    status = peewee.CharField(max_length=16, choices=[(s, s) for s in VERSION_STATUSES])
    is_head = peewee.BooleanField(default=True)
    title = peewee.CharField(max_length=500)
    level = peewee.IntegerField(null=True)
    credit_value = peewee.IntegerField(null=True)
    glh = peewee.IntegerField(null=True)
    search_text = peewee.TextField()
    source = JSONTextField()
    source_hash = peewee.CharField(max_length=64)
    document = peewee.TextField()
    etag = peewee.CharField(max_length=80)
    created_at = peewee.DateTimeField(default=utcnow)
    published_at = peewee.DateTimeField(null=True)
    withdrawn_at = peewee.DateTimeField(null=True)

    class Meta:
        indexes = ((("unit", "number"), True), (("status", "is_head"), False))


class LearningOutcome(BaseModel):
    id = peewee.UUIDField(primary_key=True)
    version = peewee.ForeignKeyField(UnitVersion, backref="outcomes", on_delete="CASCADE")
    number = peewee.CharField(max_length=16)
    title = peewee.TextField()
    kind = peewee.CharField(max_length=16, choices=[(k, k) for k in OUTCOME_KINDS])
    position = peewee.IntegerField()

    class Meta:
        indexes = ((("version", "number"), True),)


class OutcomeEvidenceType(BaseModel):
    """The evidence types allowed for a learning outcome."""

    outcome = peewee.ForeignKeyField(LearningOutcome, backref="evidence_types", on_delete="CASCADE")
    evidence_type = peewee.ForeignKeyField(EvidenceType, on_delete="RESTRICT")

    class Meta:
        primary_key = peewee.CompositeKey("outcome", "evidence_type")


class AssessmentCriterion(BaseModel):
    """A criterion of one unit version. ``details`` holds range/guidance blocks, minimum counts and notes.

    ``identity`` is the criterion across versions: a criterion whose text is unchanged from the version it was based
    on keeps that criterion's identity (even if renumbered or moved); a changed or new one gets its own. ``replaces``
    is the identity of the criterion an author declared this one replaces (changed text, same intent)."""

    id = peewee.UUIDField(primary_key=True)
    version = peewee.ForeignKeyField(UnitVersion, backref="criteria", on_delete="CASCADE")
    outcome = peewee.ForeignKeyField(LearningOutcome, backref="criteria", on_delete="CASCADE")
    number = peewee.CharField(max_length=16)
    text = peewee.TextField()
    position = peewee.IntegerField()
    details = JSONTextField(default=dict)
    identity = peewee.UUIDField(null=True, index=True)
    replaces = peewee.UUIDField(null=True)

    class Meta:
        indexes = ((("version", "number"), True),)


class Mapping(BaseModel):
    """A unit version (or one of its criteria) mapped to a standard (or some of its items)."""

    id = peewee.UUIDField(primary_key=True)
    version = peewee.ForeignKeyField(UnitVersion, backref="mappings", on_delete="CASCADE")
    criterion = peewee.ForeignKeyField(AssessmentCriterion, null=True, on_delete="CASCADE")
    standard = peewee.ForeignKeyField(Standard, on_delete="RESTRICT")
    items = JSONTextField(default=list)
    strength = peewee.CharField(max_length=16, choices=[(s, s) for s in MAPPING_STRENGTHS])
    as_written = peewee.TextField(null=True)
    note = peewee.TextField(null=True)


class Guidance(BaseModel):
    """Guidance for assessors and learners (key concepts, tips, misconceptions, marking points)."""

    id = peewee.UUIDField(primary_key=True)
    slug = peewee.CharField(max_length=200, unique=True)
    title = peewee.CharField(max_length=500)
    body = JSONTextField()
    source_hash = peewee.CharField(max_length=64)


class UnitGuidance(BaseModel):
    unit = peewee.ForeignKeyField(Unit, on_delete="CASCADE")
    guidance = peewee.ForeignKeyField(Guidance, backref="units", on_delete="CASCADE")
    note = peewee.TextField(null=True)

    class Meta:
        primary_key = peewee.CompositeKey("unit", "guidance")


class Qualification(BaseModel):
    """A qualification with its rules of combination; ``document`` is its rendered JSON."""

    id = peewee.UUIDField(primary_key=True)
    owner = peewee.ForeignKeyField(AwardingBody, backref="qualifications", on_delete="RESTRICT")
    code = peewee.CharField(max_length=64)
    title = peewee.CharField(max_length=500)
    level = peewee.IntegerField(null=True)
    status = peewee.CharField(max_length=16, choices=[(s, s) for s in VERSION_STATUSES])
    source = JSONTextField()
    source_hash = peewee.CharField(max_length=64)
    document = peewee.TextField()
    etag = peewee.CharField(max_length=80)
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("owner", "code"), True),)


class QualificationGroup(BaseModel):
    """A group of units in a qualification's rules of combination."""

    id = peewee.UUIDField(primary_key=True)
    qualification = peewee.ForeignKeyField(Qualification, backref="groups", on_delete="CASCADE")
    name = peewee.CharField(max_length=200)
    position = peewee.IntegerField()
    mandatory = peewee.BooleanField(default=False)
    min_units = peewee.IntegerField(null=True)
    min_credits = peewee.IntegerField(null=True)


class QualificationGroupUnit(BaseModel):
    group = peewee.ForeignKeyField(QualificationGroup, backref="members", on_delete="CASCADE")
    unit = peewee.ForeignKeyField(Unit, on_delete="RESTRICT")
    position = peewee.IntegerField()

    class Meta:
        primary_key = peewee.CompositeKey("group", "unit")


CONTENT_MODELS = [
    AwardingBody, EvidenceType, Standard, StandardItem, Unit, UnitVersion, LearningOutcome, OutcomeEvidenceType,
    AssessmentCriterion, Mapping, Guidance, UnitGuidance, Qualification, QualificationGroup, QualificationGroupUnit,
]


class CaseFramework(BaseModel):
    """A CASE framework imported whole (api.services.interop.case_frameworks): identity is its CFDocument's
    identifier; its content lives in CaseFrameworkVersion rows."""

    id = peewee.UUIDField(primary_key=True)
    owner = peewee.ForeignKeyField(AwardingBody, backref="case_frameworks", on_delete="RESTRICT")
    created_at = peewee.DateTimeField(default=utcnow)


class CaseFrameworkVersion(BaseModel):
    """One version of a framework: its package as stored (case_package.stored), draft until published; a published
    version is frozen. The newest version that is not a draft is the one served, if it is published."""

    id = peewee.UUIDField(primary_key=True)
    framework = peewee.ForeignKeyField(CaseFramework, backref="versions", on_delete="CASCADE")
    number = peewee.IntegerField()
    status = peewee.CharField(max_length=16, choices=[(s, s) for s in VERSION_STATUSES])
    title = peewee.TextField()
    package = JSONTextField()
    document = JSONTextField(null=True)  # the CFDocument with the members it links to (case_package.document_part)
    package_hash = peewee.CharField(max_length=64)
    units = JSONTextField(null=True)  # [{unit_id, code}]: the units made from its parts that have the unit shape
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)
    published_at = peewee.DateTimeField(null=True)
    withdrawn_at = peewee.DateTimeField(null=True)

    class Meta:
        indexes = ((("framework", "number"), True),)


class CaseFrameworkMember(BaseModel):
    """Which version holds a member (item, association, definition or rubric) by identifier, so the provider finds
    it without reading every package: ``kind`` is the provider path it is served at (CFItems, CFAssociations...)."""

    version = peewee.ForeignKeyField(CaseFrameworkVersion, on_delete="CASCADE")
    kind = peewee.CharField(max_length=32)
    identifier = peewee.CharField(max_length=200)
    position = peewee.IntegerField()

    class Meta:
        primary_key = peewee.CompositeKey("version", "kind", "identifier")
        indexes = ((("identifier", "kind"), False),)


CONTENT_MODELS += [CaseFramework, CaseFrameworkVersion, CaseFrameworkMember]
