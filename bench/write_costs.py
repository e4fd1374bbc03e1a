"""What the parts of a SQLite decision write cost under load, measured by leaving each out (bench/ablated_app.py):
the decision-write ratio against bare Flask for the full write, and for the write without body validation, without
its audit event, without its access-log line, and without all three. Each gain is an upper bound on what making
that part cheaper could bring; none of these parts may be left out of the real API.

Same load as bench/tracking.py (its fixture, its write streams, the same bare-Flask baseline), on one SQLite
database; every round measures the baseline, then each variant on a fresh server, in an order that alternates from
round to round; ratios are medians over rounds. Writes are checked as in tracking.py (decisions recorded = 2xx
answers). Not part of `make bench`: a diagnosis, about 6 minutes with the defaults.

    .venv/bin/python bench/write_costs.py [--duration 6] [--rounds 4] [--connections 4]
"""

import argparse
import os
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import (  # noqa: E402 - the shared harness lives beside this script
    BENCH_DIR,
    PROJECT_ROOT,
    app_env,
    gunicorn,
    median,
    report_or_exit,
    server_cpu_seconds,
    utc_stamp,
    wait_ready,
    write_json,
)
from tracking import (  # noqa: E402 - the same fixture, streams and checks as the tracking benchmark
    WRITE_TARGET,
    Side,
    baseline_routes,
    check_decision,
    measure_writes,
    prepare_fixture,
    progress_path,
    qualtrack_env,
)

VARIANTS = {  # key: (label, BENCH_WITHOUT)
    "full": ("full write", ""),
    "no_validation": ("without body validation", "validation"),
    "no_audit": ("without the audit event", "audit"),
    "no_access_log": ("without the access-log line", "access_log"),
    "none_of_them": ("without all three", "validation,audit,access_log"),
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=int, default=6, help="seconds of measured load per run (default 6)")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of unmeasured writes first (default 1)")
    parser.add_argument("--rounds", type=int, default=4, help="rounds; ratios are their medians (default 4)")
    parser.add_argument("--connections", type=int, default=4, help="concurrent connections (default 4)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="gunicorn sync workers (default: one per core)")
    args = parser.parse_args(argv)
    if min(args.duration, args.rounds, args.connections, args.workers) <= 0 or args.warmup < 0:
        parser.error("--duration, --rounds, --connections and --workers must be positive, --warmup >= 0")
    return args


def measure(side: Side, fixture, args: argparse.Namespace, work_dir: Path) -> dict:
    """Decision writes a second on one fresh server (after a checked first write and a warm-up), and the server's
    CPU time per write (user and system, master and workers, in microseconds)."""
    with gunicorn(side.key, side.app_spec, side.env, args.workers, work_dir, side.extra) as (process, base_url,
                                                                                               log_path):
        wait_ready(process, base_url + ("/v1/units?limit=1" if side.database_url else progress_path(fixture)),
                   log_path)
        check_decision(base_url, fixture, None if side.database_url else fixture.decision_sample)
        if args.warmup:
            measure_writes(side, base_url, fixture, args.warmup, args.connections, work_dir)
        user, system = server_cpu_seconds(process)
        result, _ = measure_writes(side, base_url, fixture, args.duration, args.connections, work_dir)
        user_after, system_after = server_cpu_seconds(process)
    per_write = 1e6 / max(result.requests, 1)
    return {"requests_per_second": result.requests_per_second,
            "cpu_user_us": (user_after - user) * per_write, "cpu_system_us": (system_after - system) * per_write}


def run(args: argparse.Namespace) -> dict:
    """Every round: the baseline, then each variant; returns req/s and ratios by variant."""
    with ExitStack() as stack:
        work_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="qualtrack-bench-")))
        url = f"sqlite:///{work_dir / 'tracking.db'}"
        fixture = prepare_fixture(url, args.connections, args.workers, work_dir)
        baseline = Side("baseline", "baseline (bare Flask)", "bare_app:create_app()",
                        app_env(BENCH_BARE_ROUTES=str(baseline_routes(fixture, work_dir))),
                        ("--pythonpath", str(BENCH_DIR)))
        variants = [Side(key, label, "ablated_app:app", {**qualtrack_env(url), "BENCH_WITHOUT": without},
                         ("--pythonpath", str(BENCH_DIR)), database_url=url)
                    for key, (label, without) in VARIANTS.items()]
        rounds = []
        for number in range(args.rounds):
            order = variants if number % 2 == 0 else variants[::-1]
            speeds = {"baseline": measure(baseline, fixture, args, work_dir)}
            for side in order:
                speeds[side.key] = measure(side, fixture, args, work_dir)
            rounds.append(speeds)
            print(f"round {number + 1}: " + ", ".join(f"{key} {run['requests_per_second']:.0f}"
                                                       for key, run in speeds.items()), file=sys.stderr)
    summary = {"baseline": cpu_summary(rounds, "baseline")}
    for key, (label, without) in VARIANTS.items():
        ratios = [r[key]["requests_per_second"] / r["baseline"]["requests_per_second"] for r in rounds]
        summary[key] = {"label": label, "without": without, "ratio": median(ratios), "round_ratios": ratios,
                        "requests_per_second": median([r[key]["requests_per_second"] for r in rounds]),
                        **cpu_summary(rounds, key)}
    return {"measured_at": utc_stamp(), "workers": args.workers, "connections": args.connections,
            "duration": args.duration, "rounds": rounds, "summary": summary,
            "baseline_requests_per_second": median([r["baseline"]["requests_per_second"] for r in rounds])}


def cpu_summary(rounds: list[dict], key: str) -> dict:
    """Median server CPU per write (user, system) of one side over the rounds, in microseconds."""
    return {"cpu_user_us": median([r[key]["cpu_user_us"] for r in rounds]),
            "cpu_system_us": median([r[key]["cpu_system_us"] for r in rounds])}


def print_report(report: dict) -> None:
    full = report["summary"]["full"]["ratio"]
    print(f"decision write on SQLite, by what is left out ({len(report['rounds'])} rounds of "
          f"{report['duration']} s, {report['connections']} connections, {report['workers']} workers; bare Flask "
          f"median {report['baseline_requests_per_second']:.0f} req/s; target {WRITE_TARGET:.0%})")
    for key, row in report["summary"].items():
        cpu = f"CPU/write {row['cpu_user_us']:5.0f} + {row['cpu_system_us']:3.0f} us"
        if key == "baseline":
            print(f"  {'bare Flask':30} {report['baseline_requests_per_second']:8.0f} req/s  {'':24}{cpu}")
            continue
        rounds = ", ".join(f"{r:.1%}" for r in row["round_ratios"])
        gain = "" if row["label"] == "full write" else f"  ({(row['ratio'] - full) * 100:+.1f} points)"
        print(f"  {row['label']:30} {row['requests_per_second']:8.0f} req/s  {row['ratio']:6.1%}{gain:18}{cpu}  "
              f"[rounds: {rounds}]")
    print("  (CPU/write: the server's user + system CPU time per write, master and workers, median over rounds)")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    report = report_or_exit("write_costs", lambda: run(args))
    print_report(report)
    print(f"\nresults: {write_json('write_costs', report, report['measured_at']).relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    main()
