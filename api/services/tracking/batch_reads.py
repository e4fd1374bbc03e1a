"""Batch reads by parent ids, for nested GraphQL fields: one query (or a fixed few) for any number of parents.

Every function applies the same permission filter as the single-record reads in the other services, so a batch can
never return a record that the principal could not fetch on its own. Results are keyed by the id as a string.
"""

import json
from collections import defaultdict

from api.models import (
    Claim,
    Countersignature,
    Decision,
    Enrolment,
    EnrolmentStaff,
    Evidence,
    IqaSample,
    IqaVerdict,
    Learner,
    LearnerExternalId,
    UnitVersion,
)
from api.services.common.access import Principal, visible_learner_records
from api.services.common.preconditions import etag_of
from api.services.tracking.decisions import decision_body
from api.services.tracking.enrolments import enrolment_body
from api.services.tracking.evidence import evidence_body
from api.services.tracking.iqa import sample_body
from api.services.tracking.learners import learner_body


def _grouped(rows, key) -> dict[str, list]:
    groups = defaultdict(list)
    for row in rows:
        groups[str(key(row))].append(row)
    return groups


def learners_by_id(principal: Principal, learner_ids: list) -> dict[str, dict]:
    """Learner bodies for the ids the principal may read."""
    query = visible_learner_records(Learner.select().where(Learner.id.in_(learner_ids)), principal, Learner.centre,
                                    Learner.id)
    learners = list(query)
    external = _grouped(LearnerExternalId.select().where(LearnerExternalId.learner.in_([r.id for r in learners])),
                        lambda e: e.learner_id)
    return {str(r.id): learner_body(r, external.get(str(r.id), [])) for r in learners}


def learner_etags(principal: Principal, learner_ids: list) -> dict[str, str]:
    """The current ETag of each learner the principal may read."""
    query = visible_learner_records(Learner.select(Learner.id, Learner.row_version)
                                    .where(Learner.id.in_(learner_ids)), principal, Learner.centre, Learner.id)
    return {str(r.id): etag_of("learner", r.id, r.row_version) for r in query}


def enrolment_etags(principal: Principal, enrolment_ids: list) -> dict[str, str]:
    """The current ETag of each enrolment the principal may read."""
    query = _visible_enrolments(principal, Enrolment.id.in_(enrolment_ids))
    return {str(r.id): etag_of("enrolment", r.id, r.row_version) for r in query}


def _visible_enrolments(principal: Principal, condition):
    return visible_learner_records(Enrolment.select().where(condition), principal, Enrolment.centre,
                                   Enrolment.learner)


def _enrolment_bodies(enrolments: list) -> list[dict]:
    staff = _grouped(EnrolmentStaff.select().where(EnrolmentStaff.enrolment.in_([e.id for e in enrolments])),
                     lambda s: s.enrolment_id)
    return [enrolment_body(e, staff.get(str(e.id), [])) for e in enrolments]


def enrolments_by_learner(principal: Principal, learner_ids: list) -> dict[str, list[dict]]:
    """Each learner's visible enrolments, oldest first (the order of GET /v1/enrolments)."""
    enrolments = list(_visible_enrolments(principal, Enrolment.learner.in_(learner_ids))
                      .order_by(Enrolment.created_at, Enrolment.id))
    return dict(_grouped(_enrolment_bodies(enrolments), lambda b: b["learner_id"]))


def _visible_enrolment_ids(principal: Principal, enrolment_ids: list):
    return _visible_enrolments(principal, Enrolment.id.in_(enrolment_ids)).select(Enrolment.id)


def decisions_by_enrolment(principal: Principal, enrolment_ids: list) -> dict[str, list[dict]]:
    """Each enrolment's decisions in the order they were made (as GET /v1/enrolments/{id}/decisions)."""
    decisions = list(Decision.select().where(Decision.enrolment.in_(_visible_enrolment_ids(principal, enrolment_ids)))
                     .order_by(Decision.created_at, Decision.sequence))
    signatures = {s.decision_id: s for s in Countersignature.select()
                  .where(Countersignature.decision.in_([d.id for d in decisions]))}
    return dict(_grouped([decision_body(d, signatures.get(d.id)) for d in decisions], lambda b: b["enrolment_id"]))


def evidence_by_enrolment(principal: Principal, enrolment_ids: list) -> dict[str, list[dict]]:
    """Each enrolment's evidence with its claims, oldest first (as GET /v1/enrolments/{id}/evidence)."""
    visible = _visible_enrolment_ids(principal, enrolment_ids)
    items = list(Evidence.select().where(Evidence.enrolment.in_(visible)).order_by(Evidence.created_at))
    claims = _grouped(Claim.select().where(Claim.evidence.in_([e.id for e in items])), lambda c: c.evidence_id)
    return dict(_grouped([evidence_body(e, claims.get(str(e.id), [])) for e in items], lambda b: b["enrolment_id"]))


def samples_by_enrolment(principal: Principal, enrolment_ids: list) -> dict[str, list[dict]]:
    """Each enrolment's IQA samples with their verdicts, oldest first."""
    visible = _visible_enrolment_ids(principal, enrolment_ids)
    samples = list(IqaSample.select().where(IqaSample.enrolment.in_(visible)).order_by(IqaSample.created_at))
    verdicts = {v.sample_id: v for v in IqaVerdict.select().where(IqaVerdict.sample.in_([s.id for s in samples]))}
    return dict(_grouped([sample_body(s, verdicts.get(s.id)) for s in samples], lambda b: b["enrolment_id"]))


def pinned_documents(version_ids: list) -> dict[str, dict]:
    """The rendered unit versions that enrolments are pinned to, by version id. Callers pass only the versions of
    enrolments the principal may read: a learner's own pinned version stays readable after it is withdrawn."""
    rows = UnitVersion.select(UnitVersion.id, UnitVersion.document).where(UnitVersion.id.in_(version_ids)).tuples()
    return {str(version_id): json.loads(document) for version_id, document in rows}
