"""Request-body schemas (marshmallow) for the tracking writes. Shape and type checks only: the rules live in services.

Unknown fields are refused, so a typo cannot silently drop data. Text may not contain control characters other than
tab and newline.
"""

import re

from marshmallow import ValidationError, fields, validate

from api.inputs.strict import JsonBoolean, JsonDate, JsonInteger, JsonNumber, JsonUUID, StrictBody
from api.models.apprenticeship_tracking import OTJ_KINDS
from api.models.tracking import DECISION_OUTCOMES, ENROLMENT_STATUSES, STAFF_ROLES, VERDICTS

CONTROL = {chr(c) for c in range(32) if chr(c) not in "\t\n\r"} | {"\x7f"}
# What JSON Schema's (ECMA-262's) \s matches, which the contract's patterns use: Text strips these and nothing else
# (Python's str.strip() would also strip U+0085, which the contract counts as text).
WHITESPACE = ("\t\n\v\f\r \u00a0\u1680" + "".join(map(chr, range(0x2000, 0x200B)))
              + "\u2028\u2029\u202f\u205f\u3000\ufeff")
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
        return result.strip(WHITESPACE) if isinstance(result, str) else result


class ExternalId(StrictBody):
    system = Text(required=True, max_length=64)
    id = Text(required=True, max_length=128)


class LearnerCreate(StrictBody):
    centre_id = JsonUUID(required=True)
    uln = Text(required=True, max_length=10)
    given_name = Text(required=True)
    family_name = Text(required=True)
    email = fields.Email(load_default=None, allow_none=True, validate=[validate.Length(max=254), no_control_characters])
    date_of_birth = JsonDate(load_default=None, allow_none=True)
    external_ids = fields.List(fields.Nested(ExternalId), load_default=list, validate=validate.Length(max=20))


class LearnerUpdate(StrictBody):
    given_name = Text()
    family_name = Text()
    email = fields.Email(allow_none=True, validate=[validate.Length(max=254), no_control_characters])
    date_of_birth = JsonDate(allow_none=True)
    external_ids = fields.List(fields.Nested(ExternalId), validate=validate.Length(max=20))


class EnrolmentCreate(StrictBody):
    learner_id = JsonUUID(required=True)
    unit_id = JsonUUID(required=True)
    start_date = JsonDate(required=True)
    planned_end_date = JsonDate(load_default=None, allow_none=True)
    assessor_ids = fields.List(JsonUUID(), load_default=list, validate=validate.Length(max=20))
    iqa_ids = fields.List(JsonUUID(), load_default=list, validate=validate.Length(max=20))


ENROLMENT_BATCH_MAX = 100  # enrolments a batch makes: a cohort on a unit, or a learner on a qualification's units


class EnrolmentBatchCreate(StrictBody):
    enrolments = fields.List(fields.Nested(EnrolmentCreate), required=True,
                             validate=validate.Length(min=1, max=ENROLMENT_BATCH_MAX))


class QualificationEnrolmentCreate(StrictBody):
    start_date = JsonDate(required=True)
    planned_end_date = JsonDate(load_default=None, allow_none=True)
    assessor_ids = fields.List(JsonUUID(), load_default=list, validate=validate.Length(max=20))
    iqa_ids = fields.List(JsonUUID(), load_default=list, validate=validate.Length(max=20))


class EnrolmentUpdate(StrictBody):
    status = fields.String(validate=validate.OneOf(ENROLMENT_STATUSES))
    start_date = JsonDate()
    planned_end_date = JsonDate(allow_none=True)
    assessor_ids = fields.List(JsonUUID(), validate=validate.Length(max=20))
    iqa_ids = fields.List(JsonUUID(), validate=validate.Length(max=20))


KSB_CODE = validate.Regexp(r"^[KSB][0-9]{1,4}$", error="a KSB code, e.g. K1, S3 or B2")


