"""Decisions and evidence across enrolments, for integrations that keep a copy in sync: filtered by centre,
enrolment or learner, in created_at or updated_at order (``updated_since``: common.sorted_lists), and only those of
learners whose records the caller may read (the rule that reading one of them follows)."""

from api.models import Claim, Countersignature, Decision, Enrolment, Evidence
from api.services.common.access import Principal, require_authenticated, visible_learner_records
from api.services.common.pagination import Page
from api.services.common.sorted_lists import by_time, sorted_page
from api.services.tracking.decisions import decision_body
from api.services.tracking.evidence import evidence_body

DECISION_ORDERS, EVIDENCE_ORDERS = by_time(Decision), by_time(Evidence)


def _of_visible_enrolments(model, principal: Principal, centre_id, enrolment_id, learner_id):
    """Rows of ``model`` whose enrolment the principal may read, filtered by centre, enrolment and learner. The
    enrolment is joined only when a filter or the principal's visibility needs its centre or learner: an admin's
    unfiltered sync then pages and counts ``model``'s own (updated_at, id) index alone (every row has an
    enrolment: the foreign key is required)."""
    require_authenticated(principal)
    query = model.select()
    if enrolment_id:
        query = query.where(model.enrolment == enrolment_id)
    if centre_id or learner_id or not principal.is_admin:
        query = query.join(Enrolment, on=(model.enrolment == Enrolment.id))
        query = visible_learner_records(query, principal, Enrolment.centre, Enrolment.learner)
        for field, value in ((Enrolment.centre, centre_id), (Enrolment.learner, learner_id)):
            if value:
                query = query.where(field == value)
    return query


def list_all_decisions(principal: Principal, *, centre_id=None, enrolment_id=None, learner_id=None, cursor=None,
                       limit: int, sort=None, updated_since=None) -> Page:
    """Decisions the principal may read, each shaped as it reads alone; oldest first (the default), or by when it was
    last made, countersigned, sampled or given a verdict (sort=updated_at, for sync)."""
    query = _of_visible_enrolments(Decision, principal, centre_id, enrolment_id, learner_id)
    page = sorted_page(query, Decision, DECISION_ORDERS, sort=sort, updated_since=updated_since, cursor=cursor,
                       limit=limit)
    signatures = {s.decision_id: s for s in Countersignature.select()
                  .where(Countersignature.decision.in_([d.id for d in page.items]))}
    page.items = [decision_body(d, signatures.get(d.id)) for d in page.items]
    return page


def list_all_evidence(principal: Principal, *, centre_id=None, enrolment_id=None, learner_id=None, cursor=None,
                      limit: int, sort=None, updated_since=None) -> Page:
    """Evidence the principal may read, each with its claims as it reads alone; oldest first (the default), or by
    when it was submitted or last given a claim (sort=updated_at, for sync)."""
    query = _of_visible_enrolments(Evidence, principal, centre_id, enrolment_id, learner_id)
    page = sorted_page(query, Evidence, EVIDENCE_ORDERS, sort=sort, updated_since=updated_since, cursor=cursor,
                       limit=limit)
    claims: dict = {}
    for claim in Claim.select().where(Claim.evidence.in_([e.id for e in page.items])):
        claims.setdefault(claim.evidence_id, []).append(claim)
    page.items = [evidence_body(e, claims.get(e.id, [])) for e in page.items]
    return page
