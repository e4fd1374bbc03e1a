"""Learners: ULN-checked records at a centre, with external ids per integrating system. Never hard-deleted:
withdrawn, or pseudonymised on request with their assessment records kept."""

import hashlib
import uuid

from api import db
from api.errors import Conflict, PreconditionFailed, ValidationFailed
from api.ids import new_id
from api.models import (
    Apprenticeship,
    Claim,
    Countersignature,
    Decision,
    Enrolment,
    Evidence,
    IqaSample,
    IqaVerdict,
    KsbDecision,
    KsbEvidence,
    Learner,
    LearnerExternalId,
    OtjActivity,
)
from api.models.base import iso_utc, utcnow
from api.services.common import audit
from api.services.common.access import (
    Principal,
    can_export_learner,
    can_manage_learners,
    can_pseudonymise_learners,
    require,
    require_authenticated,
    visible_centre,
    visible_learner,
    visible_learner_records,
)
from api.services.common.pagination import Page
from api.services.common.preconditions import check_if_match, etag_of
from api.services.common.sorted_lists import by_time, sorted_page
from api.services.sync import feed
from api.services.tracking import learner_search
from api.services.tracking.identity import learner_duplicate, write_unique
from api.services.tracking.uln import uln_problem

EDITABLE = ("given_name", "family_name", "email", "date_of_birth")
LEARNER_ORDERS = {"name": ([Learner.family_name, Learner.given_name, Learner.id],
                           lambda r: [r.family_name, r.given_name, str(r.id)]), **by_time(Learner)}


def lock_centre_learners(centre_id) -> None:
    """Inside a write transaction: wait for, then hold until it ends, the lock on creating learners at ``centre_id``,
    so a create (or a learner import batch, which takes the same lock) queues behind any other creating learners at
    that centre and then sees what it committed. One key per centre; other centres' writers do not wait."""
    digest = hashlib.sha256(b"qualtrack:centre-learners:" + uuid.UUID(str(centre_id)).bytes).digest()
    db.hold_until_commit(int.from_bytes(digest[:8], "big", signed=True))


def learner_body(learner: Learner, external_ids: list | None = None) -> dict:
    if external_ids is None:
        external_ids = list(LearnerExternalId.select().where(LearnerExternalId.learner == learner.id))
    return {
        "id": str(learner.id), "centre_id": str(learner.centre_id), "uln": learner.uln,
        "given_name": learner.given_name, "family_name": learner.family_name, "email": learner.email,
        "date_of_birth": learner.date_of_birth.isoformat() if learner.date_of_birth else None,
        "status": learner.status, "pseudonymised": learner.pseudonymised_at is not None,
        "external_ids": [{"system": e.system, "id": e.external_id} for e in external_ids],
        "created_at": iso_utc(learner.created_at), "updated_at": iso_utc(learner.updated_at),
        "href": f"/v1/learners/{learner.id}",
    }


def _snapshot(learner: Learner) -> dict:
    """What the audit log keeps of a learner: ids and status, never personal data."""
    return {"id": str(learner.id), "centre_id": str(learner.centre_id), "status": learner.status,
            "row_version": learner.row_version}


def _refuse_repeated(external_ids: list[dict]) -> None:
    """422 if the same (system, id) is given twice."""
    seen = set()
    for i, ref in enumerate(external_ids):
        key = (ref["system"], ref["id"])
        if key in seen:
            raise ValidationFailed("the same external id is given twice",
                                   errors={f"external_ids[{i}]": ["duplicate"]})
        seen.add(key)


def _insert_external_ids(learner_id, centre_id, external_ids: list[dict]) -> None:
    if external_ids:
        LearnerExternalId.insert_many([{"learner": learner_id, "centre": centre_id, "system": r["system"],
                                        "external_id": r["id"]} for r in external_ids]).execute()


