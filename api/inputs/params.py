"""Query-string schemas (marshmallow). Unknown parameters are rejected: a typo must not silently widen a query.

GraphQL arguments are checked by the same schemas (api.gql.args), already typed: a field takes a query string's text
or the GraphQL value of its own type. Numbers are plain ASCII digits, booleans are ``true`` or ``false``, ids are
UUIDs in their usual form: nothing is coerced from another spelling ("5_0", "١٢", "yes", "{uuid}").
"""

import re
import unicodedata
from datetime import UTC

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from api.inputs.strict import JsonUUID
from api.models.content import VERSION_STATUSES
from api.models.tracking import STAFF_ROLES
from api.services.common.pagination import MAX_CURSOR_LENGTH

MAX_PAGE = 500
DEFAULT_PAGE = 50
_DIGITS = re.compile(r"[0-9]{1,18}")



class UtcTime(fields.NaiveDateTime):
    """An ISO 8601 time, as naive UTC; a time whose UTC falls outside years 1 to 9999 (0001-01-01T01:00+02:00) is a
    400 naming the parameter, not an overflow."""

    def __init__(self, **kwargs):
        super().__init__(timezone=UTC, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return super()._deserialize(value, attr, data, **kwargs)
        except OverflowError:
            raise ValidationError("out of range: in UTC it falls before year 1 or after year 9999") from None

class FeedSince(fields.String):
    """Where a feed page starts: a cursor (returned as given, for the feed to decode), or a time with its zone
    (2026-12-06T09:00:00Z), read as UtcTime reads one."""

    TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        validate.Length(min=1, max=MAX_CURSOR_LENGTH)(text)
        if not self.TIME.match(text):
            return text
        if not re.search(r"(Z|[+-][0-9]{2}:?[0-9]{2})$", text):
            raise ValidationError("a time needs its zone: 2026-12-06T09:00:00Z")
        return UtcTime()._deserialize(text, attr, data, **kwargs)


class QueryInteger(fields.Integer):
    """A whole number written in ASCII digits (at most 18 of them), or an int from GraphQL."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and _DIGITS.fullmatch(value):
            return int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise self.make_error("invalid")


class QueryBoolean(fields.Boolean):
    """``true`` or ``false`` (or a GraphQL Boolean)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value in ("true", "false"):
            return value == "true"
        if value is True or value is False:
            return value
        raise self.make_error("invalid")


class SearchText(fields.String):
    """Text to search for, trimmed of surrounding whitespace: then 1 to ``max_length`` characters, with no control
    characters (tab included) and nothing that is not text (a lone surrogate, which GraphQL's JSON can carry)."""

    default_error_messages = {
        "control": "contains control characters (tab included) or invalid text; give only the text to search for",
        "blank": "is empty or only spaces; give 1 to {max} characters to search for",
        "long": "is longer than {max} characters (after trimming spaces)",
    }

    def __init__(self, *, max_length: int, **kwargs):
        super().__init__(**kwargs)
        self.max_length = max_length

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text):
            raise self.make_error("control")
        text = text.strip()
        if not text:
            raise self.make_error("blank", max=self.max_length)
        if len(text) > self.max_length:
            raise self.make_error("long", max=self.max_length)
        return text


class Strict(Schema):
    class Meta:
        unknown = RAISE


class StatusArgs(Strict):
    status = fields.String(load_default="published", validate=validate.OneOf(VERSION_STATUSES))


class PageArgs(Strict):
    limit = QueryInteger(load_default=DEFAULT_PAGE, validate=validate.Range(min=1, max=MAX_PAGE),
                         metadata={"description": f"page size, 1 to {MAX_PAGE}"})
    cursor = fields.String(validate=validate.Length(min=1, max=MAX_CURSOR_LENGTH))


class UnitListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(VERSION_STATUSES))
    code = fields.String(validate=validate.Length(min=1, max=64))
    owner = fields.String(validate=validate.Length(min=1, max=64))
    level = QueryInteger(validate=validate.Range(min=0, max=8))
    q = fields.String(validate=validate.Length(min=1, max=200))


class StandardListArgs(PageArgs):
    urn = fields.String(validate=validate.Length(min=1, max=64))


class QualificationListArgs(PageArgs, StatusArgs):
    code = fields.String(validate=validate.Length(min=1, max=64))
    owner = fields.String(validate=validate.Length(min=1, max=64))


class NoArgs(Strict):
    pass


class VersionChangesArgs(Strict):
    from_version = fields.String(required=True, validate=validate.Length(min=1, max=16),
                                 metadata={"description": "the earlier version to compare with, e.g. 1.2"})


VERSION_CHANGES_ARGS = VersionChangesArgs()
STATUS_ARGS, UNIT_LIST_ARGS, STANDARD_LIST_ARGS = StatusArgs(), UnitListArgs(), StandardListArgs()
QUALIFICATION_LIST_ARGS, NO_ARGS, PAGE_ARGS = QualificationListArgs(), NoArgs(), PageArgs()


