"""Benchmark ``GET /v1/units/{id}`` against bare Flask serving the same bytes, and print the ratio (target >= 50%).

Both apps run under gunicorn with the same settings (sync workers, one per core, no access log), one after the
other, on 127.0.0.1, for --rounds rounds (each round: baseline, then qualtrack). The ratio reported is the median of
the rounds' ratios, so that a burst of noise on a shared machine lands on one round rather than on the verdict.
Load comes from wrk when it is on PATH, otherwise from a bounded Python fallback. Results are printed as a table and
written to bench/results/unit_read-<timestamp>.json. Exit status 0 means the benchmark ran (whether or not the
target was met); 1 means it could not run or some response was not a 200.

    .venv/bin/python bench/unit_read.py [--duration 10] [--connections 4] [--rounds 3] [--postgres URL]
"""

import argparse
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
UNITS_DIR = PROJECT_ROOT / "data" / "units"
RESULTS_DIR = BENCH_DIR / "results"
HOST = "127.0.0.1"
UNIT_CODE = "CS 34"
TARGET = 0.50
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


class BenchError(Exception):
    """The benchmark could not run, or a response was wrong."""


@dataclass
class LoadResult:
    """What one load-generator run measured."""

    tool: str
    requests: int
    seconds: float
    requests_per_second: float
    p99_ms: float
    bad_status: int = 0
    socket_errors: int = 0
    notes: list[str] = field(default_factory=list)


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


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def app_env(**extra: str) -> dict[str, str]:
    """This process's environment plus ``extra``."""
    return {**os.environ, **extra}


def run_cli(database_url: str, *args: str) -> None:
    """Run ``python -m api.cli ARGS`` against ``database_url``; raise with its output if it fails."""
    command = [sys.executable, "-m", "api.cli", *args]
    done = subprocess.run(command, cwd=PROJECT_ROOT, env=app_env(QUALTRACK_DATABASE_URL=database_url),
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")


def prepare_database(database_url: str) -> None:
    """Create the schema and load data/units into ``database_url``."""
    run_cli(database_url, "init-db")
    run_cli(database_url, "load-units", str(UNITS_DIR))


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """One GET: (status, body); HTTP error statuses are returned, not raised."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def get_ok(url: str) -> bytes:
    """GET ``url`` and return its body; raise unless the status is 200."""
    status, body = http_get(url)
    if status != 200:
        raise BenchError(f"GET {url} answered {status}: {body[:300]!r}")
    return body


@contextmanager
def gunicorn(label: str, app_spec: str, env: dict[str, str], workers: int, log_dir: Path, extra: tuple = ()):
    """Run ``app_spec`` under gunicorn on a free 127.0.0.1 port; yield its base URL; always stop it."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "--worker-class", "sync", "--workers", str(workers),
               "--bind", f"{HOST}:{port}", "--log-level", "warning", *extra, app_spec]
    log_path = log_dir / f"{label}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        yield process, f"http://{HOST}:{port}", log_path
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    """Terminate a gunicorn master (it stops its workers); kill its process group if it will not stop."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(STOP_TIMEOUT)


def wait_ready(process: subprocess.Popen, url: str, log_path: Path) -> None:
    """Poll ``url`` until it answers 200; raise if the server exits or the timeout passes."""
    deadline = time.monotonic() + READY_TIMEOUT
    last = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"server exited with {process.returncode}:\n{log_path.read_text(errors='replace')}")
        try:
            status, _ = http_get(url, timeout=1.0)
            if status == 200:
                return
            last = f"status {status}"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.1)
    raise BenchError(f"{url} not ready after {READY_TIMEOUT:.0f}s ({last}):\n{log_path.read_text(errors='replace')}")


def find_unit(base_url: str) -> str:
    """The id of the CS 34 unit, from ``GET /v1/units?code=CS%2034``."""
    items = json.loads(get_ok(f"{base_url}/v1/units?code={UNIT_CODE.replace(' ', '%20')}"))["items"]
    if not items:
        raise BenchError(f"no unit with code {UNIT_CODE!r} was loaded")
    return items[0]["id"]


def fetch_unit(database_url: str, workers: int, log_dir: Path) -> tuple[str, bytes]:
    """Serve ``database_url`` briefly and return the CS 34 unit's id and its ``GET /v1/units/{id}`` bytes."""
    env = app_env(QUALTRACK_DATABASE_URL=database_url)
    with gunicorn("fetch", "api.wsgi:app", env, workers, log_dir) as (process, base_url, log_path):
        wait_ready(process, f"{base_url}/v1/units?limit=1", log_path)
        unit_id = find_unit(base_url)
        return unit_id, get_ok(f"{base_url}/v1/units/{unit_id}")


