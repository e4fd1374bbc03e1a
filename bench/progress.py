"""Progress of one enrolment with 300 criteria and 2,000 decisions, computed in-process: median time per call
(target < 10 ms) and the number of SQL queries, compared with an enrolment of a 3-criterion unit (must be equal).

    .venv/bin/python bench/progress.py [--calls 200] [--database-url URL | --postgres URL]

Builds a synthetic unit (20 outcomes x 15 criteria) in a temporary SQLite database (or the given URL's database, or
a throwaway schema of the --postgres database, dropped afterwards), enrols a learner, and writes evidence, claims,
2,000 decisions (some trainee decisions, countersignatures) and IQA samples with verdicts straight into the tables,
then times api.services.tracking.progress.progress_for. Results are printed and written to
bench/results/progress-<timestamp>.json; any failure exits non-zero.
"""

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import yaml
from playhouse.test_utils import count_queries

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import PROJECT_ROOT, machine, postgres_schema, stop_on_sigterm, utc_stamp, write_json  # noqa: E402

from api import db  # noqa: E402
from api.migrations_runner import migrate  # noqa: E402
from api.models import (  # noqa: E402
    AssessmentCriterion,
    Claim,
    Countersignature,
    Decision,
    Enrolment,
    Evidence,
    IqaSample,
    IqaVerdict,
    Unit,
)
from api.services import accounts  # noqa: E402
from api.services.common.access import Principal  # noqa: E402
from api.services.content.loader import load_path  # noqa: E402
from api.services.tracking import enrolments, learners  # noqa: E402
from api.services.tracking.progress import progress_for  # noqa: E402

UNITS_DIR = Path(__file__).resolve().parent.parent / "data" / "units"


def synthetic_unit(code: str, outcomes: int, per_outcome: int) -> dict:
    return {"kind": "unit", "owner": "ocr", "code": code, "title": f"Synthetic {code}", "status": "published",
            "level": 3, "source": {"document": "bench"},
            "learning_outcomes": [{"number": str(o), "title": f"Outcome {o}", "kind": "competence",
                                   "criteria": [{"number": f"{o}.{c}", "text": f"criterion {o}.{c}"}
                                                for c in range(1, per_outcome + 1)]}
                                  for o in range(1, outcomes + 1)]}


def enrolment_on(code: str, admin: Principal, centre_id, assessor) -> Enrolment:
    learner = learners.create_learner(admin, {"centre_id": centre_id, "uln": "9999999999", "given_name": "B",
                                              "family_name": code})
    unit = Unit.get(Unit.code == code)
    return enrolments.create_enrolment(admin, {"learner_id": learner.id, "unit_id": unit.id,
                                               "start_date": "2026-09-01", "assessor_ids": [assessor.id]})


def fill(enrolment: Enrolment, assessor, countersigner, iqa, decisions: int) -> None:
    """Evidence, a claim per criterion, ``decisions`` decisions spread over the criteria, countersignatures for the
    trainee ones, and IQA samples (half confirmed, a few not_confirmed) on some latest decisions."""
    rng = random.Random(7)
    criteria = [c.id for c in AssessmentCriterion.select().where(AssessmentCriterion.version
                                                                 == enrolment.unit_version_id)]
    evidence = Evidence.create(id=uuid.uuid4(), enrolment=enrolment.id, evidence_type="observation", title="e",
                               evidence_date="2026-10-01", authenticity_declared=True, submitted_by="bench")
    Claim.insert_many([{"id": uuid.uuid4(), "evidence": evidence.id, "enrolment": enrolment.id, "criterion": c}
                       for c in criteria]).execute()
    sequence = dict.fromkeys(criteria, 0)
    rows, signatures = [], []
    for i in range(decisions):
        criterion = criteria[i % len(criteria)]
        sequence[criterion] += 1
        trainee = rng.random() < 0.2
        decision_id = uuid.uuid4()
        rows.append({"id": decision_id, "enrolment": enrolment.id, "criterion": criterion,
                     "sequence": sequence[criterion], "outcome": rng.choice(["met", "met", "not_yet_met"]),
                     "feedback": "f", "assessor": assessor.id, "assessor_status": "trainee" if trainee else "qualified",
                     "evidence_ids": []})
        if trainee and rng.random() < 0.5:
            signatures.append({"decision": decision_id, "account": countersigner.id})
    for start in range(0, len(rows), 500):
        Decision.insert_many(rows[start:start + 500]).execute()
    if signatures:
        Countersignature.insert_many(signatures).execute()
    latest = {r["criterion"]: r["id"] for r in rows}
    for n, decision_id in enumerate(list(latest.values())[:60]):
        sample = IqaSample.create(id=uuid.uuid4(), decision=decision_id, enrolment=enrolment.id, iqa=iqa.id)
        if n % 2 == 0:
            IqaVerdict.create(id=uuid.uuid4(), sample=sample.id, verdict="confirmed" if n % 10 else "not_confirmed",
                              iqa=iqa.id)