class LearnerListArgs(PageArgs):
    sort = fields.String(validate=validate.OneOf(("name", "updated_at", "created_at")))
    updated_since = UtcTime()
    centre_id = JsonUUID()
    uln = fields.String(validate=[validate.Length(min=1, max=64), validate.Regexp(r"^[0-9]+$")])
    external_system = fields.String(validate=validate.Length(min=1, max=64))
    external_id = fields.String(validate=validate.Length(min=1, max=128))
    q = SearchText(max_length=100)  # a ULN, an external id or a name: api.services.tracking.learner_search


class TimeOrderedPageArgs(PageArgs):
    """A list in created_at (the default) or updated_at order, from ``updated_since`` (common.sorted_lists)."""

    sort = fields.String(validate=validate.OneOf(("created_at", "updated_at")))
    updated_since = UtcTime()


class EnrolmentListArgs(TimeOrderedPageArgs):
    learner_id = JsonUUID()
    centre_id = JsonUUID()
    unit_id = JsonUUID()
    status = fields.String(validate=validate.OneOf(("active", "completed", "withdrawn", "transferred")))


class DecisionListArgs(Strict):
    criterion_id = JsonUUID()


class AssessmentListArgs(TimeOrderedPageArgs):
    """Decisions or evidence across enrolments (GET /v1/decisions, GET /v1/evidence)."""

    centre_id = JsonUUID()
    enrolment_id = JsonUUID()
    learner_id = JsonUUID()


class AuditArgs(PageArgs):
    centre_id = JsonUUID()
    subject_type = fields.String(validate=validate.Length(min=1, max=32))
    subject_id = fields.String(validate=validate.Length(min=1, max=64))
    since = UtcTime()
    until = UtcTime()


class StaffRemoveArgs(Strict):
    role = fields.String(validate=validate.OneOf(STAFF_ROLES))


class RecoverArgs(Strict):
    since = UtcTime(required=True)


class ChangesArgs(Strict):
    since = FeedSince()
    type = fields.String(validate=validate.Length(min=1, max=1000))  # event types, comma-separated (sync.feed)
    unit_id = JsonUUID()
    centre_id = JsonUUID()
    learner_id = JsonUUID()
    limit = QueryInteger(load_default=100, validate=validate.Range(min=1, max=MAX_PAGE),
                         metadata={"description": f"page size, 1 to {MAX_PAGE}"})


class ImportArgs(Strict):
    awarding_body = fields.String(validate=validate.Length(min=1, max=64))


class LearnerImportArgs(Strict):
    centre_id = JsonUUID(required=True)
    mode = fields.String(load_default="all_or_nothing", validate=validate.OneOf(("all_or_nothing", "valid_rows")))
    dry_run = QueryBoolean(load_default=False)
    clear_empty = QueryBoolean(load_default=False)


CHANGES_ARGS, IMPORT_ARGS, LEARNER_IMPORT_ARGS = ChangesArgs(), ImportArgs(), LearnerImportArgs()
RECOVER_ARGS, STAFF_REMOVE_ARGS = RecoverArgs(), StaffRemoveArgs()
LEARNER_LIST_ARGS, ENROLMENT_LIST_ARGS = LearnerListArgs(), EnrolmentListArgs()
DECISION_LIST_ARGS, AUDIT_ARGS, ASSESSMENT_LIST_ARGS = DecisionListArgs(), AuditArgs(), AssessmentListArgs()


class KsbMappingListArgs(PageArgs):
    unit_version_id = JsonUUID(metadata={"description": "mappings of this unit version"})
    reference_number = fields.String(validate=validate.Regexp(r"^[A-Za-z0-9._-]{1,16}$"),
                                     metadata={"description": "mappings to this standard (with version)"})
    version = fields.String(validate=validate.Regexp(r"^[A-Za-z0-9._-]{1,16}$"))
    ksb_code = fields.String(validate=validate.Regexp(r"^[KSB][0-9]{1,4}$"))


KSB_MAPPING_LIST_ARGS = KsbMappingListArgs()


class KsbEvidenceListArgs(PageArgs):
    ksb_code = fields.String(validate=validate.Regexp(r"^[KSB][0-9]{1,4}$"),
                             metadata={"description": "only evidence claimed for this KSB"})


class KsbDecisionListArgs(Strict):
    ksb_code = fields.String(validate=validate.Regexp(r"^[KSB][0-9]{1,4}$"),
                             metadata={"description": "only decisions on this KSB"})


KSB_EVIDENCE_LIST_ARGS, KSB_DECISION_LIST_ARGS = KsbEvidenceListArgs(), KsbDecisionListArgs()
