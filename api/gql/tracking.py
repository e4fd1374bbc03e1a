"""GraphQL queries over tracking: thin over api.services, with the REST argument rules and permission filter."""

import uuid
from datetime import datetime

import strawberry

from api.gql.args import or_none, page_size, validated
from api.gql.content_types import Info
from api.gql.enums import EnrolmentStatus
from api.gql.records import Connection, connection_from_page
from api.gql.tracking_types import (
    AuditEvent,
    Centre,
    Decision,
    Enrolment,
    Evidence,
    IqaSample,
    Learner,
    QualificationProgress,
)
from api.inputs.params import ASSESSMENT_LIST_ARGS, AUDIT_ARGS, ENROLMENT_LIST_ARGS, LEARNER_LIST_ARGS, PAGE_ARGS
from api.services.accounts import centres
from api.services.common import audit
from api.services.tracking import assessment_lists, enrolments, evidence, iqa, learners, progress
from api.services.tracking.decisions import get_decision


@strawberry.type
class TrackingQuery:
    @strawberry.field(description="The centres visible to you, by code.")
    def centres(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Centre]:
        cursor = validated(PAGE_ARGS, after=after)["cursor"]
        return connection_from_page(centres.list_centres(info.context.principal, cursor, page_size(info, first)))

    @strawberry.field
    def centre(self, info: Info, id: uuid.UUID) -> Centre | None:
        return or_none(lambda: centres.get_centre(info.context.principal, id))

    @strawberry.field(description="Learners visible to you, by family name, given name and id (sort: name, the "
                                  "default), or by updated_at or created_at; to sync, sort by updated_at from "
                                  "updatedSince (inclusive). q searches, as REST's q does: a 10-digit ULN exactly; "
                                  "else an external id exactly, or a case-insensitive prefix of the given or family "
                                  "name, or of both (\"ada lov\").")
    def learners(self, info: Info, centre_id: uuid.UUID | None = None, uln: str | None = None,
                 external_system: str | None = None, external_id: str | None = None, first: int | None = None,
                 after: str | None = None, sort: str | None = None, updated_since: datetime | None = None,
                 q: str | None = None) -> Connection[Learner]:
        args = validated(LEARNER_LIST_ARGS, centre_id=centre_id, uln=uln, external_system=external_system,
                         external_id=external_id, after=after, sort=sort, updated_since=updated_since, q=q)
        page = learners.list_learners(info.context.principal, **args, limit=page_size(info, first))
        info.context.seen("learner", page.items)
        return connection_from_page(page)

    @strawberry.field
    def learner(self, info: Info, id: uuid.UUID) -> Learner | None:
        return or_none(lambda: learners.learner_body(learners.visible_learner(info.context.principal, id)))

    @strawberry.field(description="Enrolments visible to you, oldest first (sort: created_at, the default), or by "
                                  "updated_at; to sync, sort by updated_at from updatedSince (inclusive).")
    def enrolments(self, info: Info, learner_id: uuid.UUID | None = None, centre_id: uuid.UUID | None = None,
                   unit_id: uuid.UUID | None = None, status: EnrolmentStatus | None = None,
                   first: int | None = None,
                   after: str | None = None, sort: str | None = None,
                   updated_since: datetime | None = None) -> Connection[Enrolment]:
        args = validated(ENROLMENT_LIST_ARGS, learner_id=learner_id, centre_id=centre_id, unit_id=unit_id,
                         status=status and status.value, after=after, sort=sort, updated_since=updated_since)
        page = enrolments.list_enrolments(info.context.principal, **args, limit=page_size(info, first))
        info.context.seen("enrolment", page.items)
        return connection_from_page(page)

    @strawberry.field
    def enrolment(self, info: Info, id: uuid.UUID) -> Enrolment | None:
        return or_none(lambda: enrolments.enrolment_body(enrolments.visible_enrolment(info.context.principal, id)))

    @strawberry.field(description="Evidence visible to you, oldest first (sort: created_at, the default), or by "
                                  "updated_at (submitted or last claimed); to sync, sort by updated_at from "
                                  "updatedSince (inclusive).")
    def evidence_items(self, info: Info, centre_id: uuid.UUID | None = None, enrolment_id: uuid.UUID | None = None,
                       learner_id: uuid.UUID | None = None, first: int | None = None, after: str | None = None,
                       sort: str | None = None, updated_since: datetime | None = None) -> Connection[Evidence]:
        args = validated(ASSESSMENT_LIST_ARGS, centre_id=centre_id, enrolment_id=enrolment_id, learner_id=learner_id,
                         after=after, sort=sort, updated_since=updated_since)
        return connection_from_page(assessment_lists.list_all_evidence(info.context.principal, **args,
                                                                       limit=page_size(info, first)))

    @strawberry.field(description="Decisions visible to you, oldest first (sort: created_at, the default), or by "
                                  "updated_at (made, or last countersigned, sampled or given a verdict); to sync, "
                                  "sort by updated_at from updatedSince (inclusive).")
    def decisions(self, info: Info, centre_id: uuid.UUID | None = None, enrolment_id: uuid.UUID | None = None,
                  learner_id: uuid.UUID | None = None, first: int | None = None, after: str | None = None,
                  sort: str | None = None, updated_since: datetime | None = None) -> Connection[Decision]:
        args = validated(ASSESSMENT_LIST_ARGS, centre_id=centre_id, enrolment_id=enrolment_id, learner_id=learner_id,
                         after=after, sort=sort, updated_since=updated_since)
        return connection_from_page(assessment_lists.list_all_decisions(info.context.principal, **args,
                                                                        limit=page_size(info, first)))

    @strawberry.field(name="evidence")
    def evidence_item(self, info: Info, id: uuid.UUID) -> Evidence | None:
        return or_none(lambda: evidence.evidence_body(evidence.visible_evidence(info.context.principal, id)[0]))

    @strawberry.field
    def decision(self, info: Info, id: uuid.UUID) -> Decision | None:
        return or_none(lambda: get_decision(info.context.principal, id))

    @strawberry.field
    def iqa_sample(self, info: Info, id: uuid.UUID) -> IqaSample | None:
        return or_none(lambda: iqa.get_sample(info.context.principal, id))

    @strawberry.field(description="A learner's progress towards a qualification under its rules of combination.")
    def qualification_progress(self, info: Info, learner_id: uuid.UUID,
                               qualification_id: uuid.UUID) -> QualificationProgress | None:
        return or_none(lambda: progress.qualification_progress(info.context.principal, learner_id, qualification_id))

    @strawberry.field(description="Audit events: all for admins, their centres' for centre admins; oldest first.")
    def audit_events(self, info: Info, centre_id: uuid.UUID | None = None, subject_type: str | None = None,
                     subject_id: str | None = None, since: datetime | None = None, until: datetime | None = None,
                     first: int | None = None, after: str | None = None) -> Connection[AuditEvent]:
        args = validated(AUDIT_ARGS, centre_id=centre_id, subject_type=subject_type, subject_id=subject_id,
                         since=since, until=until, after=after)
        page = audit.list_events(info.context.principal, **args, limit=page_size(info, first))
        return connection_from_page(page)

