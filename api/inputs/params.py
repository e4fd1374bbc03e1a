"""Query-string schemas (marshmallow). Unknown parameters are rejected: a typo must not silently widen a query."""

from datetime import UTC

from marshmallow import RAISE, Schema, fields, validate

from api.models.content import VERSION_STATUSES

MAX_PAGE = 500
DEFAULT_PAGE = 50


class Strict(Schema):
    class Meta:
        unknown = RAISE


class StatusArgs(Strict):
    status = fields.String(load_default="published", validate=validate.OneOf(VERSION_STATUSES))


class PageArgs(Strict):
    limit = fields.Integer(load_default=DEFAULT_PAGE, validate=validate.Range(min=1, max=MAX_PAGE),
                           metadata={"description": f"page size, 1 to {MAX_PAGE}"})
    cursor = fields.String(validate=validate.Length(min=1, max=512))


class UnitListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(VERSION_STATUSES))
    code = fields.String(validate=validate.Length(min=1, max=64))
    owner = fields.String(validate=validate.Length(min=1, max=64))
    level = fields.Integer(validate=validate.Range(min=0, max=8))
    q = fields.String(validate=validate.Length(min=1, max=200))


class StandardListArgs(PageArgs):
    urn = fields.String(validate=validate.Length(min=1, max=64))


class QualificationListArgs(PageArgs, StatusArgs):
    code = fields.String(validate=validate.Length(min=1, max=64))
    owner = fields.String(validate=validate.Length(min=1, max=64))


class NoArgs(Strict):
    pass


STATUS_ARGS, UNIT_LIST_ARGS, STANDARD_LIST_ARGS = StatusArgs(), UnitListArgs(), StandardListArgs()
QUALIFICATION_LIST_ARGS, NO_ARGS, PAGE_ARGS = QualificationListArgs(), NoArgs(), PageArgs()


class LearnerListArgs(PageArgs):
    centre_id = fields.UUID()
    uln = fields.String(validate=[validate.Length(min=1, max=64), validate.Regexp(r"^[0-9]+$")])
    external_system = fields.String(validate=validate.Length(min=1, max=64))
    external_id = fields.String(validate=validate.Length(min=1, max=128))


class EnrolmentListArgs(PageArgs):
    learner_id = fields.UUID()
    centre_id = fields.UUID()
    unit_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(("active", "completed", "withdrawn", "transferred")))


class DecisionListArgs(Strict):
    criterion_id = fields.UUID()


class AuditArgs(PageArgs):
    centre_id = fields.UUID()
    subject_type = fields.String(validate=validate.Length(min=1, max=32))
    subject_id = fields.String(validate=validate.Length(min=1, max=64))
    since = fields.NaiveDateTime(timezone=UTC)
    until = fields.NaiveDateTime(timezone=UTC)


class ChangesArgs(Strict):
    since = fields.String(validate=validate.Length(min=1, max=512))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=MAX_PAGE),
                           metadata={"description": f"page size, 1 to {MAX_PAGE}"})


class ImportArgs(Strict):
    awarding_body = fields.String(validate=validate.Length(min=1, max=64))


class LearnerImportArgs(Strict):
    centre_id = fields.UUID(required=True)
    mode = fields.String(load_default="all_or_nothing", validate=validate.OneOf(("all_or_nothing", "valid_rows")))
    dry_run = fields.Boolean(load_default=False)


CHANGES_ARGS, IMPORT_ARGS, LEARNER_IMPORT_ARGS = ChangesArgs(), ImportArgs(), LearnerImportArgs()
LEARNER_LIST_ARGS, ENROLMENT_LIST_ARGS = LearnerListArgs(), EnrolmentListArgs()
DECISION_LIST_ARGS, AUDIT_ARGS = DecisionListArgs(), AuditArgs()
