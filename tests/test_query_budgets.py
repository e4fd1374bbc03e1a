"""Query budgets stay constant as the database grows: each hot request (the list tests/test_query_plans.py plans) sends
as many statements after hundreds of learners, enrolments, evidence items and thousands of decisions, audit events
and content changes are added, in its own centre and another, as it did before. (bench/scale.py measures the time
at 10% and 100% of a nation; this is the part of it that fits in `make test`.)"""

import random
import uuid
from datetime import timedelta

from api import db
from api.models import (
    AssessmentCriterion,
    AuditEvent,
    Claim,
    Decision,
    Enrolment,
    EnrolmentStaff,
    EnrolmentTally,
    Evidence,
    FeedEvent,
    Learner,
    UnitVersion,
)
from api.models.base import utcnow
from tests.test_query_plans import _requests, _statements

LEARNERS = 300  # per centre, in centres A and B, with two enrolments each
DECISIONS_PER_ENROLMENT = 4
EVENTS = 2_000


def test_each_hot_request_sends_as_many_statements_in_a_larger_database(client, auth, ids, identities):
    requests = _requests(ids)
    for method, path, body in requests.values():  # warm what a first request loads once (tokens, content)
        _statements(client, auth, method, path, body)
    before = {name: len(_statements(client, auth, *request)) for name, request in requests.items()}
    added = _grow(identities)
    after = {name: len(_statements(client, auth, *request)) for name, request in requests.items()}
    assert added["decision"] > 2_000 and added["audit_event"] == EVENTS  # the database did grow
    assert after == before


def _grow(identities) -> dict:
    """Bulk-insert learners, enrolments (assessed by assessor_a, half with a tally), evidence with claims,
    decisions, audit events and content changes into centres A and B, inside the test's transaction; the rows added
    by table."""
    rng = random.Random(20261203)
    versions = [(v.unit_id, v.id, v.unit.owner_id, [c.id for c in AssessmentCriterion.select(AssessmentCriterion.id)
                                                    .where(AssessmentCriterion.version == v.id)])
                for v in UnitVersion.select().where(UnitVersion.status == "published", UnitVersion.is_head)]
    versions = [v for v in versions if v[3]]
    assessor = identities.accounts["assessor_a"].id
    now = utcnow()
    rows: dict = {table: [] for table in ("learner", "enrolment", "enrolment_staff", "enrolment_tally", "evidence",
                                          "claim", "decision", "audit_event", "feed_event")}
    for n in range(2 * LEARNERS):
        centre = identities.centres["A" if n % 2 else "B"].id
        at = now - timedelta(minutes=n)
        learner = uuid.uuid4()
        rows["learner"].append({"id": learner, "centre": centre, "uln": f"{3_000_000_000 + n:010d}",
                                "given_name": rng.choice(("Ada", "Kofi", "Priya", "Rhys")),
                                "family_name": rng.choice(("Begum", "Jones", "Nowak", "Okafor")), "status": "active",
                                "created_at": at, "updated_at": at})
        for unit, version, _, criteria in rng.sample(versions, 2):
            enrolment = uuid.uuid4()
            rows["enrolment"].append({"id": enrolment, "learner": learner, "centre": centre, "unit": unit,
                                      "unit_version": version, "status": "active",
                                      "start_date": at.date(), "created_at": at, "updated_at": at})
            rows["enrolment_staff"].append({"enrolment": enrolment, "account": assessor, "centre": centre,
                                            "role": "assessor"})
            assessed = rng.sample(criteria, min(DECISIONS_PER_ENROLMENT, len(criteria)))
            evidence = uuid.uuid4()
            rows["evidence"].append({"id": evidence, "enrolment": enrolment, "evidence_type": "observation",
                                     "title": "Observed", "evidence_date": at.date(), "submitted_by": "account:x",
                                     "created_at": at, "updated_at": at})
            rows["claim"] += [{"id": uuid.uuid4(), "evidence": evidence, "enrolment": enrolment, "criterion": c,
                               "created_at": at} for c in assessed]
            rows["decision"] += [{"id": uuid.uuid4(), "enrolment": enrolment, "criterion": c, "sequence": 1,
                                  "outcome": "met", "feedback": "Seen.", "assessor": assessor,
                                  "assessor_status": "qualified", "evidence_ids": [str(evidence)], "created_at": at,
                                  "updated_at": at} for c in assessed]
            if n % 2:
                rows["enrolment_tally"].append({
                    "enrolment": enrolment, "centre": centre, "unit_version": version, "criteria": len(criteria),
                    "claimed": len(assessed), "met": len(assessed), "verified": 0, "reopened": 0,
                    "iqa_outstanding": 0, "awaiting_countersignature": 0, "complete": False})
    for n in range(EVENTS):
        at = now - timedelta(seconds=n)
        rows["audit_event"].append({"id": uuid.uuid4(), "occurred_at": at, "actor": "account:x",
                                    "action": "decision.recorded", "subject_type": "decision",
                                    "subject_id": str(uuid.uuid4()), "centre": identities.centres["AB"[n % 2]].id})
        unit, version, owner, _ = versions[n % len(versions)]
        rows["feed_event"].append({"occurred_at": at, "type": "unit.published", "action": "published", "unit": unit,
                                   "owner": owner, "version": version, "number": 1, "status": "published",
                                   "etag": f'W/"{n:x}"', "actor": "system:test"})
    models = {"learner": Learner, "enrolment": Enrolment, "enrolment_staff": EnrolmentStaff,
              "enrolment_tally": EnrolmentTally, "evidence": Evidence, "claim": Claim, "decision": Decision,
              "audit_event": AuditEvent, "feed_event": FeedEvent}
    for table, model in models.items():  # parents before children
        db.insert_rows(model, rows[table])
    return {table: len(added) for table, added in rows.items()}
