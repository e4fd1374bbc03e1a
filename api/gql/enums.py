"""GraphQL enums shared by inputs and outputs, so a value reads as it is written (``NOT_YET_MET``). Each is made from
the model's own tuple of allowed values: a value the database may hold always has its name here, and REST's value is
the name in lower case."""

import enum

import strawberry

from api.models.accounts import ASSESSOR_STATUSES
from api.models.tracking import DECISION_OUTCOMES, ENROLMENT_STATUSES, LEARNER_STATUSES, STAFF_ROLES, VERDICTS
from api.services.tracking.migration import CRITERION_LINKS


def _enum(name: str, values: tuple, description: str | None = None):
    return strawberry.enum(enum.Enum(name, {value.upper(): value for value in values}), description=description)


DecisionOutcome = _enum("DecisionOutcome", DECISION_OUTCOMES, "An assessor's judgement of one criterion.")
Verdict = _enum("Verdict", VERDICTS, "An IQA's verdict on a sampled decision; NOT_CONFIRMED reopens the criterion.")
EnrolmentStatus = _enum("EnrolmentStatus", ENROLMENT_STATUSES)
LearnerStatus = _enum("LearnerStatus", LEARNER_STATUSES)
StaffRole = _enum("StaffRole", STAFF_ROLES, "What an account is on an enrolment.")
AssessorStatus = _enum("AssessorStatus", ASSESSOR_STATUSES,
                       "A trainee assessor's decisions need a qualified assessor's countersignature.")
CriterionLink = _enum("CriterionLink", CRITERION_LINKS,
                      "SAME: the same criterion (by identity); REPLACES: a new criterion that declares it replaces it.")
