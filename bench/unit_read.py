"""Benchmark ``GET /v1/units/{id}`` against bare Flask serving the same bytes, and print the ratio (target >= 55%).

Both apps run under gunicorn with the same settings (sync workers, one per core, no access log), one after the
other, on 127.0.0.1, for --rounds rounds (each round: baseline, then qualtrack). The ratio reported is the median of
the rounds' ratios, so that a burst of noise on a shared machine lands on one round rather than on the verdict.
Load comes from wrk when it is on PATH, otherwise from a bounded Python fallback. Results are printed as a table and
written to bench/results/unit_read-<timestamp>.json. Exit status 0 means the benchmark ran (whether or not the
target was met); 1 means it could not run or some response was not a 200.

    .venv/bin/python bench/unit_read.py [--duration 10] [--connections 4] [--rounds 3] [--postgres URL]
"""

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import (  # noqa: E402 - the shared harness lives beside this script
    BENCH_DIR,
    PROJECT_ROOT,
    RESULTS_DIR,
    UNIT_CODE,
    BenchError,
    LoadResult,
    app_env,
    fetch_unit,
    get_ok,
    gunicorn,
    median,
    postgres_schema,
    prepare_database,
    report_or_exit,
    run_python,
    run_wrk,
    wait_ready,
)

TARGET = 0.55


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of measured load per app (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of unmeasured load first (default 2)")
    parser.add_argument("--connections", type=int, default=4, help="concurrent keep-alive connections (default 4)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="baseline-then-qualtrack rounds; the ratio reported is their median (default 3)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1; capped at --connections)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="gunicorn sync workers for both apps (default: one per core)")
    parser.add_argument("--load-generator", choices=("auto", "wrk", "python"), default="auto",
                        help="auto uses wrk when it is on PATH, else the Python fallback")
    parser.add_argument("--postgres", metavar="URL",
                        help="also run the qualtrack side on this PostgreSQL database, in a throwaway schema")
    args = parser.parse_args(argv)
    if min(args.duration, args.connections, args.rounds, args.threads, args.workers) <= 0 or args.warmup < 0:
        parser.error("--duration, --connections, --rounds, --threads and --workers must be positive, --warmup >= 0")
    if args.load_generator == "wrk" and shutil.which("wrk") is None:
        parser.error("--load-generator wrk: wrk is not on PATH (Debian: apt-get install wrk)")
    return args


def run_load(url: str, seconds: float, args: argparse.Namespace) -> LoadResult:
    """Load ``url`` with the chosen generator; raise if any response was not a 200 or any socket failed."""
    if use_wrk(args):
        result = run_wrk(url, seconds, args.connections, args.threads)
    else:
        result = run_python(url, seconds, args.connections)
    if result.bad_status or result.socket_errors:
        raise BenchError(f"{url}: {result.bad_status} responses were not 200 (wrk: not 2xx/3xx) and "
                         f"{result.socket_errors} socket errors, out of {result.requests} requests")
    if result.requests == 0:
        raise BenchError(f"{url}: no request completed in {seconds:g}s")
    return result


def use_wrk(args: argparse.Namespace) -> bool:
    """Whether this run uses wrk rather than the Python fallback."""
    return args.load_generator == "wrk" or (args.load_generator == "auto" and shutil.which("wrk") is not None)


def measure(label: str, app_spec: str, env: dict[str, str], url_path: str, expected: bytes,
            args: argparse.Namespace, log_dir: Path, extra: tuple = ()) -> LoadResult:
    """Start one app, check it serves ``expected``, warm it up, measure it, stop it."""
    with gunicorn(label, app_spec, env, args.workers, log_dir, extra) as (process, base_url, log_path):
        url = base_url + url_path
        wait_ready(process, url, log_path)
        body = get_ok(url)
        if body != expected:
            raise BenchError(f"{label}: {url} served {len(body)} bytes, not the {len(expected)} expected")
        if args.warmup:
            run_load(url, args.warmup, args)
        result = run_load(url, args.duration, args)
        if process.poll() is not None:
            raise BenchError(f"{label}: server exited during the run:\n{log_path.read_text(errors='replace')}")
        return result


def measure_baseline(unit_id: str, body: bytes, args: argparse.Namespace, work_dir: Path) -> LoadResult:
    """Serve ``body`` from bench/bare_app.py and measure it."""
    body_file = work_dir / "unit.json"
    body_file.write_bytes(body)
    env = app_env(BENCH_UNIT_FILE=str(body_file), BENCH_UNIT_ID=unit_id, PYTHONDONTWRITEBYTECODE="1")
    return measure("baseline", "bare_app:create_app()", env, f"/v1/units/{unit_id}", body, args, work_dir,
                   extra=("--pythonpath", str(BENCH_DIR)))


def measure_qualtrack(label: str, database_url: str, unit_id: str, body: bytes, args: argparse.Namespace,
                      work_dir: Path) -> LoadResult:
    """Serve ``api.wsgi:app`` on ``database_url`` and measure ``GET /v1/units/{id}``."""
    env = app_env(QUALTRACK_DATABASE_URL=database_url)
    return measure(label, "api.wsgi:app", env, f"/v1/units/{unit_id}", body, args, work_dir)


@dataclass
class Target:
    """One qualtrack deployment to measure against the baseline."""

    key: str
    label: str
    database_url: str
    unit_id: str
    body: bytes


def prepare_target(key: str, label: str, database_url: str, args: argparse.Namespace, work_dir: Path) -> Target:
    """Load data/units into ``database_url`` and fetch the CS 34 unit it serves."""
    prepare_database(database_url)
    unit_id, body = fetch_unit(database_url, args.workers, work_dir)
    return Target(key, label, database_url, unit_id, body)