def parse_duration_ms(text: str) -> float:
    """A wrk duration such as ``812.00us``, ``3.41ms``, ``1.02s`` or ``1.50m``, in milliseconds."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not match:
        raise BenchError(f"cannot read wrk latency {text!r}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}[match.group(2)]
    return float(match.group(1)) * scale


def parse_wrk(output: str, seconds: float) -> LoadResult:
    """Requests, requests/s, p99 and error counts from ``wrk --latency`` output."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    total = re.search(r"^\s+(\d+) requests in", output, re.M)
    if not (rps and p99 and total):
        raise BenchError(f"cannot read wrk output:\n{output}")
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return LoadResult(tool="wrk", requests=int(total.group(1)), seconds=seconds,
                      requests_per_second=float(rps.group(1)), p99_ms=parse_duration_ms(p99.group(1)),
                      bad_status=int(bad.group(1)) if bad else 0,
                      socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0)


def run_wrk(url: str, seconds: float, connections: int, threads: int) -> LoadResult:
    """Load ``url`` with wrk for ``seconds`` over ``connections`` keep-alive connections."""
    command = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{seconds:g}s", "--latency", url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return parse_wrk(done.stdout, seconds)


def percentile(sorted_values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(fraction * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def python_client(url: str, deadline: float, latencies: list[float], counts: dict[str, int]) -> None:
    """One keep-alive connection issuing GETs until ``deadline``, recording latencies and failures."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    mine: list[float] = []
    bad = errors = 0
    try:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                errors += 1
                connection.close()
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
                continue
            mine.append(time.perf_counter() - started)
            bad += response.status != 200
    finally:
        connection.close()
        latencies.extend(mine)
        counts["bad"] += bad
        counts["errors"] += errors


def run_python(url: str, seconds: float, connections: int) -> LoadResult:
    """Load ``url`` from ``connections`` threads for ``seconds`` (fallback when wrk is absent)."""
    latencies: list[float] = []
    counts = {"bad": 0, "errors": 0}
    started = time.perf_counter()
    deadline = started + seconds
    threads = [threading.Thread(target=python_client, args=(url, deadline, latencies, counts))
               for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 30)
    elapsed = time.perf_counter() - started
    latencies.sort()
    return LoadResult(tool="python", requests=len(latencies), seconds=elapsed,
                      requests_per_second=len(latencies) / elapsed, p99_ms=percentile(latencies, 0.99) * 1000,
                      bad_status=counts["bad"], socket_errors=counts["errors"],
                      notes=["Python client in one process (GIL): it may saturate before the server does"])


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


@contextmanager
def postgres_schema(base_url: str):
    """Create a throwaway schema in ``base_url``; yield a database URL that uses it; always drop it."""
    import psycopg2

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    try:
        connection = psycopg2.connect(base_url)
    except psycopg2.Error as exc:
        raise BenchError(f"cannot connect to {base_url}: {exc}") from exc
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE SCHEMA {schema}")
        try:
            separator = "&" if "?" in base_url else "?"
            yield f"{base_url}{separator}options=-c%20search_path%3D{schema}"
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP SCHEMA {schema} CASCADE")
    finally:
        connection.close()


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


def median(values: list[float]) -> float:
    """The median of a non-empty list."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


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


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark, print the table, save the JSON; exit 1 only if the benchmark could not run."""
    args = parse_args(argv)
    try:
        report = run(args)
    except BenchError as exc:
        print(f"unit_read: error: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("unit_read: interrupted (servers stopped, temporary files removed)", file=sys.stderr)
        sys.exit(130)
    print_report(report)
    print(f"\nresults: {write_results(report).relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    main()