def create_learner(principal: Principal, data: dict) -> Learner:
    """A new learner at ``data['centre_id']``; 422 for a bad ULN, 409 AlreadyExists (pointing at the learner) for a ULN
    or external id already used there, found before the insert or refused by the database."""
    centre = visible_centre(principal, data["centre_id"])
    require(can_manage_learners(principal, centre.id), "only the centre's admins (or its tracking:write clients) "
                                                       "create learners")
    problem = uln_problem(data["uln"])
    if problem:
        raise ValidationFailed(problem, errors={"uln": [problem]})
    external_ids = data.get("external_ids", [])
    _refuse_repeated(external_ids)

    def insert() -> Learner:
        learner = Learner.create(id=new_id(), centre=centre.id, uln=data["uln"], given_name=data["given_name"],
                                 family_name=data["family_name"], email=data.get("email"),
                                 date_of_birth=data.get("date_of_birth"))
        _insert_external_ids(learner.id, centre.id, external_ids)
        return learner

    lock_centre_learners(centre.id)
    learner = write_unique(insert, lambda: learner_duplicate(centre.id, data["uln"], external_ids))
    audit.record(principal, "learner.created", "learner", learner.id, centre_id=centre.id, after=_snapshot(learner))
    feed.append([feed.learner_event("learner.created", audit.actor_of(principal), learner)])
    return learner


def list_learners(principal: Principal, *, centre_id, uln, external_system, external_id, cursor, limit,
                  sort=None, updated_since=None, q=None) -> Page:
    """Learners the principal may see, filtered by centre, ULN, external id, time of their last change or a search
    (``q``: learner_search); sorted by name (family name, given name, id: the default), or by when they were last
    updated or created (for sync: common.sorted_lists)."""
    require_authenticated(principal)
    rows = learner_search.learners_matching(principal, q, centre_id) if q else Learner.select()
    query = visible_learner_records(rows, principal, Learner.centre, Learner.id)
    if centre_id:
        query = query.where(Learner.centre == centre_id)
    if uln:
        query = query.where(Learner.uln == uln)
    if external_system or external_id:
        matches = LearnerExternalId.select(LearnerExternalId.learner)
        if external_system:
            matches = matches.where(LearnerExternalId.system == external_system)
        if external_id:
            matches = matches.where(LearnerExternalId.external_id == external_id)
        query = query.where(Learner.id.in_(matches))
    page = sorted_page(query, Learner, LEARNER_ORDERS, sort=sort, updated_since=updated_since, cursor=cursor,
                       limit=limit, indexed=("name", "updated_at"))
    ids = [r.id for r in page.items]
    external: dict = {}
    for ref in LearnerExternalId.select().where(LearnerExternalId.learner.in_(ids)):
        external.setdefault(ref.learner_id, []).append(ref)
    page.items = [learner_body(r, external.get(r.id, [])) for r in page.items]
    return page


def update_learner(principal: Principal, learner_id: uuid.UUID, changes: dict, if_match: str | None) -> Learner:
    """Change a learner's personal fields and external ids, if If-Match names the current version; 409 AlreadyExists
    (pointing at the other learner) for an external id another learner at the centre holds."""
    learner = visible_learner(principal, learner_id)
    require(can_manage_learners(principal, learner.centre_id), "only the centre's admins change learner records")
    check_if_match(if_match, etag_of("learner", learner.id, learner.row_version))
    if learner.pseudonymised_at is not None:
        raise Conflict("this learner has been pseudonymised; their personal data can no longer be changed")
    before = _snapshot(learner)
    for name in EDITABLE:
        if name in changes:
            setattr(learner, name, changes[name])
    if "external_ids" in changes:
        refs = changes["external_ids"]
        _refuse_repeated(refs)

        def replace_external_ids() -> None:
            LearnerExternalId.delete().where(LearnerExternalId.learner == learner.id).execute()
            _insert_external_ids(learner.id, learner.centre_id, refs)

        write_unique(replace_external_ids, lambda: learner_duplicate(learner.centre_id, None, refs,
                                                                     learner_id=learner.id))
    _bump(learner)
    audit.record(principal, "learner.updated", "learner", learner.id, centre_id=learner.centre_id, before=before,
                 after={**_snapshot(learner), "fields": sorted(changes)})
    feed.append([feed.learner_event("learner.updated", audit.actor_of(principal), learner)])
    return learner


