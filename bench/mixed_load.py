"""Mixed read/write load: measure the capacity of one qualtrack server for a mix of requests, then hold 70% of it for
60 seconds, and report the rate achieved, p99 and errors (which must be 0), and check that no write was lost.

The mix, per 20 requests on each connection: 14 published unit reads (GET /v1/units/{id}, CS 34, anonymous),
3 progress reads (GET /v1/enrolments/{id}/progress, as the assessor), 2 GraphQL nested unit queries (the
bench/graphql_read.py query, anonymous) and 1 decision write (POST /v1/enrolments/{id}/decisions, as the assessor):
70% / 15% / 10% / 5%. Each connection has its own enrolment, which it writes decisions on and reads the progress of.

1. capacity: closed loop (every connection sends its next request as soon as the last is answered) for
   --capacity-duration seconds, after a warm-up: the requests/s the server sustains for this mix.
2. the paced run: --duration (60) seconds at --load (0.7) x capacity. Each connection sends one request per period
   = connections / target rate; wrk's Lua ``delay()`` (bench/wrk_streams.lua) waits, before each request, for the
   connection's next slot. wrk has no rate option (wrk2's -R), so this is how the rate is held. The server runs with
   bench/gunicorn_paced.py (TCP_DEFER_ACCEPT, see there): otherwise a sync worker would sit on a connection that wrk
   opened early and has not written to yet, and the tail latency would measure wrk, not qualtrack.

Any non-2xx answer or socket error (including a timeout, > 2 s) under the paced load fails the run. After every run
the decisions in the database must have grown by exactly the write answers that were 201. Results are printed and
written to bench/results/mixed_load-<timestamp>.json. Exit status 0 means the run was clean (whatever the figures);
1 means it could not run, an answer was wrong (any error under load), or writes were lost or duplicated.

    .venv/bin/python bench/mixed_load.py [--duration 60] [--load 0.7] [--connections 8] [--postgres URL]
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from graphql_read import QUERY, check_same_tree  # noqa: E402 - the benchmarks live side by side
from harness import (  # noqa: E402
    BENCH_DIR,
    PROJECT_ROOT,
    UNIT_CODE,
    BenchError,
    LoadResult,
    call_json,
    count_rows,
    ensure_running,
    get_ok,
    gunicorn,
    machine,
    postgres_schema,
    report_or_exit,
    run_streams,
    stream_request,
    utc_stamp,
    wait_ready,
    write_json,
)
from tracking import (  # noqa: E402
    DECISIONS_SQL,
    Fixture,
    bearer,
    check_decision,
    decision_payload,
    prepare_fixture,
    qualtrack_env,
)

PATTERN = ("unit", "unit", "progress", "unit", "unit", "graphql", "unit", "unit", "unit", "progress",
           "unit", "write", "unit", "unit", "graphql", "unit", "unit", "progress", "unit", "unit")
MIX = {kind: PATTERN.count(kind) / len(PATTERN) for kind in ("unit", "progress", "graphql", "write")}
DESCRIPTIONS = {"unit": "GET /v1/units/{id} (CS 34)", "progress": "GET /v1/enrolments/{id}/progress",
                "graphql": "POST /graphql nested unit query", "write": "POST /v1/enrolments/{id}/decisions"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=int, default=60, help="seconds of the paced run (default 60)")
    parser.add_argument("--load", type=float, default=0.7, help="the paced rate as a fraction of capacity (0.7)")
    parser.add_argument("--capacity-duration", type=int, default=10,
                        help="seconds of the closed-loop capacity run (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load first (default 2)")
    parser.add_argument("--connections", type=int, default=8,
                        help="connections, each with its own wrk thread and enrolment (default 8)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="gunicorn sync workers (default: one per core)")
    parser.add_argument("--postgres", metavar="URL",
                        help="also run it on this PostgreSQL database, in a throwaway schema")
    args = parser.parse_args(argv)
    if min(args.duration, args.capacity_duration, args.connections, args.workers) <= 0 \
            or args.warmup < 0 or not 0 < args.load <= 1:
        parser.error("durations, --connections and --workers must be positive, --warmup >= 0, 0 < --load <= 1")
    if shutil.which("wrk") is None:
        parser.error("wrk is needed (Debian: apt-get install wrk)")
    return args


def graphql_body(fixture: Fixture) -> str:
    return json.dumps({"query": QUERY, "variables": {"id": fixture.unit_id}})


def mixed_streams(fixture: Fixture, connections: int) -> list[list[dict]]:
    """One stream per connection: PATTERN, started at a different place on each connection, repeated once per
    criterion so that the writes go round the criteria of the connection's own enrolment."""
    auth = bearer(fixture)
    streams = []
    for number in range(connections):
        enrolment = fixture.write_enrolments[number % len(fixture.write_enrolments)]
        requests = {
            "unit": stream_request("unit", "GET", f"/v1/units/{fixture.unit_id}"),
            "progress": stream_request("progress", "GET", f"/v1/enrolments/{enrolment['id']}/progress",
                                       headers=auth),
            "graphql": stream_request("graphql", "POST", "/graphql", headers={"Content-Type": "application/json"},
                                      body=graphql_body(fixture)),
        }
        offset = number * 3 % len(PATTERN)
        pattern = PATTERN[offset:] + PATTERN[:offset]
        stream = []
        for turn in range(len(fixture.criteria)):
            criterion = fixture.criteria[(turn + number) % len(fixture.criteria)]
            for kind in pattern:
                if kind == "write":
                    body = json.dumps(decision_payload(criterion, enrolment["evidence_id"]))
                    stream.append(stream_request("write", "POST", f"/v1/enrolments/{enrolment['id']}/decisions",
                                                 headers={**auth, "Content-Type": "application/json"}, body=body))
                else:
                    stream.append(requests[kind])
        streams.append(stream)
    return streams