class EvidenceFields(StrictBody):
    """What any evidence says of itself: its type, title, date, where it is kept and the authenticity declaration."""

    type = Text(required=True, max_length=64)
    title = Text(required=True, max_length=300)
    description = Text(load_default=None, allow_none=True, max_length=10000, allow_blank=True)
    date = JsonDate(required=True)
    reference_uri = fields.Url(load_default=None, allow_none=True, require_tld=False,
                               validate=[validate.Length(max=2000), no_control_characters])
    sha256 = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))
    authenticity_declared = JsonBoolean(required=True)


class EvidenceCreate(EvidenceFields):
    criterion_ids = fields.List(JsonUUID(), load_default=list, validate=validate.Length(max=500))


class KsbEvidenceCreate(EvidenceFields):
    """Evidence for KSBs of an apprenticeship's standard version, claimed for at least one of them."""

    ksb_codes = fields.List(fields.String(validate=KSB_CODE), required=True, validate=validate.Length(min=1, max=200))


class ClaimCreate(StrictBody):
    criterion_ids = fields.List(JsonUUID(), required=True, validate=validate.Length(min=1, max=500))


class DecisionCreate(StrictBody):
    criterion_id = JsonUUID(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(DECISION_OUTCOMES))
    feedback = Text(required=True, max_length=10000)
    reason = Text(load_default=None, allow_none=True, max_length=2000)
    evidence_ids = fields.List(JsonUUID(), load_default=list, validate=validate.Length(max=100))
    expected_sequence = JsonInteger(load_default=None, allow_none=True,
                                       validate=validate.Range(min=0, max=2**31 - 1))


class KsbDecisionCreate(StrictBody):
    ksb_code = fields.String(required=True, validate=KSB_CODE)
    outcome = fields.String(required=True, validate=validate.OneOf(DECISION_OUTCOMES))
    feedback = Text(required=True, max_length=10000)
    reason = Text(load_default=None, allow_none=True, max_length=2000)
    evidence_ids = fields.List(JsonUUID(), load_default=list, validate=validate.Length(max=100))
    expected_sequence = JsonInteger(load_default=None, allow_none=True,
                                       validate=validate.Range(min=0, max=2**31 - 1))


DECISION_BATCH_MAX = 100  # decisions a batch records: a unit's criteria, with room to spare


class DecisionBatchCreate(StrictBody):
    decisions = fields.List(fields.Nested(DecisionCreate), required=True,
                            validate=validate.Length(min=1, max=DECISION_BATCH_MAX))


class PlanCreate(StrictBody):
    centre_id = JsonUUID(required=True)
    assessor_id = JsonUUID(required=True)
    rate = JsonNumber(required=True, validate=validate.Range(min=0, max=1))
    assessor_is_new = JsonBoolean(load_default=False)


class SampleCreate(StrictBody):
    decision_id = JsonUUID(required=True)


class VerdictCreate(StrictBody):
    verdict = fields.String(required=True, validate=validate.OneOf(VERDICTS))
    actions = Text(load_default=None, allow_none=True, max_length=5000)


class EnrolmentMigrate(StrictBody):
    to_version = JsonInteger(load_default=None, allow_none=True, validate=validate.Range(min=1, max=2**31 - 1))
    dry_run = JsonBoolean(load_default=False)


class CohortMigrate(EnrolmentMigrate):
    unit_id = JsonUUID(required=True)
    centre_id = JsonUUID(load_default=None, allow_none=True)
    # given, at least one: an empty list must not mean "every enrolment on the unit" (as leaving it out does)
    enrolment_ids = fields.List(JsonUUID(), load_default=None, allow_none=False,
                                validate=validate.Length(min=1, max=1000))


EVENT_TYPE_FILTERS_MAX = 50


class WebhookEndpointCreate(StrictBody):
    url = Text(required=True, max_length=2000)
    types = fields.List(Text(max_length=40), load_default=None, allow_none=True,
                        validate=validate.Length(min=1, max=EVENT_TYPE_FILTERS_MAX))
    description = Text(load_default=None, allow_none=True, max_length=500)
    centre_id = JsonUUID(load_default=None, allow_none=True)
    awarding_body = Text(load_default=None, allow_none=True, max_length=64)