def timed(enrolment_id, calls: int) -> tuple[float, float, int]:
    with count_queries() as counter:
        progress_for([enrolment_id])
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        progress_for([enrolment_id])
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times), counter.count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--postgres", metavar="URL", help="use a throwaway schema of this PostgreSQL database")
    args = parser.parse_args()
    stop_on_sigterm()
    with ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        if args.postgres:
            url = stack.enter_context(postgres_schema(args.postgres))
        database = db.make_database(url)
        db.bind(database)
        migrate(database)
        units = Path(tmp) / "units"
        units.mkdir()
        for path in UNITS_DIR.glob("catalogue.yaml"):
            (units / path.name).write_text(path.read_text())
        for code, outcomes, per in (("BENCH 300", 20, 15), ("BENCH 3", 1, 3)):
            (units / f"{code}.yaml").write_text(yaml.safe_dump(synthetic_unit(code, outcomes, per)))
        report = load_path(units)
        assert report.ok, report.problems
        centre = accounts.create_centre(f"BENCH-{uuid.uuid4().hex[:6]}", "Bench centre")
        tag = uuid.uuid4().hex[:6]
        people = {name: accounts.create_account(f"{name}.{tag}@bench.test", "bench password 123", roles=roles,
                                                centres=[centre.code], assessor_status=status)
                  for name, roles, status in (("admin", ["admin"], None), ("assessor", ["assessor"], "qualified"),
                                              ("signer", ["assessor"], "qualified"), ("iqa", ["iqa"], None))}
        admin = Principal(kind="account", id=people["admin"].id, roles=frozenset({"admin"}))
        large = enrolment_on("BENCH 300", admin, centre.id, people["assessor"])
        small = enrolment_on("BENCH 3", admin, centre.id, people["assessor"])
        fill(large, people["assessor"], people["signer"], people["iqa"], 2000)
        fill(small, people["assessor"], people["signer"], people["iqa"], 6)
        median_ms, worst_ms, queries = timed(large.id, args.calls)
        _, _, small_queries = timed(small.id, 20)
        document = progress_for([large.id])[large.id]
        database.close()
    backend = url.split(":")[0]
    verdict = "met" if median_ms < 10 else "MISSED"
    print(f"progress of one enrolment: {document['criteria']} criteria, 2000 decisions ({args.calls} calls, {backend})")
    print(f"  median {median_ms:.2f} ms, worst {worst_ms:.2f} ms (target < 10 ms: {verdict})")
    print(f"  queries: {queries} (a 3-criterion enrolment: {small_queries}; equal: {queries == small_queries})")
    print(f"  met {document['met']}, verified {document['verified']}, reopened {document['reopened']}, "
          f"awaiting countersignature {document['awaiting_countersignature']}")
    stamp = utc_stamp()
    path = write_json("progress", {
        "measured_at": stamp, "machine": machine(), "backend": backend, "calls": args.calls,
        "criteria": document["criteria"], "decisions": 2000, "median_ms": median_ms, "worst_ms": worst_ms,
        "target_ms": 10, "queries": queries, "queries_small_enrolment": small_queries}, stamp)
    print(f"written to {path.relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    main()
