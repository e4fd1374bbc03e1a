"""GraphQL over apprenticeships as tracked: KSB mappings, a learner's apprenticeships with their KSB progress and
off-the-job (OTJ) ledger, and the writes REST offers for them, through the same services and body schemas."""

import datetime as dt
import uuid

import strawberry
from strawberry.scalars import JSON

from api.gql.args import or_none, page_size, validated
from api.gql.content_types import Info
from api.gql.failures import result_union, run_write
from api.gql.ksb_assessment import KsbDecision, KsbDirectState, KsbEvidence, decision_list, evidence_connection
from api.gql.mutation_inputs import body_of
from api.gql.records import Connection, as_type, connection_from_page
from api.inputs import bodies, load_body
from api.inputs.params import KSB_MAPPING_LIST_ARGS, PAGE_ARGS
from api.models.apprenticeship_tracking import OTJ_KINDS
from api.services.apprenticeships import enrolling, ksb_progress, mappings, otj
from api.services.common.access import visible_apprenticeship, visible_otj_activity


@strawberry.type(description="A unit criterion (or, with criterionId null, a whole unit version) mapped to a KSB of "
                             "a standard version, as GET /v1/ksb-mappings/{id}.")
class KsbMapping:
    id: uuid.UUID
    unit_version_id: uuid.UUID
    unit_id: uuid.UUID
    criterion_id: uuid.UUID | None
    reference_number: str
    version: str
    standard_version_id: uuid.UUID
    ksb_code: str
    ksb_id: str | None = strawberry.field(description="The KSB's published GUID: carrying mappings matches on it.")
    carried_from: uuid.UUID | None
    created_by: str
    created_at: dt.datetime
    href: str


@strawberry.type(description="A mapping carried to the later version, with its KSB's code in each.")
class CarriedMapping:
    mapping_id: uuid.UUID
    from_mapping_id: uuid.UUID
    old_ksb_code: str
    new_ksb_code: str


@strawberry.type(description="A mapping that could not be carried, and why.")
class UncarriedMapping:
    mapping_id: uuid.UUID
    ksb_code: str
    reason: str


@strawberry.type(description="What carryKsbMappings did (REST's POST /v1/ksb-mapping-carries).")
class KsbMappingCarry:
    reference_number: str
    from_version: str
    to_version: str
    carried: list[CarriedMapping]
    already_present: list[uuid.UUID]
    not_carried: list[UncarriedMapping]


@strawberry.type(description="A criterion mapped to a KSB, in a unit enrolment that delivers the apprenticeship.")
class MappedCriterion:
    enrolment_id: uuid.UUID
    unit_code: str
    criterion_id: uuid.UUID
    number: str
    met: bool
    verified: bool
    iqa_outstanding: bool


@strawberry.type(description="Progress on one KSB. A decision on the KSB itself in effect decides it (basis "
                             "direct); otherwise it is complete when every criterion mapped to it is met (basis "
                             "mapped). status is not_mapped, not_started, in_progress or complete.")
class KsbProgress:
    code: str
    kind: str
    ksb_id: str | None
    detail: str
    criteria: int
    met: int
    verified: int
    complete: bool
    status: str
    basis: str | None
    direct: KsbDirectState | None
    mapped_criteria: list[MappedCriterion]


@strawberry.type(description="Progress on one duty: complete when every KSB it maps to is.")
class DutyProgress:
    code: str
    duty_id: str | None
    detail: str
    ksb_codes: list[str]
    ksbs_complete: int
    complete: bool


@strawberry.type(description="An apprenticeship's progress per KSB, per duty and overall (REST's "
                             "GET /v1/apprenticeships/{id}/progress).")
class ApprenticeshipProgress:
    apprenticeship_id: uuid.UUID
    learner_id: uuid.UUID
    reference_number: str
    version: str
    option_id: str | None
    enrolment_ids: list[uuid.UUID]
    ksbs_total: int
    ksbs_mapped: int
    ksbs_complete: int
    duties_total: int
    duties_complete: int
    complete: bool
    percent_complete: float
    ksbs: list[KsbProgress]
    duties: list[DutyProgress]