class WebhookEndpointUpdate(StrictBody):
    url = Text(max_length=2000)
    types = fields.List(Text(max_length=40), allow_none=True,
                        validate=validate.Length(min=1, max=EVENT_TYPE_FILTERS_MAX))
    description = Text(allow_none=True, max_length=500)
    status = fields.String(validate=validate.OneOf(("active", "disabled")))


class Delegation(StrictBody):
    accepts_delegation = JsonBoolean(required=True)


class StaffAssign(StrictBody):
    account_id = JsonUUID(required=True)
    role = fields.String(required=True, validate=validate.OneOf(STAFF_ROLES))


# -- apprenticeships --------------------------------------------------------------------------------------------------

STANDARD_REFERENCE = validate.Regexp(r"^[A-Za-z0-9._-]{1,16}$", error="a reference number, e.g. ST0072")
STANDARD_VERSION = validate.Regexp(r"^[A-Za-z0-9._-]{1,16}$", error="a version, e.g. 1.1")
class KsbMappingCreate(StrictBody):
    unit_version_id = JsonUUID(required=True)
    criterion_id = JsonUUID(load_default=None, allow_none=True)
    reference_number = fields.String(required=True, validate=STANDARD_REFERENCE)
    version = fields.String(required=True, validate=STANDARD_VERSION)
    ksb_code = fields.String(required=True, validate=KSB_CODE)


class KsbMappingCarry(StrictBody):
    reference_number = fields.String(required=True, validate=STANDARD_REFERENCE)
    from_version = fields.String(required=True, validate=STANDARD_VERSION)
    to_version = fields.String(required=True, validate=STANDARD_VERSION)
    unit_version_id = JsonUUID(load_default=None, allow_none=True)


class ApprenticeshipCreate(StrictBody):
    learner_id = JsonUUID(required=True)
    reference_number = fields.String(required=True, validate=STANDARD_REFERENCE)
    version = fields.String(load_default=None, allow_none=True, validate=STANDARD_VERSION)
    option_id = Text(load_default=None, allow_none=True, max_length=64)
    start_date = JsonDate(required=True)
    planned_end_date = JsonDate(required=True)
    weekly_hours = JsonNumber(load_default=None, allow_none=True,
                              validate=validate.Range(min=0, max=168, min_inclusive=False))
    prior_learning_hours = JsonInteger(load_default=0, validate=validate.Range(min=0, max=10000))
    enrolment_ids = fields.List(JsonUUID(), load_default=list, validate=validate.Length(max=100))


class ApprenticeshipUpdate(StrictBody):
    option_id = Text(allow_none=True, max_length=64)
    start_date = JsonDate()
    planned_end_date = JsonDate()
    weekly_hours = JsonNumber(allow_none=True, validate=validate.Range(min=0, max=168, min_inclusive=False))
    prior_learning_hours = JsonInteger(validate=validate.Range(min=0, max=10000))
    gateway_date = JsonDate(allow_none=True)
    status = fields.String(validate=validate.OneOf(("active", "completed", "withdrawn")))
    enrolment_ids = fields.List(JsonUUID(), validate=validate.Length(max=100))


class OtjActivityCreate(StrictBody):
    activity_date = JsonDate(required=True)
    hours = JsonNumber(required=True, validate=validate.Range(min=0, max=24, min_inclusive=False))
    kind = fields.String(required=True, validate=validate.OneOf(OTJ_KINDS))
    description = Text(required=True, max_length=2000)
    ksb_codes = fields.List(fields.String(validate=KSB_CODE), load_default=list, validate=validate.Length(max=200))
    evidence_id = JsonUUID(load_default=None, allow_none=True)
    external_ref = Text(load_default=None, allow_none=True, max_length=128)
