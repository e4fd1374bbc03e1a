"""Progress of an apprenticeship per KSB, per duty and for the whole standard version, derived from the assessment
decisions on the unit criteria mapped to each KSB (api.services.apprenticeships.mappings) in the unit enrolments
that deliver the apprenticeship. Nothing is stored: it reads the same progress documents as a unit's
(tracking.progress.progress_for), so the same append-only decisions, countersignatures and IQA verdicts decide it.

A KSB is complete when at least one criterion is mapped to it in a delivering enrolment and every such criterion is
met (not reopened by IQA, with no IQA sample awaiting a verdict); a whole unit mapped to a KSB maps all its criteria.
Mappings to a unit version the learner's enrolment is not on do not count (the enrolment's version is what was
assessed). A duty is complete when every KSB it maps to is; duties of an option other than the apprenticeship's are
left out."""

import json
import uuid

from api.models import Apprenticeship, ApprenticeshipStandardVersion, ApprenticeshipUnit
from api.services.apprenticeships import ksb_decisions, mappings
from api.services.common.access import Principal, visible_apprenticeship
from api.services.tracking.progress import progress_for

KINDS = (("knowledge", "knowledge"), ("skills", "skill"), ("behaviours", "behaviour"))


def apprenticeship_progress(principal: Principal, apprenticeship_id: uuid.UUID) -> dict:
    """The apprenticeship's progress per KSB, per duty and overall."""
    row = visible_apprenticeship(principal, apprenticeship_id)
    version = ApprenticeshipStandardVersion.get_by_id(row.standard_version_id)
    return progress_document(row, version)


def progress_document(row: Apprenticeship, version: ApprenticeshipStandardVersion) -> dict:
    document = json.loads(version.document)
    enrolment_ids = [u.enrolment_id for u in ApprenticeshipUnit.select(ApprenticeshipUnit.enrolment)
                     .where(ApprenticeshipUnit.apprenticeship == row.id)]
    units = progress_for(enrolment_ids)
    by_version = {uuid.UUID(doc["unit_version_id"]): doc for doc in units.values() if doc["status"] != "withdrawn"}
    mapped = mappings.mapped_criteria(version.id, list(by_version))
    direct = ksb_decisions.direct_states(row.id)
    ksbs = [_ksb_document(ksb, kind, mapped.get(ksb["code"], []), by_version, direct.get(ksb["code"]))
            for key, kind in KINDS for ksb in document[key]]
    state = {k["code"]: k for k in ksbs}
    duties = [_duty_document(duty, state) for duty in document["duties"]
              if _applies(duty, row.option_id)]
    return {"apprenticeship_id": str(row.id), "learner_id": str(row.learner_id),
            "reference_number": document["reference_number"], "version": document["version"],
            "option_id": row.option_id, "enrolment_ids": sorted(str(e) for e in enrolment_ids),
            "ksbs_total": len(ksbs), "ksbs_mapped": sum(1 for k in ksbs if k["criteria"]),
            "ksbs_complete": sum(1 for k in ksbs if k["complete"]),
            "duties_total": len(duties), "duties_complete": sum(1 for d in duties if d["complete"]),
            "complete": bool(ksbs) and all(k["complete"] for k in ksbs),
            "percent_complete": round(100 * sum(1 for k in ksbs if k["complete"]) / len(ksbs), 1) if ksbs else 0.0,
            "ksbs": ksbs, "duties": duties}


def _applies(duty: dict, option_id: str | None) -> bool:
    """Core duties apply to everyone; a duty of named options only to apprentices on one of them."""
    if duty.get("is_core") or not duty.get("option_ids"):
        return True
    return option_id in duty["option_ids"]


DIRECT_KEYS = ("claims", "decision_id", "outcome", "met", "verified", "reopened", "iqa_outstanding",
               "awaiting_countersignature")


def _ksb_document(ksb: dict, kind: str, mapped: list, by_version: dict, direct: dict | None) -> dict:
    criteria = []
    for unit_version_id, criterion_id in mapped:
        unit = by_version.get(unit_version_id)
        if unit is None:
            continue
        for outcome in unit["learning_outcomes"]:
            for criterion in outcome["criteria"]:
                if criterion_id is None or criterion["criterion_id"] == str(criterion_id):
                    criteria.append({"enrolment_id": unit["enrolment_id"], "unit_code": unit["unit_code"],
                                     "criterion_id": criterion["criterion_id"], "number": criterion["number"],
                                     "met": criterion["met"], "verified": criterion["verified"],
                                     "iqa_outstanding": criterion["iqa_outstanding"]})
    unique = list({(c["enrolment_id"], c["criterion_id"]): c for c in criteria}.values())
    met = sum(1 for c in unique if c["met"])
    if direct is not None and direct["decision_id"] is not None:  # an assessor's own judgement of the KSB decides
        basis, complete = "direct", direct["met"] and not direct["iqa_outstanding"]
        started = True
    else:
        basis = "mapped" if unique else None
        complete = bool(unique) and met == len(unique) and not any(c["iqa_outstanding"] for c in unique)
        started = met > 0
    assessable = bool(unique) or direct is not None
    status = "complete" if complete else "in_progress" if started else "not_started" if assessable else "not_mapped"
    direct_doc = None if direct is None else {k: direct[k] for k in DIRECT_KEYS}
    return {"code": ksb["code"], "kind": kind, "ksb_id": ksb["ksb_id"], "detail": ksb["detail"],
            "criteria": len(unique), "met": met, "verified": sum(1 for c in unique if c["verified"]),
            "complete": complete, "status": status, "basis": basis, "direct": direct_doc, "mapped_criteria": unique}


def _duty_document(duty: dict, state: dict) -> dict:
    codes = [code for code in duty["ksb_codes"] if code in state]
    done = sum(1 for code in codes if state[code]["complete"])
    return {"code": duty["code"], "duty_id": duty["duty_id"], "detail": duty["detail"], "ksb_codes": codes,
            "ksbs_complete": done, "complete": bool(codes) and done == len(codes)}
