"""The GraphQL mutations: every tracking write REST offers (test_every_endpoint_is_covered in
tests/test_graphql_authorization.py holds the two to each other). Each validates its input with the REST body schema,
calls the same service inside one transaction (nothing half-written), and returns expected failures as members of its
result union (api.gql.failures)."""

import strawberry

from api.gql.apprenticeship_tracking import ApprenticeshipMutation
from api.gql.assessment_mutations import AssessmentMutation
from api.gql.ksb_assessment import KsbAssessmentMutation
from api.gql.learner_mutations import LearnerMutation
from api.gql.staff import StaffMutation
from api.gql.webhooks import WebhookMutation


@strawberry.type
class Mutation(LearnerMutation, StaffMutation, AssessmentMutation, ApprenticeshipMutation, KsbAssessmentMutation,
               WebhookMutation):
    """Learners and enrolments first, then assessment, then apprenticeships and their KSBs assessed directly, then
    webhook endpoints."""
