"""Benchmark the nested GraphQL unit query against ``GET /v1/units/{id}`` on the same server, and print the ratio
(target >= 0.85x REST).

One gunicorn (sync workers, one per core, as bench/unit_read.py) serves both; each round measures REST, then
GraphQL, with wrk on 127.0.0.1. The GraphQL operation asks for the CS 34 tree a front end shows (unit fields, owner,
outcomes, criteria with their range), POSTed as JSON. Before measuring, the GraphQL answer is checked against the
REST document (same outcome and criterion ids and texts). The ratio reported is the median of the rounds' ratios.
Results are printed and written to bench/results/graphql_read-<timestamp>.json.

    .venv/bin/python bench/graphql_read.py [--duration 10] [--connections 4] [--rounds 3] [--postgres URL]
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import urllib.request
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import (  # noqa: E402 - the shared harness lives beside this script
    PROJECT_ROOT,
    BenchError,
    app_env,
    find_unit,
    get_ok,
    gunicorn,
    machine,
    median,
    postgres_schema,
    prepare_database,
    report_or_exit,
    require_clean,
    run_wrk,
    utc_stamp,
    wait_ready,
    write_json,
)

TARGET = 0.85
QUERY = """query UnitTree($id: UUID!) {
  unit(id: $id) {
    id code title level creditValue glh status version
    owner { slug name }
    learningOutcomes {
      id number title kind
      criteria { id number text range { heading text items } }
    }
  }
}"""
WRK_POST = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local file = io.open(os.getenv("BENCH_GRAPHQL_BODY_FILE"), "rb")
wrk.body = file:read("*a")
file:close()
"""


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of measured load per side (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of unmeasured load first (default 2)")
    parser.add_argument("--connections", type=int, default=4, help="keep-alive connections (default 4)")
    parser.add_argument("--rounds", type=int, default=3, help="REST-then-GraphQL rounds (default 3)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="gunicorn workers (one per core)")
    parser.add_argument("--postgres", metavar="URL", help="also run on this PostgreSQL database, in a throwaway schema")
    args = parser.parse_args(argv)
    if min(args.duration, args.connections, args.rounds, args.workers) <= 0 or args.warmup < 0:
        parser.error("--duration, --connections, --rounds and --workers must be positive, --warmup >= 0")
    if shutil.which("wrk") is None:
        parser.error("wrk is needed to POST GraphQL under load (Debian: apt-get install wrk)")
    return args


def post_json(url: str, body: bytes) -> dict:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def check_same_tree(rest: dict, graph: dict) -> None:
    """The GraphQL answer must be the REST document's tree, or the comparison means nothing."""
    if graph.get("errors"):
        raise BenchError(f"the GraphQL query failed: {graph['errors']}")
    unit = graph["data"]["unit"]
    rest_tree = [(o["id"], [(c["id"], c["text"]) for c in o["criteria"]]) for o in rest["learning_outcomes"]]
    graph_tree = [(o["id"], [(c["id"], c["text"]) for c in o["criteria"]]) for o in unit["learningOutcomes"]]
    if unit["id"] != rest["id"] or graph_tree != rest_tree:
        raise BenchError("the GraphQL tree differs from GET /v1/units/{id}")


def wrk(url: str, seconds: float, connections: int, script: Path | None = None, env=None):
    return require_clean(url, run_wrk(url, seconds, connections, 1, script=script, env=env))


def measure_target(label: str, database_url: str, args, work_dir: Path) -> dict:
    """Serve ``database_url`` once and alternate REST and GraphQL load on it for ``args.rounds`` rounds."""
    env = app_env(QUALTRACK_DATABASE_URL=database_url)
    with gunicorn(label, "api.wsgi:app", env, args.workers, work_dir) as (process, base_url, log_path):
        wait_ready(process, f"{base_url}/v1/units?limit=1", log_path)
        unit_id = find_unit(base_url)
        rest_url, graph_url = f"{base_url}/v1/units/{unit_id}", f"{base_url}/graphql"
        body_file = work_dir / f"{label}-body.json"
        body_file.write_bytes(json.dumps({"query": QUERY, "variables": {"id": unit_id}}).encode())
        check_same_tree(json.loads(get_ok(rest_url)), post_json(graph_url, body_file.read_bytes()))
        script = work_dir / "post.lua"
        script.write_text(WRK_POST)
        wrk_env = {"BENCH_GRAPHQL_BODY_FILE": str(body_file)}
        if args.warmup:
            wrk(rest_url, args.warmup, args.connections)
            wrk(graph_url, args.warmup, args.connections, script, wrk_env)
        rounds = []
        for _ in range(args.rounds):
            rest = wrk(rest_url, args.duration, args.connections)
            graph = wrk(graph_url, args.duration, args.connections, script, wrk_env)
            rounds.append({"rest": vars(rest), "graphql": vars(graph),
                           "ratio": graph.requests_per_second / rest.requests_per_second})
        if process.poll() is not None:
            raise BenchError(f"{label}: the server exited:\n{log_path.read_text(errors='replace')}")
    return {"rounds": rounds, "ratio": median([r["ratio"] for r in rounds]),
            "rest_rps": median([r["rest"]["requests_per_second"] for r in rounds]),
            "graphql_rps": median([r["graphql"]["requests_per_second"] for r in rounds]),
            "rest_p99_ms": median([r["rest"]["p99_ms"] for r in rounds]),
            "graphql_p99_ms": median([r["graphql"]["p99_ms"] for r in rounds])}


def run(args: argparse.Namespace) -> dict:
    """Prepare each database, measure it, and return the report."""
    results = {}
    load_before = os.getloadavg()
    with ExitStack() as stack:
        work_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="qualtrack-bench-")))
        targets = [("sqlite", f"sqlite:///{work_dir / 'bench.db'}")]
        if args.postgres:
            targets.append(("postgresql", stack.enter_context(postgres_schema(args.postgres))))
        for label, url in targets:
            prepare_database(url)
            results[label] = measure_target(label, url, args, work_dir)
    stamp = utc_stamp()
    return {"measured_at": stamp, "machine": machine()["platform"], "cpus": os.cpu_count(),
            "loadavg_before": load_before, "loadavg_after": os.getloadavg(), "workers": args.workers,
            "load": f"wrk -t1 -c{args.connections} -d{args.duration:g}s --latency, {args.rounds} rounds",
            "query": QUERY, "target": TARGET, "results": results}