def run_round(baseline_source: Target, targets: list[Target], args: argparse.Namespace, work_dir: Path) -> dict:
    """One round: the baseline, then each target, each on a fresh server; every target with its ratio."""
    baseline = measure_baseline(baseline_source.unit_id, baseline_source.body, args, work_dir)
    results = {"baseline": asdict(baseline)}
    for target in targets:
        result = measure_qualtrack(target.key, target.database_url, target.unit_id, target.body, args, work_dir)
        results[target.key] = {**asdict(result),
                               "ratio": result.requests_per_second / baseline.requests_per_second}
    return results


def summarize(rounds: list[dict], key: str) -> dict:
    """Medians over rounds of req/s, p99 and (for a target) the ratio, plus the total request count."""
    runs = [r[key] for r in rounds]
    summary = {"requests_per_second": median([r["requests_per_second"] for r in runs]),
               "p99_ms": median([r["p99_ms"] for r in runs]), "requests": sum(r["requests"] for r in runs)}
    if "ratio" in runs[0]:
        summary["ratio"] = median([r["ratio"] for r in runs])
        summary["round_ratios"] = [r["ratio"] for r in runs]
    return summary


def load_description(args: argparse.Namespace) -> str:
    """How load was generated, for the report."""
    if use_wrk(args):
        threads = min(args.threads, args.connections)
        how = f"wrk -t{threads} -c{args.connections} -d{args.duration:g}s --latency"
    else:
        how = f"python fallback, {args.connections} connections, {args.duration:g}s"
    return f"{how} (warm-up {args.warmup:g}s), {args.rounds} round(s)"


def verdict(ratio: float) -> str:
    """The ratio as a percentage, and whether it meets the target."""
    return f"{ratio:.1%} (target >= {TARGET:.0%}: {'met' if ratio >= TARGET else 'MISSED'})"


def print_report(report: dict) -> None:
    """Print the results as a small table."""
    print(f"unit_read: GET /v1/units/{report['unit_id']} ({UNIT_CODE}, {report['bytes']} bytes)")
    print(f"load: {report['load']}; gunicorn sync, {report['workers']} workers; {report['cpu_count']} cores")
    print(f"machine load average (1 min) before the run: {report['loadavg_before'][0]:.2f}; after: "
          f"{report['loadavg_after'][0]:.2f} (the run itself raises it; other work skews the figures)")
    print()
    print(f"{'median over rounds':28}{'req/s':>10}{'p99 ms':>10}{'total req':>11}")
    for key, label in report["labels"].items():
        row = report["summary"][key]
        print(f"{label:28}{row['requests_per_second']:>10.1f}{row['p99_ms']:>10.2f}{row['requests']:>11}")
    print()
    for key, label in report["labels"].items():
        row = report["summary"][key]
        if "ratio" in row:
            rounds = ", ".join(f"{r:.1%}" for r in row["round_ratios"])
            print(f"ratio {label + ' / baseline:':35} {verdict(row['ratio'])}  [rounds: {rounds}]")
    for note in report["rounds"][0]["baseline"]["notes"]:
        print(f"note: {note}")


def write_results(report: dict) -> Path:
    """Write the report as JSON under bench/results/ and return its path."""
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"unit_read-{report['timestamp'].replace(':', '').replace('-', '')}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    return path


def run(args: argparse.Namespace) -> dict:
    """Set up, measure the baseline and every target for each round, and return the report."""
    load_before = os.getloadavg()
    with ExitStack() as stack:
        work_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="qualtrack-bench-")))
        sqlite_url = f"sqlite:///{work_dir / 'qualtrack.db'}"
        targets = [prepare_target("qualtrack_sqlite", "qualtrack (SQLite)", sqlite_url, args, work_dir)]
        if args.postgres:
            postgres_url = stack.enter_context(postgres_schema(args.postgres))
            targets.append(prepare_target("qualtrack_postgres", "qualtrack (PostgreSQL)", postgres_url, args,
                                          work_dir))
        rounds = [run_round(targets[0], targets, args, work_dir) for _ in range(args.rounds)]
    labels = {"baseline": "baseline (bare Flask)", **{t.key: t.label for t in targets}}
    return {
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "unit_id": targets[0].unit_id, "bytes": len(targets[0].body),
        "bytes_by_target": {t.key: len(t.body) for t in targets}, "load": load_description(args),
        "workers": args.workers, "cpu_count": os.cpu_count(), "python": platform.python_version(),
        "platform": platform.platform(), "loadavg_before": load_before, "loadavg_after": os.getloadavg(),
        "target": TARGET, "labels": labels,
        "summary": {key: summarize(rounds, key) for key in labels}, "rounds": rounds,
    }


def summary_rows(report: dict) -> list[dict]:
    """The report's lines for bench/run_all.py's summary table."""
    rows = []
    for key, label in report["labels"].items():
        row = report["summary"][key]
        line = {"benchmark": "unit read", "measure": label, "rps": row["requests_per_second"], "p99_ms": row["p99_ms"]}
        if "ratio" in row:
            line.update(measure=f"{label} / bare Flask", value=f"{row['ratio']:.1%}", target=f">= {TARGET:.0%}",
                        verdict="met" if row["ratio"] >= TARGET else "MISSED")
        rows.append(line)
    return rows


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark, print the table, save the JSON; exit 1 only if the benchmark could not run."""
    args = parse_args(argv)
    report = report_or_exit("unit_read", lambda: run(args))
    print_report(report)
    print(f"\nresults: {write_results(report).relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    main()