def check_answers(base_url: str, fixture: Fixture) -> None:
    """Each kind of request answers right before any load: the unit's bytes, the same tree through GraphQL, a
    progress document, a 201 decision."""
    if get_ok(f"{base_url}/v1/units/{fixture.unit_id}") != fixture.unit_body:
        raise BenchError("GET /v1/units/{id} did not serve the bytes fetched when the database was prepared")
    check_same_tree(json.loads(fixture.unit_body),
                    call_json("POST", f"{base_url}/graphql", json.loads(graphql_body(fixture))))
    for enrolment in fixture.write_enrolments:
        document = json.loads(get_ok(f"{base_url}/v1/enrolments/{enrolment['id']}/progress", bearer(fixture)))
        if document.get("enrolment_id") != enrolment["id"]:
            raise BenchError(f"the progress of {enrolment['id']} came back as {document.get('enrolment_id')}")
    check_decision(base_url, fixture, None)


def load_run(label: str, base_url: str, fixture: Fixture, seconds: int, connections: int, work_dir: Path,
             period_ms: float = 0.0) -> dict:
    """One run of the mix; the decisions recorded must equal the 201 write answers. Errors (non-2xx answers,
    socket errors, timeouts) are returned, not raised: the caller decides."""
    before = count_rows(fixture.database_url, DECISIONS_SQL)
    result: LoadResult = run_streams(base_url, seconds, mixed_streams(fixture, connections), work_dir,
                                     period_ms=period_ms, count_responses=True)
    recorded = count_rows(fixture.database_url, DECISIONS_SQL) - before
    by_kind: dict[str, dict[str, int]] = {}
    for key, number in result.counts.items():
        kind, status = key.split(" ")
        by_kind.setdefault(kind, {})[status] = number
    writes_201 = by_kind.get("write", {}).get("201", 0)
    not_2xx = sum(n for statuses in by_kind.values() for status, n in statuses.items() if not status.startswith("2"))
    errors = not_2xx + result.socket_errors
    if recorded != writes_201:
        raise BenchError(f"{label}: {recorded} decisions recorded for {writes_201} write answers with 201 "
                         f"({'lost' if recorded < writes_201 else 'duplicated'} writes)")
    if result.requests == 0:
        raise BenchError(f"{label}: no request completed")
    return {**asdict(result), "period_ms": period_ms, "by_kind": by_kind, "errors": errors,
            "decisions_recorded": recorded, "writes_201": writes_201}


def measure(label: str, fixture: Fixture, args: argparse.Namespace, work_dir: Path) -> dict:
    """Warm-up, capacity and the paced run on one fresh server."""
    env = qualtrack_env(fixture.database_url)
    paced_config = ("--config", str(BENCH_DIR / "gunicorn_paced.py"))
    with gunicorn(f"mixed-{label}", "api.wsgi:app", env, args.workers, work_dir, paced_config) as (process, base_url,
                                                                                                  log_path):
        wait_ready(process, f"{base_url}/v1/units?limit=1", log_path)
        check_answers(base_url, fixture)
        runs = {}
        if args.warmup:
            runs["warmup"] = load_run("warm-up", base_url, fixture, args.warmup, args.connections, work_dir)
        runs["capacity"] = load_run("capacity", base_url, fixture, args.capacity_duration, args.connections, work_dir)
        for name in ("warmup", "capacity"):
            if name in runs and runs[name]["errors"]:
                raise BenchError(f"{label} {name}: {runs[name]['errors']} errors (non-2xx answers or socket "
                                 f"errors) in {runs[name]['requests']} requests: {runs[name]['by_kind']}")
        capacity = runs["capacity"]["requests_per_second"]
        target = args.load * capacity
        period = 1000.0 * args.connections / target  # each connection sends one request per period
        runs["paced"] = load_run("paced", base_url, fixture, args.duration, args.connections, work_dir,
                                 period_ms=period)
        ensure_running(label, process, log_path)
    paced = runs["paced"]
    return {"capacity_rps": capacity, "capacity_p99_ms": runs["capacity"]["p99_ms"], "target_rps": target,
            "period_ms": period, "achieved_rps": paced["requests_per_second"],
            "achieved_fraction": paced["requests_per_second"] / capacity, "p99_ms": paced["p99_ms"],
            "errors": paced["errors"], "requests": paced["requests"], "by_kind": paced["by_kind"],
            "latency_by_kind": paced["latency_by_kind"],
            "decisions_recorded": paced["decisions_recorded"], "writes_201": paced["writes_201"], "runs": runs}


