"""Run every benchmark in one go (what `make bench` runs), print one summary table with every ratio, p99 and target
verdict, and write bench/results/run_all-<timestamp>.json (each part also writes its own JSON, as when run alone).

Parts, in order (see bench/README.md for what each measures):

    unit_read     GET /v1/units/{id} against bare Flask                       target >= 55%
    graphql_read  nested GraphQL unit query against the REST read             target >= 0.85x
    tracking      decision write (SQLite, PostgreSQL) and progress read       target >= 30%, p99 <= 15 ms
                  against bare Flask                                          (write, SQLite)
    mixed_load    capacity of a read/write mix, then 60 s at 70% of it        target 0 errors, no lost write
    progress      bench/progress.py: progress of a 2,000-decision enrolment   target median < 10 ms
    import        bench/learner_import.py: import-learners, 10k and 100k rows target >= 40,000 rows/s (SQLite, 100k)

PostgreSQL (--postgres, default postgresql://127.0.0.1:5432/test) is used when it answers: decision write and
progress read on it, progress.py and the learner import on it (each in a throwaway schema, dropped afterwards); with
--postgres-all the unit read, the GraphQL query and the mixed load too. When it does not answer, those parts are
skipped with a message. Exit status: 0 when every part ran (whether or not its targets were met); 1 when any part
could not run or got a wrong answer (the others still run); 130 when interrupted.

    .venv/bin/python bench/run_all.py                  # everything, default durations (about 11 minutes)
    .venv/bin/python bench/run_all.py --quick          # short runs, 1 round: a smoke test (about 3 minutes)
    .venv/bin/python bench/run_all.py --only tracking mixed_load --no-postgres
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import graphql_read  # noqa: E402 - the benchmarks live side by side
import mixed_load  # noqa: E402
import tracking  # noqa: E402
import unit_read  # noqa: E402
from harness import (  # noqa: E402
    BENCH_DIR,
    PROJECT_ROOT,
    BenchError,
    machine,
    postgres_reachable,
    stop_on_sigterm,
    utc_stamp,
    write_json,
)

DEFAULT_POSTGRES = "postgresql://127.0.0.1:5432/test"
PARTS = ("unit_read", "graphql_read", "tracking", "mixed_load", "progress", "import")
QUICK = {"unit_read": ["--duration", "3", "--rounds", "1", "--warmup", "1"],
         "graphql_read": ["--duration", "3", "--rounds", "1", "--warmup", "1"],
         "tracking": ["--duration", "3", "--rounds", "1", "--warmup", "1"],
         "mixed_load": ["--duration", "10", "--capacity-duration", "3", "--warmup", "1"],
         "progress": ["--calls", "50"], "import": ["--sizes", "10000"]}
MODULES = {"unit_read": unit_read, "graphql_read": graphql_read, "tracking": tracking, "mixed_load": mixed_load}
SCRIPTS = {"progress": "progress.py", "import": "learner_import.py"}
IMPORT_TARGET = 40_000  # rows/s on SQLite, at IMPORT_TARGET_ROWS
IMPORT_TARGET_ROWS = 100_000
PROGRESS_TARGET_MS = 10.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--postgres", metavar="URL", default=DEFAULT_POSTGRES,
                        help=f"PostgreSQL for the PostgreSQL parts, if it answers (default {DEFAULT_POSTGRES})")
    parser.add_argument("--no-postgres", action="store_true", help="skip every PostgreSQL part")
    parser.add_argument("--postgres-all", action="store_true",
                        help="also run the unit read, the GraphQL query and the mixed load on PostgreSQL (about 4 "
                             "more minutes)")
    parser.add_argument("--quick", action="store_true", help="short runs and one round: a smoke test, not figures")
    parser.add_argument("--only", nargs="+", choices=PARTS, metavar="PART", help=f"run only these: {', '.join(PARTS)}")
    return parser.parse_args(argv)


def part_argvs(part: str, args: argparse.Namespace, postgres: str | None) -> list[list[str]]:
    """The command lines a part is run with: one, or for progress.py one per database."""
    argv = list(QUICK[part]) if args.quick else []
    if part == "progress":
        return [argv, [*argv, "--postgres", postgres]] if postgres else [argv]
    uses_postgres = part in ("tracking", "import") or args.postgres_all and part in MODULES
    return [[*argv, "--postgres", postgres]] if postgres and uses_postgres else [argv]


def run_module(part: str, argv: list[str]) -> dict:
    """Run a gunicorn benchmark in this process: print its report, write its JSON, return what the summary needs."""
    module = MODULES[part]
    report = module.run(module.parse_args(argv))
    module.print_report(report)
    path = module.write_results(report)
    print(f"\nresults: {path.relative_to(PROJECT_ROOT)}")
    failures = mixed_load.failures(report) if module is mixed_load else []
    return {"report": report, "results_file": str(path.relative_to(PROJECT_ROOT)), "rows": module.summary_rows(report),
            "failures": failures}


def run_script(part: str, argvs: list[list[str]]) -> dict:
    """Run progress.py or learner_import.py as a child process (they bind the database in-process) once per command
    line, echoing its output; read back the JSON each run wrote."""
    reports, files, rows = [], [], []
    for argv in argvs:
        if len(argvs) > 1:
            print(f"$ {SCRIPTS[part]} {' '.join(argv)}", flush=True)
        written = run_child([sys.executable, str(BENCH_DIR / SCRIPTS[part]), *argv])
        report = json.loads((PROJECT_ROOT / written).read_text())
        reports.append(report)
        files.append(written)
        rows += progress_rows(report) if part == "progress" else import_rows(report)
    return {"report": reports if len(reports) > 1 else reports[0], "results_file": files if len(files) > 1
            else files[0], "rows": rows, "failures": []}


def run_child(command: list[str]) -> str:
    """Run a benchmark script, echoing its output; return the results file it says it wrote."""
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
    written = None
    try:
        for line in process.stdout:
            print(line, end="", flush=True)
            match = re.match(r"^(?:written to|results:) (\S+\.json)$", line.strip())
            written = match.group(1) if match else written
        process.wait()
    finally:
        stop_child(process)
    name = Path(command[1]).name
    if process.returncode != 0:
        raise BenchError(f"{name} exited with {process.returncode}")
    if written is None:
        raise BenchError(f"{name} did not say where it wrote its results")
    return written


def stop_child(process: subprocess.Popen) -> None:
    """After an interrupt: a child that got Ctrl-C too cleans up and exits by itself; one that did not (this process
    got SIGTERM) is interrupted the same way; one that still hangs is killed."""
    for signal_to_send, seconds in ((None, 5), (signal.SIGINT, 30), (signal.SIGKILL, 10)):
        if process.poll() is not None:
            return
        if signal_to_send is not None:
            process.send_signal(signal_to_send)
        with suppress(subprocess.TimeoutExpired):
            process.wait(seconds)


def progress_rows(report: dict) -> list[dict]:
    met = report["median_ms"] < PROGRESS_TARGET_MS
    same = report["queries"] == report["queries_small_enrolment"]
    return [{"benchmark": "progress calc",
             "measure": f"{report['criteria']} criteria, {report['decisions']} decisions, {report['queries']} SQL"
                        f"{'' if same else ' (NOT constant!)'} ({report['backend']})",
             "value": f"{report['median_ms']:.2f} ms median", "target": f"< {PROGRESS_TARGET_MS:g} ms",
             "verdict": "met" if met else "MISSED"}]


def import_rows(report: dict) -> list[dict]:
    rows = []
    for backend, runs in report["results"].items():
        for r in runs:
            targeted = backend == "sqlite" and r["rows"] >= IMPORT_TARGET_ROWS
            rows.append({"benchmark": "learner import", "measure": f"{r['rows']} rows ({backend}), peak "
                         f"{r['peak_rss_mb']} MB", "value": f"{r['rows_per_second_import']} rows/s",
                         "target": f">= {IMPORT_TARGET}" if targeted else "-",
                         "verdict": ("met" if r["rows_per_second_import"] >= IMPORT_TARGET else "MISSED")
                         if targeted else "reported"})
    return rows


def print_summary(rows: list[dict], parts: dict) -> None:
    print("\n" + "=" * 120)
    print("SUMMARY (medians over rounds; ratios against bare Flask serving the same bytes unless said otherwise)")
    print(f"{'benchmark':16}{'measure':50}{'req/s':>8}{'p99 ms':>8}  {'value':17}{'target':>9}  verdict")
    for row in rows:
        rps = f"{row['rps']:.1f}" if row.get("rps") is not None else ""
        p99 = f"{row['p99_ms']:.2f}" if row.get("p99_ms") is not None else ""
        print(f"{row['benchmark'][:15]:16}{row['measure'][:49]:50}{rps:>8}{p99:>8}  {row.get('value', ''):17}"
              f"{row.get('target', ''):>9}  {row.get('verdict', '')}")
    for name, part in parts.items():
        if part["status"] != "ok":
            print(f"{name}: {part['status'].upper()}: {part.get('error', '')}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stop_on_sigterm()
    if shutil.which("wrk") is None:
        print("run_all: wrk is not on PATH (Debian/Ubuntu: apt-get install wrk)", file=sys.stderr)
        return 1
    started = time.monotonic()
    stamp = utc_stamp()
    postgres, postgres_note = None, "not asked for (--no-postgres)"
    if not args.no_postgres:
        problem = postgres_reachable(args.postgres)
        if problem is None:
            postgres, postgres_note = args.postgres, "reachable"
        else:
            postgres_note = f"not reachable ({problem.splitlines()[0]})"
            print(f"run_all: PostgreSQL at {args.postgres} is {postgres_note}: skipping the PostgreSQL parts "
                  "(decision write and progress read on PostgreSQL, progress.py and the learner import on PostgreSQL)")
    selected = [p for p in PARTS if not args.only or p in args.only]
    parts: dict[str, dict] = {}
    rows: list[dict] = []
    interrupted = False
    for part in selected:
        argvs = part_argvs(part, args, postgres)
        print(f"\n{'=' * 120}\n{part}: {SCRIPTS.get(part, part + '.py')} {' '.join(argvs[0])}\n", flush=True)
        began = time.monotonic()
        try:
            outcome = run_module(part, argvs[0]) if part in MODULES else run_script(part, argvs)
        except BenchError as exc:
            print(f"{part}: error: {exc}", file=sys.stderr)
            parts[part] = {"status": "failed", "error": str(exc)}
        except KeyboardInterrupt:
            print(f"{part}: interrupted (servers stopped, temporary files removed)", file=sys.stderr)
            parts[part] = {"status": "interrupted"}
            interrupted = True
        else:
            rows += outcome["rows"]
            status = "failed" if outcome["failures"] else "ok"
            parts[part] = {"status": status, "results_file": outcome["results_file"], "report": outcome["report"],
                           **({"error": "; ".join(outcome["failures"])} if outcome["failures"] else {})}
        parts[part]["argv"] = argvs if len(argvs) > 1 else argvs[0]
        parts[part]["seconds"] = round(time.monotonic() - began, 1)
        if interrupted:
            break
    print_summary(rows, parts)
    combined = {"measured_at": stamp, "machine": machine(), "loadavg_at_end": os.getloadavg(),
                "seconds": round(time.monotonic() - started, 1), "quick": args.quick,
                "postgres": {"url": args.postgres, "used": postgres is not None, "note": postgres_note},
                "summary": rows, "parts": parts}
    path = write_json("run_all", combined, stamp)
    print(f"\nwhole run: {combined['seconds'] / 60:.1f} minutes; PostgreSQL {postgres_note}; "
          f"results: {path.relative_to(PROJECT_ROOT)}")
    if interrupted:
        return 130
    return 1 if any(p["status"] != "ok" for p in parts.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