def _bump(learner: Learner) -> None:
    """Save with the next row version, only if nobody saved in between (a racing update gets a 412)."""
    current = learner.row_version
    learner.row_version, learner.updated_at = current + 1, utcnow()
    saved = (Learner.update({f: getattr(learner, f) for f in (*EDITABLE, "status", "uln", "row_version",
                                                               "updated_at", "pseudonymised_at")})
             .where(Learner.id == learner.id, Learner.row_version == current).execute())
    if saved != 1:
        raise PreconditionFailed("the record changed while you were updating it: GET it again and retry")


def withdraw_learner(principal: Principal, learner_id: uuid.UUID) -> Learner:
    """Mark a learner withdrawn (never deleted: their records stay for audit); idempotent."""
    learner = visible_learner(principal, learner_id)
    require(can_manage_learners(principal, learner.centre_id), "only the centre's admins withdraw learners")
    if learner.status == "withdrawn":
        return learner
    before = _snapshot(learner)
    learner.status = "withdrawn"
    _bump(learner)
    audit.record(principal, "learner.withdrawn", "learner", learner.id, centre_id=learner.centre_id, before=before,
                 after=_snapshot(learner))
    feed.append([feed.learner_event("learner.withdrawn", audit.actor_of(principal), learner)])
    return learner


def pseudonymise_learner(principal: Principal, learner_id: uuid.UUID) -> Learner:
    """Replace a learner's personal data (names, email, date of birth, external ids) and hash the ULN, keeping every
    assessment record so progress and the audit trail stay intact. Admins only; idempotent."""
    learner = visible_learner(principal, learner_id)
    require(can_pseudonymise_learners(principal), "only an admin pseudonymises a learner")
    if learner.pseudonymised_at is not None:
        return learner
    before = _snapshot(learner)
    learner.uln = hashlib.sha256(f"uln:{learner.uln}:{learner.id}".encode()).hexdigest()
    learner.given_name, learner.family_name = "Pseudonymised", f"Learner {str(learner.id)[:8]}"
    learner.email = learner.date_of_birth = None
    learner.pseudonymised_at = utcnow()
    LearnerExternalId.delete().where(LearnerExternalId.learner == learner.id).execute()
    _bump(learner)
    audit.record(principal, "learner.pseudonymised", "learner", learner.id, centre_id=learner.centre_id,
                 before=before, after=_snapshot(learner))
    feed.append([feed.learner_event("learner.pseudonymised", audit.actor_of(principal), learner)])
    return learner