def run(args: argparse.Namespace) -> dict:
    """Prepare the database(s) and measure each; return the report."""
    load_before = os.getloadavg()
    results = {}
    with ExitStack() as stack:
        work_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="qualtrack-bench-")))
        urls = {"sqlite": f"sqlite:///{work_dir / 'mixed.db'}"}
        if args.postgres:
            urls["postgresql"] = stack.enter_context(postgres_schema(args.postgres))
        for label, url in urls.items():
            fixture = prepare_fixture(url, args.connections, args.workers, work_dir)
            results[label] = measure(label, fixture, args, work_dir)
    return {"measured_at": utc_stamp(), "machine": machine(), "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(), "workers": args.workers, "connections": args.connections,
            "load": args.load, "mix": MIX, "pattern": PATTERN, "requests": DESCRIPTIONS, "unit": UNIT_CODE,
            "durations": {"warmup": args.warmup, "capacity": args.capacity_duration, "paced": args.duration},
            "results": results}


def failures(report: dict) -> list[str]:
    """What makes the run fail: errors under the paced load."""
    return [f"{label}: {r['errors']} errors (non-2xx answers or socket errors) under the paced load: {r['by_kind']}"
            for label, r in report["results"].items() if r["errors"]]


def print_report(report: dict) -> None:
    mix = ", ".join(f"{share:.0%} {DESCRIPTIONS[kind]}" for kind, share in report["mix"].items())
    print(f"mixed_load: {mix}")
    print(f"load: {report['connections']} connections (wrk -t{report['connections']} -c{report['connections']}, "
          f"bench/wrk_streams.lua); capacity {report['durations']['capacity']}s closed loop, then "
          f"{report['durations']['paced']}s at {report['load']:.0%} of it; gunicorn sync, {report['workers']} "
          f"workers; {report['machine']['cpu_count']} cores")
    print(f"machine load average (1 min) before the run: {report['loadavg_before'][0]:.2f}; after: "
          f"{report['loadavg_after'][0]:.2f}")
    print()
    print(f"{'backend':12}{'capacity':>10}{'target':>9}{'period':>9}{'achieved':>10}{'of cap.':>9}{'p99 ms':>9}"
          f"{'errors':>8}  writes (201 = in DB)")
    for label, r in report["results"].items():
        print(f"{label:12}{r['capacity_rps']:>10.1f}{r['target_rps']:>9.1f}{r['period_ms']:>7.1f}ms"
              f"{r['achieved_rps']:>10.1f}{r['achieved_fraction']:>9.1%}{r['p99_ms']:>9.2f}{r['errors']:>8}  "
              f"{r['writes_201']} = {r['decisions_recorded']}")
    for label, r in report["results"].items():
        print(f"  {label}, paced run by kind{'':14}answers  statuses   p50 ms   p99 ms   max ms")
        for kind in MIX:
            statuses, latency = r["by_kind"].get(kind, {}), r["latency_by_kind"].get(kind)
            if latency:
                print(f"    {DESCRIPTIONS[kind]:36}{sum(statuses.values()):>7}  {'/'.join(sorted(statuses)):8}"
                      f"{latency['p50_ms']:>9.2f}{latency['p99_ms']:>9.2f}{latency['max_ms']:>9.2f}")
        print(f"  {label}: capacity run p99 {r['capacity_p99_ms']:.2f} ms (closed loop)")
    verdicts = {label: "met" if not r["errors"] else "MISSED" for label, r in report["results"].items()}
    print()
    print(f"0 errors at {report['load']:.0%} of capacity: " + ", ".join(f"{k} {v}" for k, v in verdicts.items()))


def summary_rows(report: dict) -> list[dict]:
    """The report's lines for bench/run_all.py's summary table."""
    rows = []
    for label, r in report["results"].items():
        rows.append({"benchmark": "mixed load", "measure": f"capacity ({label}, closed loop)",
                     "rps": r["capacity_rps"], "p99_ms": r["capacity_p99_ms"]})
        rows.append({"benchmark": "mixed load", "measure": f"{report['durations']['paced']}s at "
                     f"{report['load']:.0%} ({label}), {r['errors']} errors", "rps": r["achieved_rps"],
                     "p99_ms": r["p99_ms"], "value": f"{r['achieved_fraction']:.1%} of cap.",
                     "target": "0 errors", "verdict": "met" if not r["errors"] else "MISSED"})
    return rows


def write_results(report: dict) -> Path:
    return write_json("mixed_load", report, report["measured_at"])


def main(argv: list[str] | None = None) -> None:
    """Run, print, save; exit 1 if it could not run, or any answer under load was an error."""
    args = parse_args(argv)
    report = report_or_exit("mixed_load", lambda: run(args))
    print_report(report)
    print(f"\nresults: {write_results(report).relative_to(PROJECT_ROOT)}")
    problems = failures(report)
    for problem in problems:
        print(f"mixed_load: error: {problem}", file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