def print_report(report: dict) -> None:
    print(f"GraphQL nested unit query (CS 34 tree) vs GET /v1/units/{{id}}, same gunicorn "
          f"({report['workers']} sync workers), {report['load']}")
    print(f"{'backend':<11} {'REST req/s':>11} {'GraphQL req/s':>14} {'REST p99':>9} {'GQL p99':>9}  ratio")
    for label, r in report["results"].items():
        verdict = "met" if r["ratio"] >= TARGET else "MISSED"
        round_ratios = ", ".join(f"{x['ratio']:.2f}" for x in r["rounds"])
        print(f"{label:<11} {r['rest_rps']:>11.0f} {r['graphql_rps']:>14.0f} {r['rest_p99_ms']:>7.2f}ms "
              f"{r['graphql_p99_ms']:>7.2f}ms  {r['ratio']:.2f}x (target >= {TARGET:.2f}x: {verdict}; rounds "
              f"{round_ratios})")


def summary_rows(report: dict) -> list[dict]:
    """The report's lines for bench/run_all.py's summary table."""
    rows = []
    for label, r in report["results"].items():
        rows.append({"benchmark": "GraphQL query", "measure": f"REST unit read, same server ({label})",
                     "rps": r["rest_rps"], "p99_ms": r["rest_p99_ms"]})
        rows.append({"benchmark": "GraphQL query", "measure": f"GraphQL / REST read ({label})",
                     "rps": r["graphql_rps"], "p99_ms": r["graphql_p99_ms"], "value": f"{r['ratio']:.2f}x",
                     "target": f">= {TARGET:.2f}x", "verdict": "met" if r["ratio"] >= TARGET else "MISSED"})
    return rows


def write_results(report: dict) -> Path:
    return write_json("graphql_read", report, report["measured_at"])


def main(argv=None) -> int:
    args = parse_args(argv)
    report = report_or_exit("graphql_read", lambda: run(args))
    print_report(report)
    print(f"written to {write_results(report).relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
