"""GraphQL types for moving enrolments to a newer version of their unit: the plan per enrolment (what carries over,
what needs assessing again, what is dropped), as REST's EnrolmentMigration and CohortMigration bodies hold it."""

import uuid

import strawberry

from api.gql.enums import CriterionLink, DecisionOutcome
from api.gql.tracking_types import Enrolment


@strawberry.type(description="A criterion of the new version whose counterpart's decision carries over.")
class CarriedCriterion:
    criterion_id: uuid.UUID
    number: str
    from_criterion_id: uuid.UUID
    from_number: str
    link: CriterionLink
    decision_id: uuid.UUID
    outcome: DecisionOutcome
    claims: int


@strawberry.type(description="A criterion of the new version that needs assessing again, and why (new criterion, "
                             "changed text without a replaces link, reopened by IQA, not assessed yet); with its "
                             "counterpart in the old version where it has one.")
class CriterionToReassess:
    criterion_id: uuid.UUID
    number: str
    from_criterion_id: uuid.UUID | None
    from_number: str | None
    link: CriterionLink | None
    reason: str


@strawberry.type(description="A criterion of the old version with a decision and no counterpart in the new one.")
class DroppedCriterion:
    criterion_id: uuid.UUID
    number: str
    decision_id: uuid.UUID


@strawberry.type(description="What the enrolment's progress will be on the new version.")
class ExpectedProgress:
    criteria: int
    met: int
    claimed: int


@strawberry.type(description="What moving one enrolment to a newer version does.")
class MigrationPlan:
    enrolment_id: uuid.UUID
    from_version: int
    to_version: int
    to_version_id: uuid.UUID
    carried: list[CarriedCriterion]
    needs_reassessment: list[CriterionToReassess]
    dropped: list[DroppedCriterion]
    expected: ExpectedProgress


@strawberry.type(description="One enrolment moved (or, on a dry run, the plan for moving it).")
class EnrolmentMigration:
    dry_run: bool
    plan: MigrationPlan
    enrolment: Enrolment = strawberry.field(description="The enrolment after the move (as before it, on a dry run).")


@strawberry.type(description="A cohort moved, all or nothing (or, on a dry run, the plans for moving it).")
class CohortMigration:
    dry_run: bool
    unit_id: uuid.UUID
    migrated: int
    already_current: list[uuid.UUID]
    plans: list[MigrationPlan]
