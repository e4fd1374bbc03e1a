"""Where a read's time goes on a large SQLite database: each statement it runs, with its median time and SQLite's
query plan, and the read's own median time in-process. The SQLite counterpart of bench/explain_requests.py.

bench/scale.py measures requests from outside and then deletes its database. This keeps one: ``--build PERCENT``
fills ``--path`` exactly as bench/scale.py does (bulk rows only; the BENCH records it makes through the API are not
made), and every run profiles, against it:
- the progress of enrolments that have decisions (``progress.progress_for``, as GET /v1/enrolments/{id}/progress);
- a learner search by name in the largest centre (``learners.list_learners`` with ``q``, as a centre's admin's
  GET /v1/learners?q=).

    .venv/bin/python bench/explain_sqlite.py --path instance/scale100.db --build 100   # about 8 minutes
    .venv/bin/python bench/explain_sqlite.py --path instance/scale100.db [--repeat 50]

Printed per read: the median time of --repeat calls, then each statement with its median time and plan, slowest
first; everything is written to bench/results/explain_sqlite-<timestamp>.json.
"""

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import PROJECT_ROOT, machine, report_or_exit, utc_stamp, write_json  # noqa: E402

sys.path.insert(0, str(PROJECT_ROOT))


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--path", required=True, type=Path, help="the SQLite file that holds the built data (kept)")
    parser.add_argument("--build", type=float, metavar="PERCENT", help="build this size into a new file first")
    parser.add_argument("--repeat", type=int, default=50, help="calls of each read timed (default 50)")
    parser.add_argument("--enrolments", type=int, default=20, help="enrolments whose progress is read (default 20)")
    return parser.parse_args(argv)


class Statements(logging.Handler):
    """The (SQL, parameters) peewee logs while it is attached."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.seen: list[tuple] = []

    def emit(self, record):
        if isinstance(record.msg, tuple) and len(record.msg) == 2:
            self.seen.append(record.msg)


def _median_ms(call, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 3)


def profile(name: str, call, repeat: int) -> dict:
    """The read's median time, and each statement it runs: its median time and plan, slowest first."""
    from api.db import database_proxy

    database = database_proxy.obj
    logger = logging.getLogger("peewee")
    handler, level = Statements(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        call()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    statements = []
    for sql, params in handler.seen:
        plan = [row[-1] for row in database.execute_sql(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()]
        statements.append({"sql": " ".join(sql.split())[:300], "median_ms": _median_ms(
            lambda s=sql, p=params: database.execute_sql(s, p).fetchall(), repeat), "plan": plan})
    statements.sort(key=lambda s: -s["median_ms"])
    return {"read": name, "median_ms": _median_ms(call, repeat), "statements": statements}


def run(args: argparse.Namespace) -> dict:
    os.environ.setdefault("QUALTRACK_ENV", "test")  # list cursors are sealed with the test key
    url = f"sqlite:///{args.path.resolve()}"
    report = {"bench": "explain_sqlite", "measured_at": utc_stamp(), "machine": machine(), "path": str(args.path)}
    if args.build is not None:
        import scale

        if args.path.exists():
            raise SystemExit(f"{args.path} exists: give a new file to build into")
        with tempfile.TemporaryDirectory() as work:
            started = time.perf_counter()
            report["built"] = {k: v for k, v in scale.prepare(url, args.build, Path(work)).items() if k != "ids"}
            report["build_seconds"] = round(time.perf_counter() - started, 1)
    from peewee import fn

    from api import db
    from api.models import Decision, Learner
    from api.services.common.access import Principal
    from api.services.tracking import learners, progress

    db.bind(db.make_database(url))
    enrolments = [row.enrolment_id for row in Decision.select(Decision.enrolment).distinct()
                  .limit(args.enrolments)]
    largest = (Learner.select(Learner.centre, fn.COUNT(Learner.id).alias("n")).group_by(Learner.centre)
               .order_by(fn.COUNT(Learner.id).desc()).first().centre_id)
    family = Learner.select(Learner.family_name).where(Learner.centre == largest).first().family_name
    admin = Principal(kind="account", roles=frozenset({"admin"}))
    reads = [profile(f"progress of {len(enrolments)} enrolments, one at a time",
                     lambda: [progress.progress_for([e]) for e in enrolments], args.repeat),
             profile(f"learner search q={family[:4]} in the largest centre", lambda: learners.list_learners(
                 admin, centre_id=largest, uln=None, external_system=None, external_id=None, cursor=None, limit=50,
                 sort=None, updated_since=None, q=family[:4]), args.repeat)]
    for read in reads:
        print(f"{read['read']}: {read['median_ms']} ms")
        for statement in read["statements"]:
            print(f"  {statement['median_ms']:8.3f} ms  {statement['sql'][:110]}")
            for step in statement["plan"]:
                print(f"               {step}")
    report["reads"] = reads
    print(f"written to {write_json('explain_sqlite', report, report['measured_at'])}")
    return report


if __name__ == "__main__":
    report_or_exit("explain_sqlite", lambda: run(parse_args()))