def export_learner(principal: Principal, learner_id: uuid.UUID) -> dict:
    """A learner's full record as JSON: personal data, enrolments, evidence, claims, decisions, IQA, apprenticeships
    and off-the-job training. For the learner themself, their centre's admins and admins."""
    learner = visible_learner(principal, learner_id)
    require(can_export_learner(principal, learner.centre_id, learner.id),
            "a learner's full record is exported by the learner or their centre's admins")
    enrolments = list(Enrolment.select().where(Enrolment.learner == learner.id))
    ids = [e.id for e in enrolments]
    evidence = list(Evidence.select().where(Evidence.enrolment.in_(ids)))
    claims = list(Claim.select().where(Claim.enrolment.in_(ids)))
    decisions = list(Decision.select().where(Decision.enrolment.in_(ids)).order_by(Decision.created_at))
    countersigned = {c.decision_id: c for c in Countersignature.select().join(Decision)
                     .where(Decision.enrolment.in_(ids))}
    samples = list(IqaSample.select().where(IqaSample.enrolment.in_(ids)))
    verdicts = {v.sample_id: v for v in IqaVerdict.select().join(IqaSample).where(IqaSample.enrolment.in_(ids))}
    return {
        "exported_at": iso_utc(utcnow()), "learner": learner_body(learner),
        "enrolments": [{"id": str(e.id), "unit_id": str(e.unit_id), "unit_version_id": str(e.unit_version_id),
                        "status": e.status, "start_date": e.start_date.isoformat(),
                        "planned_end_date": e.planned_end_date.isoformat() if e.planned_end_date else None}
                       for e in enrolments],
        "evidence": [{"id": str(v.id), "enrolment_id": str(v.enrolment_id), "type": v.evidence_type_id,
                      "title": v.title, "description": v.description, "date": v.evidence_date.isoformat(),
                      "reference_uri": v.reference_uri, "sha256": v.sha256,
                      "authenticity_declared": v.authenticity_declared} for v in evidence],
        "claims": [{"id": str(c.id), "evidence_id": str(c.evidence_id), "criterion_id": str(c.criterion_id)}
                   for c in claims],
        "decisions": [{"id": str(d.id), "enrolment_id": str(d.enrolment_id), "criterion_id": str(d.criterion_id),
                       "outcome": d.outcome, "feedback": d.feedback, "reason": d.reason,
                       "decided_at": iso_utc(d.created_at),
                       "countersigned_at": iso_utc(countersigned[d.id].created_at) if d.id in countersigned else None}
                      for d in decisions],
        "iqa": [{"sample_id": str(s.id), "decision_id": str(s.decision_id),
                 "verdict": verdicts[s.id].verdict if s.id in verdicts else None,
                 "actions": verdicts[s.id].actions if s.id in verdicts else None} for s in samples],
        **apprenticeship_records(learner.id),
    }


def apprenticeship_records(learner_id) -> dict:
    """A learner's apprenticeships and off-the-job activities, as their export holds them."""
    from api.services.apprenticeships.otj import activity_body

    rows = list(Apprenticeship.select().where(Apprenticeship.learner == learner_id).order_by(Apprenticeship.id))
    activities = OtjActivity.select().where(  # by apprenticeship: the (apprenticeship, activity_date) index
        OtjActivity.apprenticeship.in_([a.id for a in rows])).order_by(OtjActivity.activity_date, OtjActivity.id)
    return {"apprenticeships": [{"id": str(a.id), "standard_version_id": str(a.standard_version_id),
                                 "option_id": a.option_id, "start_date": a.start_date.isoformat(),
                                 "planned_end_date": a.planned_end_date.isoformat(), "weekly_hours": a.weekly_hours,
                                 "prior_learning_hours": a.prior_learning_hours,
                                 "gateway_date": a.gateway_date.isoformat() if a.gateway_date else None,
                                 "status": a.status} for a in rows],
            "otj_activities": [activity_body(activity) for activity in activities],
            **ksb_assessment_records([a.id for a in rows])}


def ksb_assessment_records(apprenticeship_ids: list) -> dict:
    """The evidence claimed for KSBs of these apprenticeships and the decisions on their KSBs, as a learner's export
    holds them (looked up by apprenticeship: the indexed column)."""
    from api.services.apprenticeships import ksb_decisions, ksb_evidence

    evidence = list(KsbEvidence.select().where(KsbEvidence.apprenticeship.in_(apprenticeship_ids))
                    .order_by(KsbEvidence.id))
    codes = ksb_evidence.claimed_codes([e.id for e in evidence])
    decisions = list(KsbDecision.select().where(KsbDecision.apprenticeship.in_(apprenticeship_ids))
                     .order_by(KsbDecision.id))
    return {"ksb_evidence": [ksb_evidence.evidence_body(e, codes[e.id]) for e in evidence],
            "ksb_decisions": ksb_decisions.bodies(decisions)}
