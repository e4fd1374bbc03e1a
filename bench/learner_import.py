"""Benchmark `qualtrack import-learners` end to end: generated learners with enrolments, 10k and 100k rows, on SQLite
(and PostgreSQL with --postgres), printing rows/s and peak memory (target: >= 40,000 rows/s on SQLite at 100k rows;
memory flat as the file grows).

Each size runs in a fresh database (init-db, load-units, one centre), then the CLI imports the file as a child
process whose wall time and peak RSS are measured (os.wait4 gives that one child's ru_maxrss: the resource usage of
all children together would report the larger peak of load-units). The import's own rate is also read
from the job (rows / (finished_at - started_at)), which excludes interpreter start-up. Results are printed and
written to bench/results/learner_import-<timestamp>.json.

    .venv/bin/python bench/learner_import.py [--sizes 10000 100000] [--repeat 3] [--processes N]
        [--postgres URL [--no-sqlite]]
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import PROJECT_ROOT, RESULTS_DIR, BenchError, postgres_schema, valid_uln  # noqa: E402 - beside this

TARGET = 40_000  # rows/s on SQLite, at the largest size


def write_file(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write("uln,given_name,family_name,email,date_of_birth,external_system,external_id,unit_code,start_date\n")
        for n in range(rows):
            out.write(f"{valid_uln(n)},Given{n},Family{n},learner{n}@example.test,2001-01-{1 + n % 28:02d},mis,"
                      f"M{n},B13,2026-09-01\n")


@contextmanager
def fresh_sqlite(work: Path):
    """The URL of a new SQLite database in ``work``, deleted afterwards."""
    path = work / f"bench-{uuid.uuid4().hex[:8]}.db"
    try:
        yield f"sqlite:///{path}"
    finally:
        for leftover in work.glob(f"{path.name}*"):
            leftover.unlink()


def cli(database_url: str, *args: str, capture: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "QUALTRACK_DATABASE_URL": database_url, "QUALTRACK_ENV": "test"}
    done = subprocess.run([sys.executable, "-m", "api.cli", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=capture, text=True)
    if done.returncode != 0:
        raise BenchError(f"{' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done


def job_rate(database_url: str) -> float:
    """rows/s of the last import from its job record (excludes interpreter start-up)."""
    code = ("from api.config import Settings\nfrom api.cli.group import connect\n"
            "connect(Settings.from_env())\nfrom api.models import LearnerImport\n"
            "j = LearnerImport.select().order_by(LearnerImport.started_at.desc()).get()\n"
            "print(j.received / max(1e-9, (j.finished_at - j.started_at).total_seconds()))")
    env = {**os.environ, "QUALTRACK_DATABASE_URL": database_url, "QUALTRACK_ENV": "test"}
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          check=True)
    return float(done.stdout.strip().splitlines()[-1])


def measure_median(make_url, rows: int, work: Path, repeat: int, processes: list[str]) -> dict:
    """measure() ``repeat`` times, each in a fresh database: the medians (this machine's speed varies by about 10%
    from minute to minute), with every run kept."""
    runs = []
    for _ in range(repeat):
        with make_url() as url:
            runs.append(measure(url, rows, work, processes))
    middle = sorted(runs, key=lambda r: r["rows_per_second_import"])[len(runs) // 2]
    return {**middle, "rows_per_second_wall": sorted(r["rows_per_second_wall"] for r in runs)[len(runs) // 2],
            "peak_rss_mb": max(r["peak_rss_mb"] for r in runs), "repeats": runs}


def measure(database_url: str, rows: int, work: Path, processes: list[str]) -> dict:
    cli(database_url, "init-db")
    cli(database_url, "load-units")
    cli(database_url, "create-centre", "--code", "BENCH", "--name", "Bench centre")
    data = work / f"learners-{rows}.csv"
    write_file(data, rows)
    env = {**os.environ, "QUALTRACK_DATABASE_URL": database_url, "QUALTRACK_ENV": "test"}
    os.sync()  # the file and database just written go to disk now, not while the import is timed
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "api.cli", "import-learners", str(data), "--centre", "BENCH",
                              *processes],
                             cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise BenchError(f"import-learners failed:\n{child.stderr.read().decode()}")
    child.stderr.close()
    peak_kb = usage.ru_maxrss
    return {"rows": rows, "wall_seconds": round(wall, 2), "rows_per_second_wall": round(rows / wall),
            "rows_per_second_import": round(job_rate(database_url)),
            "peak_rss_mb": round(peak_kb / 1024, 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--postgres", metavar="URL")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size and backend; medians are reported")
    parser.add_argument("--processes", type=int, help="the CLI's --processes (default: the CLI's own default)")
    args = parser.parse_args(argv)
    processes = [] if args.processes is None else ["--processes", str(args.processes)]
    results: dict = {}
    try:
        with tempfile.TemporaryDirectory(prefix="qualtrack-import-bench-") as tmp:
            work = Path(tmp)
            for size in args.sizes:
                if not args.no_sqlite:
                    results.setdefault("sqlite", []).append(
                        measure_median(lambda: fresh_sqlite(work), size, work, args.repeat, processes))
                if args.postgres:
                    results.setdefault("postgresql", []).append(
                        measure_median(lambda: postgres_schema(args.postgres), size, work, args.repeat,
                                       processes))
    except BenchError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    print("qualtrack import-learners, generated learners with one enrolment each (CSV), fresh database per size")
    print(f"medians of {args.repeat} runs each (import: from the job's start to its end; wall: the whole command, "
          "interpreter start-up included)")
    print(f"{'backend':<11} {'rows':>8} {'wall s':>8} {'rows/s (wall)':>14} {'rows/s (import)':>16} {'peak MB':>8}  "
          "import rows/s of each run")
    for backend, runs in results.items():
        for r in runs:
            each = ", ".join(str(run["rows_per_second_import"]) for run in r["repeats"])
            print(f"{backend:<11} {r['rows']:>8} {r['wall_seconds']:>8} {r['rows_per_second_wall']:>14} "
                  f"{r['rows_per_second_import']:>16} {r['peak_rss_mb']:>8}  {each}")
    if "sqlite" in results:
        sqlite_rate = max(results["sqlite"], key=lambda r: r["rows"])["rows_per_second_import"]
        print(f"target >= {TARGET} rows/s on SQLite: {'met' if sqlite_rate >= TARGET else 'MISSED'} ({sqlite_rate})")
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS_DIR / f"learner_import-{stamp}.json"
    summary = {f"{backend}_{r['rows']}": {"rows_per_second": r["rows_per_second_import"]}
               for backend, runs in results.items() for r in runs}
    path.write_text(json.dumps({"measured_at": stamp, "machine": platform.platform(), "processes": args.processes,
                                "summary": summary, "results": results}, indent=2))
    print(f"results: {path.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
