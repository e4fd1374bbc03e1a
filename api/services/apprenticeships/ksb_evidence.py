"""Evidence for KSBs assessed directly: what an apprentice offers, and which KSBs of their standard version it is
claimed for. Submitted by whoever may submit evidence for the learner (the learner, the centre's staff or clients);
never edited. Decisions on a KSB (ksb_decisions) may consider only evidence claimed for it."""

import uuid

from api.errors import Conflict, ValidationFailed
from api.ids import new_id
from api.models import KsbClaim, KsbEvidence
from api.models.base import iso_utc, utcnow
from api.services.apprenticeships.otj import ksb_codes_of
from api.services.common import audit
from api.services.common.access import (
    Principal,
    can_submit_evidence,
    require,
    require_learner_may_write,
    visible_apprenticeship,
    visible_ksb_evidence,
)
from api.services.common.pagination import Page, keyset_page
from api.services.tracking.evidence import require_evidence_type


def evidence_href(evidence_id) -> str:
    return f"/v1/ksb-evidence/{evidence_id}"


def evidence_body(row: KsbEvidence, ksb_codes: list[str]) -> dict:
    return {"id": str(row.id), "apprenticeship_id": str(row.apprenticeship_id), "learner_id": str(row.learner_id),
            "type": row.evidence_type_id, "title": row.title, "description": row.description,
            "date": row.evidence_date.isoformat(), "reference": {"uri": row.reference_uri, "sha256": row.sha256},
            "authenticity_declared": row.authenticity_declared, "submitted_by": row.submitted_by,
            "created_at": iso_utc(row.created_at), "ksb_codes": ksb_codes, "href": evidence_href(row.id)}


def claimed_codes(evidence_ids: list) -> dict:
    """{evidence id: its claimed KSB codes, in the order given}."""
    codes: dict = {i: [] for i in evidence_ids}
    for evidence_id, code in KsbClaim.select(KsbClaim.evidence, KsbClaim.ksb_code).where(
            KsbClaim.evidence.in_(evidence_ids)).tuples():
        codes[evidence_id].append(code)
    return codes


def submit_evidence(principal: Principal, apprenticeship_id: uuid.UUID, data: dict) -> dict:
    """Record evidence for an active apprenticeship, claimed for KSBs of its standard version (audited)."""
    row = visible_apprenticeship(principal, apprenticeship_id)
    require(can_submit_evidence(principal, row.centre_id, row.learner_id),
            "evidence is submitted by the learner, their centre's admins or assessors, or the centre's clients")
    require_learner_may_write(principal)
    if row.status != "active":
        raise Conflict(f"the apprenticeship is {row.status}: no new evidence")
    require_evidence_type(data["type"])
    codes, known = list(dict.fromkeys(data["ksb_codes"])), ksb_codes_of(row)
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise ValidationFailed(f"not KSBs of the apprenticeship's standard version: {', '.join(unknown)}",
                               errors={"ksb_codes": [f"{code} is not a KSB of the standard version"
                                                     for code in unknown]})
    evidence = KsbEvidence.create(
        id=new_id(), apprenticeship=row.id, centre=row.centre_id, learner=row.learner_id, evidence_type=data["type"],
        title=data["title"], description=data.get("description"), evidence_date=data["date"],
        reference_uri=data.get("reference_uri"), sha256=data.get("sha256"),
        authenticity_declared=data["authenticity_declared"], submitted_by=audit.actor_of(principal),
        created_at=utcnow())
    KsbClaim.insert_many([{"evidence": evidence.id, "apprenticeship": row.id, "ksb_code": code}
                          for code in codes]).execute()
    audit.record(principal, "ksb_evidence.submitted", "ksb_evidence", evidence.id, centre_id=row.centre_id,
                 after={"apprenticeship_id": str(row.id), "type": data["type"], "ksb_codes": codes})
    return evidence_body(evidence, codes)


def get_evidence(principal: Principal, evidence_id: uuid.UUID) -> dict:
    row = visible_ksb_evidence(principal, evidence_id)
    return evidence_body(row, claimed_codes([row.id])[row.id])


def list_evidence(principal: Principal, apprenticeship_id: uuid.UUID, ksb_code: str | None, cursor: str | None,
                  limit: int) -> Page:
    """An apprenticeship's KSB evidence (optionally only that claimed for one KSB), oldest first."""
    row = visible_apprenticeship(principal, apprenticeship_id)
    query = KsbEvidence.select().where(KsbEvidence.apprenticeship == row.id)
    if ksb_code is not None:
        query = query.where(KsbEvidence.id.in_(KsbClaim.select(KsbClaim.evidence).where(
            KsbClaim.apprenticeship == row.id, KsbClaim.ksb_code == ksb_code)))
    page = keyset_page(query, [KsbEvidence.id], cursor, limit, key_of=lambda e: [str(e.id)])  # ids grow with time
    codes = claimed_codes([e.id for e in page.items])
    page.items = [evidence_body(e, codes[e.id]) for e in page.items]
    return page