@strawberry.type(description="A stretch of more than four weeks without off-the-job training before gateway.")
class InactivePeriod:
    after: dt.date
    until: dt.date
    days: int


@strawberry.type(description="The funding rule set planned hours come from, and the documents it cites.")
class OtjRuleSet:
    id: str
    title: str
    method: str
    applies_from: dt.date
    applies_until: dt.date | None
    minimum_hours: int | None
    sources: JSON


@strawberry.type(description="The off-the-job training position (REST's GET /v1/apprenticeships/{id}/otj).")
class OtjLedger:
    apprenticeship_id: uuid.UUID
    planned_hours: float | None
    reason: str | None
    below_funding_minimum: bool
    rule_set: OtjRuleSet | None
    hours_recorded: float
    hours_confirmed: float
    hours_remaining: float | None
    expected_hours_to_date: float | None
    on_track: bool
    hours_after_gateway_excluded: float
    gateway_date: dt.date | None
    last_activity_date: dt.date | None
    as_of: dt.date
    inactive: bool
    inactive_periods: list[InactivePeriod]


@strawberry.type(description="An off-the-job training activity (REST's GET /v1/otj-activities/{id}).")
class OtjActivity:
    id: uuid.UUID
    apprenticeship_id: uuid.UUID
    learner_id: uuid.UUID
    activity_date: dt.date
    hours: float
    minutes: int
    kind: str
    description: str
    ksb_codes: list[str]
    evidence_id: uuid.UUID | None
    external_ref: str | None
    recorded_by: str
    confirmed_by: str | None
    confirmed_at: dt.datetime | None
    created_at: dt.datetime
    href: str


@strawberry.type(description="A learner on a version of an apprenticeship standard (REST's "
                             "GET /v1/apprenticeships/{id}); `etag` is for updateApprenticeship.")
class Apprenticeship:
    id: uuid.UUID
    learner_id: uuid.UUID
    centre_id: uuid.UUID
    reference_number: str
    version: str
    standard_version_id: uuid.UUID
    title: str
    option_id: str | None
    start_date: dt.date
    planned_end_date: dt.date
    weekly_hours: float | None
    prior_learning_hours: int
    gateway_date: dt.date | None
    status: str
    enrolment_ids: list[uuid.UUID]
    created_at: dt.datetime
    updated_at: dt.datetime
    etag: str
    href: str

    @strawberry.field(description="Progress per KSB, per duty and overall.")
    def progress(self, info: Info, parent: strawberry.Parent[dict]) -> ApprenticeshipProgress:
        return ksb_progress.apprenticeship_progress(info.context.principal, uuid.UUID(parent["id"]))

    @strawberry.field(description="The off-the-job training ledger.")
    def otj(self, info: Info, parent: strawberry.Parent[dict]) -> OtjLedger:
        return otj.ledger(info.context.principal, uuid.UUID(parent["id"]))

    @strawberry.field(description="Evidence claimed for its KSBs (optionally one KSB), oldest first.")
    def ksb_evidence(self, info: Info, parent: strawberry.Parent[dict], ksb_code: str | None = None,
                     first: int | None = None, after: str | None = None) -> Connection[KsbEvidence]:
        return evidence_connection(info, uuid.UUID(parent["id"]), ksb_code, first, after)

    @strawberry.field(description="Decisions on its KSBs (optionally one KSB), in the order made.")
    def ksb_decisions(self, info: Info, parent: strawberry.Parent[dict],
                      ksb_code: str | None = None) -> list[KsbDecision]:
        return decision_list(info, uuid.UUID(parent["id"]), ksb_code)

    @strawberry.field(description="Off-the-job activities by date.")
    def otj_activities(self, info: Info, parent: strawberry.Parent[dict], first: int | None = None,
                       after: str | None = None) -> Connection[OtjActivity]:
        args = validated(PAGE_ARGS, after=after)
        return connection_from_page(otj.list_activities(info.context.principal, uuid.UUID(parent["id"]),
                                                        args["cursor"], page_size(info, first)))


