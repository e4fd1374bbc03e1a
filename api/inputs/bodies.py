"""Request-body schemas (marshmallow) for the tracking writes. Shape and type checks only: the rules live in services.

Unknown fields are refused, so a typo cannot silently drop data. Text may not contain control characters other than
tab and newline.
"""

import math
import re

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from api.models.tracking import DECISION_OUTCOMES, ENROLMENT_STATUSES, VERDICTS

CONTROL = {chr(c) for c in range(32) if chr(c) not in "\t\n\r"} | {"\x7f"}
_CONTROL_CHARACTER = re.compile("[" + re.escape("".join(sorted(CONTROL))) + "]")


def no_control_characters(value: str) -> None:
    if _CONTROL_CHARACTER.search(value):
        raise ValidationError("contains control characters")


class Text(fields.String):
    """A string with no control characters, stripped, of bounded length (non-blank unless allow_blank)."""

    def __init__(self, *, max_length: int = 200, allow_blank: bool = False, **kwargs):
        validators = [validate.Length(min=0 if allow_blank else 1, max=max_length), no_control_characters]
        super().__init__(validate=validators, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        return result.strip() if isinstance(result, str) else result


class JsonInteger(fields.Integer):
    """An integer as JSON Schema means it: 3 and 3.0 are integers; "3", true and 3.5 are not."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
            raise self.make_error("invalid")
        return int(value)


class Strict(Schema):
    class Meta:
        unknown = RAISE


class ExternalId(Strict):
    system = Text(required=True, max_length=64)
    id = Text(required=True, max_length=128)


class LearnerCreate(Strict):
    centre_id = fields.UUID(required=True)
    uln = Text(required=True, max_length=10)
    given_name = Text(required=True)
    family_name = Text(required=True)
    email = fields.Email(load_default=None, allow_none=True, validate=[validate.Length(max=254), no_control_characters])
    date_of_birth = fields.Date(load_default=None, allow_none=True)
    external_ids = fields.List(fields.Nested(ExternalId), load_default=list, validate=validate.Length(max=20))


class LearnerUpdate(Strict):
    given_name = Text()
    family_name = Text()
    email = fields.Email(allow_none=True, validate=[validate.Length(max=254), no_control_characters])
    date_of_birth = fields.Date(allow_none=True)
    external_ids = fields.List(fields.Nested(ExternalId), validate=validate.Length(max=20))


class EnrolmentCreate(Strict):
    learner_id = fields.UUID(required=True)
    unit_id = fields.UUID(required=True)
    start_date = fields.Date(required=True)
    planned_end_date = fields.Date(load_default=None, allow_none=True)
    assessor_ids = fields.List(fields.UUID(), load_default=list, validate=validate.Length(max=20))
    iqa_ids = fields.List(fields.UUID(), load_default=list, validate=validate.Length(max=20))


class QualificationEnrolmentCreate(Strict):
    start_date = fields.Date(required=True)
    planned_end_date = fields.Date(load_default=None, allow_none=True)
    assessor_ids = fields.List(fields.UUID(), load_default=list, validate=validate.Length(max=20))
    iqa_ids = fields.List(fields.UUID(), load_default=list, validate=validate.Length(max=20))


class EnrolmentUpdate(Strict):
    status = fields.String(validate=validate.OneOf(ENROLMENT_STATUSES))
    start_date = fields.Date()
    planned_end_date = fields.Date(allow_none=True)
    assessor_ids = fields.List(fields.UUID(), validate=validate.Length(max=20))
    iqa_ids = fields.List(fields.UUID(), validate=validate.Length(max=20))


class EvidenceCreate(Strict):
    type = Text(required=True, max_length=64)
    title = Text(required=True, max_length=300)
    description = Text(load_default=None, allow_none=True, max_length=10000, allow_blank=True)
    date = fields.Date(required=True)
    reference_uri = fields.Url(load_default=None, allow_none=True, require_tld=False,
                               validate=[validate.Length(max=2000), no_control_characters])
    sha256 = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))
    authenticity_declared = fields.Boolean(required=True)
    criterion_ids = fields.List(fields.UUID(), load_default=list, validate=validate.Length(max=500))


class ClaimCreate(Strict):
    criterion_ids = fields.List(fields.UUID(), required=True, validate=validate.Length(min=1, max=500))


class DecisionCreate(Strict):
    criterion_id = fields.UUID(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(DECISION_OUTCOMES))
    feedback = Text(required=True, max_length=10000)
    reason = Text(load_default=None, allow_none=True, max_length=2000)
    evidence_ids = fields.List(fields.UUID(), load_default=list, validate=validate.Length(max=100))
    expected_sequence = JsonInteger(load_default=None, allow_none=True,
                                       validate=validate.Range(min=0, max=2**31 - 1))


class PlanCreate(Strict):
    centre_id = fields.UUID(required=True)
    assessor_id = fields.UUID(required=True)
    rate = fields.Float(required=True, allow_nan=False, validate=validate.Range(min=0, max=1))
    assessor_is_new = fields.Boolean(load_default=False)


class SampleCreate(Strict):
    decision_id = fields.UUID(required=True)


class VerdictCreate(Strict):
    verdict = fields.String(required=True, validate=validate.OneOf(VERDICTS))
    actions = Text(load_default=None, allow_none=True, max_length=5000)


class EnrolmentMigrate(Strict):
    to_version = JsonInteger(load_default=None, allow_none=True, validate=validate.Range(min=1, max=2**31 - 1))
    dry_run = fields.Boolean(load_default=False)


class CohortMigrate(EnrolmentMigrate):
    unit_id = fields.UUID(required=True)
    centre_id = fields.UUID(load_default=None, allow_none=True)
    enrolment_ids = fields.List(fields.UUID(), load_default=list, validate=validate.Length(max=1000))
