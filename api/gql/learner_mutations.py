"""GraphQL mutations for learners and enrolments: the writes of POST/PATCH /v1/learners, /v1/enrolments, enrolment on
a qualification, and migration to a newer unit version, through the same services and body schemas as REST."""

import uuid
from typing import Annotated

import strawberry

from api.gql.content_types import Info
from api.gql.failures import result_union, run_write
from api.gql.migration_types import CohortMigration, EnrolmentMigration
from api.gql.mutation_inputs import (
    CreateLearnerInput,
    EnrolLearnerInput,
    EnrolOnQualificationInput,
    MigrateCohortInput,
    UpdateEnrolmentInput,
    UpdateLearnerInput,
    body_of,
)
from api.gql.records import as_type
from api.gql.tracking_types import Enrolment, Learner
from api.inputs import bodies, load_body
from api.services.common.preconditions import etag_of
from api.services.tracking import enrolments, learners, migration

Etag = Annotated[str, strawberry.argument(description="The record's `etag` from your last read (REST's If-Match; "
                                                     "`*`, as there, updates whatever version is current).")]


@strawberry.type(description="The enrolments made by enrolOnQualification, one per mandatory unit.")
class Enrolments:
    items: list[Enrolment]


LearnerResult = result_union("LearnerResult", Learner)
EnrolmentResult = result_union("EnrolmentResult", Enrolment)
EnrolmentsResult = result_union("EnrolmentsResult", Enrolments)
EnrolmentMigrationResult = result_union("EnrolmentMigrationResult", EnrolmentMigration)
CohortMigrationResult = result_union("CohortMigrationResult", CohortMigration)


def learner_record(learner):
    """A learner as the Learner member of a result union, with the ETag of the version just written."""
    return as_type(Learner, {**learners.learner_body(learner), "etag": etag_of("learner", learner.id,
                                                                                learner.row_version)})


def enrolment_record(enrolment):
    """An enrolment as the Enrolment member of a result union, with the ETag of the version just written."""
    return as_type(Enrolment, {**enrolments.enrolment_body(enrolment),
                               "etag": etag_of("enrolment", enrolment.id, enrolment.row_version)})


@strawberry.type
class LearnerMutation:
    @strawberry.mutation(description="Register a learner at a centre (the ULN's check digit is verified). A ULN or "
                                     "external id the centre already holds is a Conflict naming that learner.")
    def create_learner(self, info: Info, input: CreateLearnerInput) -> LearnerResult:
        return run_write(info, lambda principal: learners.create_learner(
            principal, load_body(bodies.LearnerCreate(), body_of(input))), learner_record)

    @strawberry.mutation(description="Change a learner's personal fields or external ids, if `etag` is the learner's "
                                     "current one (else PreconditionFailed).")
    def update_learner(self, info: Info, id: uuid.UUID, etag: Etag,
                       input: UpdateLearnerInput) -> LearnerResult:
        return run_write(info, lambda principal: learners.update_learner(
            principal, id, load_body(bodies.LearnerUpdate(), body_of(input)), etag), learner_record)

    @strawberry.mutation(description="Withdraw a learner (never deleted: their records stay). Withdrawing a withdrawn "
                                     "learner changes nothing.")
    def withdraw_learner(self, info: Info, id: uuid.UUID) -> LearnerResult:
        return run_write(info, lambda principal: learners.withdraw_learner(principal, id), learner_record)

    @strawberry.mutation(description="Replace a learner's personal data, keeping their assessment records (admins "
                                     "only; cannot be undone).")
    def pseudonymise_learner(self, info: Info, id: uuid.UUID) -> LearnerResult:
        return run_write(info, lambda principal: learners.pseudonymise_learner(principal, id), learner_record)

    @strawberry.mutation(description="Enrol a learner on a unit, pinned to its current published version.")
    def enrol_learner(self, info: Info, input: EnrolLearnerInput) -> EnrolmentResult:
        return run_write(info, lambda principal: enrolments.create_enrolment(
            principal, load_body(bodies.EnrolmentCreate(), body_of(input))), enrolment_record)

    @strawberry.mutation(description="Make several enrolments at once: all or none, each under every rule of "
                                     "enrolLearner; a refusal names the input it is about (enrolments[2]).")
    def enrol_learners(self, info: Info, input: list[EnrolLearnerInput]) -> EnrolmentsResult:
        def write(principal):
            data = load_body(bodies.EnrolmentBatchCreate(), {"enrolments": [body_of(item) for item in input]})
            return enrolments.create_enrolments(principal, data["enrolments"])

        return run_write(info, write, lambda made: as_type(
            Enrolments, {"items": [enrolments.enrolment_body(e) for e in made]}))

    @strawberry.mutation(description="Enrol a learner on every mandatory unit of a qualification, each pinned to its "
                                     "current published version (units they are enrolled on already are kept as "
                                     "they are). All or nothing.")
    def enrol_on_qualification(self, info: Info, learner_id: uuid.UUID, qualification_id: uuid.UUID,
                               input: EnrolOnQualificationInput) -> EnrolmentsResult:
        def write(principal):
            data = load_body(bodies.QualificationEnrolmentCreate(), body_of(input))
            return enrolments.enrol_on_qualification(principal, learner_id, qualification_id, data)

        return run_write(info, write, lambda made: Enrolments(items=[enrolment_record(e) for e in made]))

    @strawberry.mutation(description="Change an enrolment's status, dates or assigned staff, if `etag` is its current "
                                     "one (else PreconditionFailed).")
    def update_enrolment(self, info: Info, id: uuid.UUID, etag: Etag, input: UpdateEnrolmentInput) -> EnrolmentResult:
        return run_write(info, lambda principal: enrolments.update_enrolment(
            principal, id, load_body(bodies.EnrolmentUpdate(), body_of(input)), etag), enrolment_record)

    @strawberry.mutation(description="Withdraw an enrolment (updateEnrolment with status WITHDRAWN), if `etag` is its "
                                     "current one.")
    def withdraw_enrolment(self, info: Info, id: uuid.UUID, etag: Etag) -> EnrolmentResult:
        return run_write(info, lambda principal: enrolments.update_enrolment(
            principal, id, {"status": "withdrawn"}, etag), enrolment_record)

    @strawberry.mutation(description="Move an enrolment to a newer published version of its unit (the current one "
                                     "unless toVersion says), carrying over what still holds; with dryRun, only "
                                     "say what that would do.")
    def migrate_enrolment(self, info: Info, id: uuid.UUID, to_version: int | None = None,
                          dry_run: bool = False) -> EnrolmentMigrationResult:
        def write(principal):
            data = load_body(bodies.EnrolmentMigrate(), {"to_version": to_version, "dry_run": dry_run})
            return migration.migrate_enrolment(principal, id, data["to_version"], data["dry_run"])

        return run_write(info, write, lambda body: as_type(EnrolmentMigration, body))

    @strawberry.mutation(description="Move a cohort (a unit's active enrolments, at a centre or by id) to a newer "
                                     "version: all or nothing; with dryRun, only say what that would do.")
    def migrate_cohort(self, info: Info, input: MigrateCohortInput) -> CohortMigrationResult:
        return run_write(info, lambda principal: migration.migrate_cohort(
            principal, load_body(bodies.CohortMigrate(), body_of(input))), lambda body: as_type(CohortMigration, body))