def learner_apprenticeships(info: Info, learner_id: uuid.UUID, first: int | None, after: str | None) -> dict:
    """A page of a learner's apprenticeships as a connection (Learner.apprenticeships)."""
    args = validated(PAGE_ARGS, after=after)
    return connection_from_page(enrolling.list_apprenticeships(info.context.principal, learner_id, args["cursor"],
                                                               page_size(info, first)))


def apprenticeship_record(row) -> dict:
    return enrolling.body(row)


@strawberry.type
class ApprenticeshipTrackingQuery:
    @strawberry.field(description="One apprenticeship (null where REST answers 404).")
    def apprenticeship(self, info: Info, id: uuid.UUID) -> Apprenticeship | None:
        return or_none(lambda: apprenticeship_record(visible_apprenticeship(info.context.principal, id)))

    @strawberry.field(description="One off-the-job activity (null where REST answers 404).")
    def otj_activity(self, info: Info, id: uuid.UUID) -> OtjActivity | None:
        return or_none(lambda: otj.activity_body(visible_otj_activity(info.context.principal, id)))

    @strawberry.field(description="One KSB mapping (null where REST answers 404).")
    def ksb_mapping(self, info: Info, id: uuid.UUID) -> KsbMapping | None:
        return or_none(lambda: mappings.mapping_body(mappings.visible_mapping(info.context.principal, id)))

    @strawberry.field(description="KSB mappings of a unit version, or to a standard version (and one KSB), as "
                                  "GET /v1/ksb-mappings.")
    def ksb_mappings(self, info: Info, unit_version_id: uuid.UUID | None = None, reference_number: str | None = None,
                     version: str | None = None, ksb_code: str | None = None, first: int | None = None,
                     after: str | None = None) -> Connection[KsbMapping]:
        args = validated(KSB_MAPPING_LIST_ARGS, unit_version_id=unit_version_id, reference_number=reference_number,
                         version=version, ksb_code=ksb_code, after=after)
        return connection_from_page(mappings.list_mappings(
            info.context.principal, unit_version_id=args.get("unit_version_id"),
            reference_number=args.get("reference_number"), version=args.get("version"),
            ksb_code=args.get("ksb_code"), cursor=args["cursor"], limit=page_size(info, first)))


@strawberry.input(description="As the body of POST /v1/ksb-mappings.")
class CreateKsbMappingInput:
    unit_version_id: uuid.UUID
    reference_number: str
    version: str
    ksb_code: str
    criterion_id: uuid.UUID | None = strawberry.UNSET


@strawberry.input(description="As the body of POST /v1/ksb-mapping-carries.")
class CarryKsbMappingsInput:
    reference_number: str
    from_version: str
    to_version: str
    unit_version_id: uuid.UUID | None = strawberry.UNSET


@strawberry.input(description="As the body of POST /v1/apprenticeships.")
class CreateApprenticeshipInput:
    learner_id: uuid.UUID
    reference_number: str
    start_date: dt.date
    planned_end_date: dt.date
    version: str | None = strawberry.UNSET
    option_id: str | None = strawberry.UNSET
    weekly_hours: float | None = strawberry.UNSET
    prior_learning_hours: int | None = strawberry.UNSET
    enrolment_ids: list[uuid.UUID] | None = strawberry.UNSET


@strawberry.input(description="As the body of PATCH /v1/apprenticeships/{id}: only the fields given change.")
class UpdateApprenticeshipInput:
    option_id: str | None = strawberry.UNSET
    start_date: dt.date | None = strawberry.UNSET
    planned_end_date: dt.date | None = strawberry.UNSET
    weekly_hours: float | None = strawberry.UNSET
    prior_learning_hours: int | None = strawberry.UNSET
    gateway_date: dt.date | None = strawberry.UNSET
    status: str | None = strawberry.UNSET
    enrolment_ids: list[uuid.UUID] | None = strawberry.UNSET


@strawberry.input(description=f"As the body of POST /v1/apprenticeships/{{id}}/otj-activities; kind is one of "
                              f"{', '.join(OTJ_KINDS)}.")
class RecordOtjActivityInput:
    activity_date: dt.date
    hours: float
    kind: str
    description: str
    ksb_codes: list[str] | None = strawberry.UNSET
    evidence_id: uuid.UUID | None = strawberry.UNSET
    external_ref: str | None = strawberry.UNSET


KsbMappingResult = result_union("KsbMappingResult", KsbMapping)
KsbMappingCarryResult = result_union("KsbMappingCarryResult", KsbMappingCarry)
ApprenticeshipResult = result_union("ApprenticeshipResult", Apprenticeship)
OtjActivityResult = result_union("OtjActivityResult", OtjActivity)


@strawberry.type
class ApprenticeshipMutation:
    @strawberry.mutation(description="Map a unit criterion (or a whole unit version) to a KSB; mapping what is "
                                     "mapped already returns the mapping.")
    def create_ksb_mapping(self, info: Info, input: CreateKsbMappingInput) -> KsbMappingResult:
        return run_write(info, lambda principal: mappings.create_mapping(
            principal, load_body(bodies.KsbMappingCreate(), body_of(input)))[0],
            lambda body: as_type(KsbMapping, body))

    @strawberry.mutation(description="Remove a KSB mapping; returns it as it was.")
    def delete_ksb_mapping(self, info: Info, id: uuid.UUID) -> KsbMappingResult:
        return run_write(info, lambda principal: mappings.delete_mapping(principal, id),
                         lambda body: as_type(KsbMapping, body))

    @strawberry.mutation(description="Copy mappings from one version of a standard to another, by the KSBs' "
                                     "published GUIDs.")
    def carry_ksb_mappings(self, info: Info, input: CarryKsbMappingsInput) -> KsbMappingCarryResult:
        return run_write(info, lambda principal: mappings.carry_mappings(
            principal, load_body(bodies.KsbMappingCarry(), body_of(input))),
            lambda body: as_type(KsbMappingCarry, body))

    @strawberry.mutation(description="Enrol a learner on a standard version (the one approved for delivery on the "
                                     "start date unless `version` is given).")
    def create_apprenticeship(self, info: Info, input: CreateApprenticeshipInput) -> ApprenticeshipResult:
        return run_write(info, lambda principal: enrolling.create_apprenticeship(
            principal, load_body(bodies.ApprenticeshipCreate(), body_of(input))),
            lambda row: as_type(Apprenticeship, apprenticeship_record(row)))

    @strawberry.mutation(description="Change an apprenticeship, if `etag` is its current one.")
    def update_apprenticeship(self, info: Info, id: uuid.UUID, etag: str,
                              input: UpdateApprenticeshipInput) -> ApprenticeshipResult:
        return run_write(info, lambda principal: enrolling.update_apprenticeship(
            principal, id, load_body(bodies.ApprenticeshipUpdate(), body_of(input), partial=True), etag),
            lambda row: as_type(Apprenticeship, apprenticeship_record(row)))

    @strawberry.mutation(description="Record off-the-job training against an apprenticeship.")
    def record_otj_activity(self, info: Info, apprenticeship_id: uuid.UUID,
                            input: RecordOtjActivityInput) -> OtjActivityResult:
        return run_write(info, lambda principal: otj.record_activity(
            principal, apprenticeship_id, load_body(bodies.OtjActivityCreate(), body_of(input))),
            lambda row: as_type(OtjActivity, otj.activity_body(row)))

    @strawberry.mutation(description="Confirm off-the-job training someone else recorded.")
    def confirm_otj_activity(self, info: Info, id: uuid.UUID) -> OtjActivityResult:
        return run_write(info, lambda principal: otj.confirm_activity(principal, id),
                         lambda row: as_type(OtjActivity, otj.activity_body(row)))
