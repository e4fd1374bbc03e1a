"""What every benchmark here shares: gunicorn servers on free 127.0.0.1 ports (always stopped), temporary databases
and throwaway PostgreSQL schemas (always dropped), HTTP helpers, wrk runs (plain, or driven by bench/wrk_streams.lua
with per-connection request streams, pacing and an exact count of the requests sent), medians, and JSON results.

Nothing here measures anything by itself: see unit_read.py, graphql_read.py, tracking.py, mixed_load.py and
run_all.py.
"""

import http.client
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
UNITS_DIR = PROJECT_ROOT / "data" / "units"
RESULTS_DIR = BENCH_DIR / "results"
STREAMS_SCRIPT = BENCH_DIR / "wrk_streams.lua"
HOST = "127.0.0.1"
UNIT_CODE = "CS 34"
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
WRK_TIMEOUT_SECONDS = 2  # wrk's default --timeout: a slower response is counted as a timeout (a socket error)


def valid_uln(n: int) -> str:
    """A valid ULN for each n, different for different n: the first stem from 100,000,000 + 13n up that takes a check
    digit (the project's own rule, api.services.tracking.uln, decides)."""
    sys.path.insert(0, str(PROJECT_ROOT))
    from api.services.tracking.uln import uln_problem

    stem = 100_000_000 + n * 13
    while True:
        for digit in "0123456789":
            if uln_problem(f"{stem}{digit}") is None:
                return f"{stem}{digit}"
        stem += 1


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
    counts: dict[str, int] = field(default_factory=dict)  # "kind status" -> responses (wrk_streams.lua, if asked)
    latency_by_kind: dict[str, dict] = field(default_factory=dict)  # kind -> answers, p50/p99/max ms (ditto)


def stop_on_sigterm() -> None:
    """Make SIGTERM interrupt like Ctrl-C, so that a terminated run still stops its servers (which run in their own
    sessions), drops its PostgreSQL schemas and removes its temporary files."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def report_or_exit(name: str, produce: Callable[[], dict]) -> dict:
    """What a benchmark's main() shares: ``produce()``'s report, with SIGTERM made to interrupt like Ctrl-C. If the
    benchmark cannot run (a BenchError), say why and exit 1; if interrupted, exit 130. Either way its servers have
    been stopped and its temporary files removed on the way out."""
    stop_on_sigterm()
    try:
        return produce()
    except BenchError as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print(f"{name}: interrupted (servers stopped, temporary files removed)", file=sys.stderr)
        sys.exit(130)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def app_env(**extra: str) -> dict[str, str]:
    """This process's environment plus ``extra``; QUALTRACK_ENV=test unless set (a bench signs its own tokens with
    the test key, and the app refuses that in production, its default)."""
    return {"QUALTRACK_ENV": "test", **os.environ, **extra}


def run_cli(database_url: str, *args: str, env: dict[str, str] | None = None) -> str:
    """Run ``python -m api.cli ARGS`` against ``database_url``; return its stdout; raise with its output if it
    fails."""
    command = [sys.executable, "-m", "api.cli", *args]
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True,
                          env={**app_env(QUALTRACK_DATABASE_URL=database_url), **(env or {})})
    if done.returncode != 0:
        raise BenchError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def prepare_database(database_url: str) -> None:
    """Create the schema and load data/units into ``database_url``."""
    run_cli(database_url, "init-db")
    run_cli(database_url, "load-units", str(UNITS_DIR))


def http_request(method: str, url: str, *, body: bytes | None = None, headers: dict[str, str] | None = None,
                 timeout: float = 10.0) -> tuple[int, dict[str, str], bytes]:
    """One request: (status, headers, body); HTTP error statuses are returned, not raised."""
    request = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """One GET: (status, body); HTTP error statuses are returned, not raised."""
    status, _, body = http_request("GET", url, timeout=timeout)
    return status, body


def get_ok(url: str, headers: dict[str, str] | None = None) -> bytes:
    """GET ``url`` and return its body; raise unless the status is 200."""
    status, _, body = http_request("GET", url, headers=headers, timeout=5.0)
    if status != 200:
        raise BenchError(f"GET {url} answered {status}: {body[:300]!r}")
    return body


def call_json(method: str, url: str, payload=None, *, token: str | None = None, expect: int = 200,
              form: dict[str, str] | None = None) -> dict:
    """Send JSON (or a form) and return the decoded JSON answer; raise unless the status is ``expect``."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif payload is not None:
        body = json.dumps(payload).encode()
        headers["Content-Type"] = "application/json"
    status, _, answer = http_request(method, url, body=body, headers=headers)
    if status != expect:
        raise BenchError(f"{method} {url} answered {status}, not {expect}: {answer[:500]!r}")
    return json.loads(answer) if answer else {}


@contextmanager
def gunicorn(label: str, app_spec: str, env: dict[str, str], workers: int, log_dir: Path, extra: tuple = ()):
    """Run ``app_spec`` under gunicorn on a free 127.0.0.1 port; yield (process, base URL, log path); always stop
    it."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "--worker-class", "sync", "--workers", str(workers),
               "--bind", f"{HOST}:{port}", "--log-level", "warning", *extra, app_spec]
    log_path = log_dir / f"{label}.log"
    with open(log_path, "ab") as log:
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


def server_cpu_seconds(process: subprocess.Popen) -> tuple[float, float]:
    """User and system CPU seconds used so far by a gunicorn master and its workers (Linux /proc; what a worker used
    before it exited is lost, so read it around a run in which none restarts)."""
    tick = os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    user = system = 0.0
    for pid in [process.pid, *map(int, children)]:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        user, system = user + int(fields[11]) / tick, system + int(fields[12]) / tick
    return user, system


def local_postgres_cpu_seconds() -> float:
    """User and system CPU seconds used so far by this machine's PostgreSQL processes (the server and its backends,
    Linux /proc; 0.0 where none runs here). Read around a run, it tells what the database did for it."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, fields = stat.read_text().split(" (", 1)[1].rsplit(")", 1)
        except (OSError, IndexError, ValueError):  # the process ended while being read
            continue
        if name == "postgres":
            values = fields.split()
            total += (int(values[11]) + int(values[12])) / tick
    return total


def log_tail(log_path: Path, chars: int = 4000) -> str:
    """The end of a server log, for error messages."""
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    return text[-chars:]


def wait_ready(process: subprocess.Popen, url: str, log_path: Path) -> None:
    """Poll ``url`` until it answers 200; raise if the server exits or the timeout passes."""
    deadline = time.monotonic() + READY_TIMEOUT
    last = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"server exited with {process.returncode}:\n{log_tail(log_path)}")
        try:
            status, _ = http_get(url, timeout=1.0)
            if status == 200:
                return
            last = f"status {status}"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.1)
    raise BenchError(f"{url} not ready after {READY_TIMEOUT:.0f}s ({last}):\n{log_tail(log_path)}")


def ensure_running(label: str, process: subprocess.Popen, log_path: Path) -> None:
    """Raise if a server exited while it was being measured."""
    if process.poll() is not None:
        raise BenchError(f"{label}: server exited during the run:\n{log_tail(log_path)}")


def find_unit(base_url: str, code: str = UNIT_CODE) -> str:
    """The id of the unit with this code, from ``GET /v1/units?code=...``."""
    items = json.loads(get_ok(f"{base_url}/v1/units?code={urllib.parse.quote(code)}"))["items"]
    if not items:
        raise BenchError(f"no unit with code {code!r} was loaded")
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
    """Requests, requests/s, p99, error counts and wrk_streams.lua's response counts from ``wrk --latency``
    output."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    total = re.search(r"^\s+(\d+) requests in", output, re.M)
    if not (rps and p99 and total):
        raise BenchError(f"cannot read wrk output:\n{output}")
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    counts: dict[str, int] = {}
    for kind, status, number in re.findall(r"^BENCH-COUNT \d+ (\S+) (\d+) (\d+)$", output, re.M):
        counts[f"{kind} {status}"] = counts.get(f"{kind} {status}", 0) + int(number)
    return LoadResult(tool="wrk", requests=int(total.group(1)), seconds=seconds,
                      requests_per_second=float(rps.group(1)), p99_ms=parse_duration_ms(p99.group(1)),
                      bad_status=int(bad.group(1)) if bad else 0,
                      socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0, counts=counts)


def run_wrk(url: str, seconds: float, connections: int, threads: int = 1, *, script: Path | None = None,
            env: dict[str, str] | None = None, headers: tuple[str, ...] = (), with_output: bool = False):
    """Load ``url`` with wrk for ``seconds`` (whole seconds: wrk takes no fractions) over ``connections``
    connections, optionally with a Lua ``script`` and extra ``headers`` ("Name: value"). Returns the LoadResult,
    or (LoadResult, wrk's output) ``with_output``."""
    command = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{math.ceil(seconds)}s", "--latency"]
    for header in headers:
        command += ["-H", header]
    if script is not None:
        command += ["-s", str(script)]
    done = subprocess.run([*command, url], capture_output=True, text=True, timeout=seconds + 60,
                          env={**os.environ, **(env or {})})
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    result = parse_wrk(done.stdout, seconds)
    return (result, done.stdout) if with_output else result


def lua_value(value) -> str:
    """``value`` (dict, list, str, int, float, bool, None) as a Lua expression."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        escaped = "".join(ch if ch.isprintable() and ch not in '"\\' or ord(ch) > 127
                          else "".join(f"\\{b:03d}" for b in ch.encode()) for ch in value)
        return f'"{escaped}"'
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{lua_value(str(k))}] = {lua_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "{" + ", ".join(lua_value(v) for v in value) + "}"
    raise TypeError(f"no Lua form for {type(value).__name__}")


def stream_request(kind: str, method: str, path: str, *, headers: dict[str, str] | None = None,
                   body: bytes | str | None = None) -> dict:
    """One request of a wrk_streams.lua stream; ``kind`` names it in the response counts."""
    text = body.decode() if isinstance(body, bytes) else body
    return {"kind": kind, "method": method, "path": path, "headers": dict(headers or {}), "body": text}


def run_streams(base_url: str, seconds: float, streams: list[list[dict]], work_dir: Path, *, period_ms: float = 0.0,
                count_responses: bool = False) -> LoadResult:
    """Load ``base_url`` through bench/wrk_streams.lua: one wrk thread and one connection per stream, each cycling
    through its own stream of requests; closed loop, or paced at one request per ``period_ms`` per connection.

    No request is sent after ``seconds``; wrk then runs WRK_TIMEOUT_SECONDS longer so that every request sent is
    answered (or counted as a timeout) before wrk reports. So the server holds exactly the writes of the 2xx answers
    wrk counted, and requests/s is computed over the sending window (from the first thread's start), not over wrk's
    whole run. ``count_responses`` makes the script count answers per kind and status (LoadResult.counts), at the
    cost of wrk handing every response to Lua."""
    config_path = work_dir / f"wrk-config-{uuid.uuid4().hex[:8]}.lua"
    stop_at = time.time() + seconds
    settings = {"stop_at": round(stop_at * 1000, 3), "period_ms": float(period_ms),
                "count_responses": count_responses, "streams": streams}
    config_path.write_text(f"bench = {lua_value(settings)}\n")
    try:
        wrk_seconds = math.ceil(stop_at - time.time()) + WRK_TIMEOUT_SECONDS
        result, output = run_wrk(base_url, wrk_seconds, len(streams), len(streams), script=STREAMS_SCRIPT,
                                 env={"BENCH_WRK_CONFIG": str(config_path)}, with_output=True)
    finally:
        config_path.unlink(missing_ok=True)
    starts = [float(ms) / 1000 for ms in re.findall(r"^BENCH-START \d+ ([\d.]+)$", output, re.M)]
    if len(starts) != len(streams):
        raise BenchError(f"wrk_streams.lua reported {len(starts)} thread starts for {len(streams)} threads:\n{output}")
    window = stop_at - min(starts)
    result.notes.append(f"wrk's own req/s over its {wrk_seconds}s run: {result.requests_per_second:.1f}")
    result.seconds = window
    result.requests_per_second = result.requests / window
    if count_responses and sum(result.counts.values()) != result.requests:
        raise BenchError(f"wrk_streams.lua counted {sum(result.counts.values())} responses, wrk {result.requests}")
    latencies: dict[str, list[float]] = {}
    for kind, values in re.findall(r"^BENCH-LATENCY \d+ (\S+) ([\d.,]+)$", output, re.M):
        latencies.setdefault(kind, []).extend(float(v) for v in values.split(","))
    for kind, values in latencies.items():
        values.sort()
        result.latency_by_kind[kind] = {"answers": len(values), "p50_ms": percentile(values, 0.50),
                                        "p99_ms": percentile(values, 0.99), "max_ms": values[-1]}
    return result


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


def require_clean(label: str, result: LoadResult) -> LoadResult:
    """Raise if any response was not 2xx/3xx, any socket failed or timed out, or nothing completed."""
    if result.bad_status or result.socket_errors:
        raise BenchError(f"{label}: {result.bad_status} responses were not 2xx/3xx and {result.socket_errors} "
                         f"socket errors or timeouts, out of {result.requests} requests")
    if result.requests == 0:
        raise BenchError(f"{label}: no request completed")
    return result


def median(values: list[float]) -> float:
    """The median of a non-empty list."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def postgres_reachable(url: str) -> str | None:
    """None if ``url`` accepts a connection, else why not."""
    import psycopg

    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.Error as exc:
        return str(exc).strip() or type(exc).__name__
    return None


@contextmanager
def postgres_schema(base_url: str):
    """Create a throwaway schema in ``base_url``; yield a database URL that uses it; always drop it."""
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    try:
        connection = psycopg.connect(base_url)
    except psycopg.Error as exc:
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


def count_rows(database_url: str, sql: str, params: tuple = ()) -> int:
    """``SELECT count(*) ...`` straight on the database (its own connection, outside the server); ``params`` use
    ``%s`` placeholders."""
    if database_url.startswith("sqlite:///"):
        import sqlite3

        connection = sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=30)
        try:
            return connection.execute(sql.replace("%s", "?"), params).fetchone()[0]
        finally:
            connection.close()
    import psycopg

    connection = psycopg.connect(database_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]
    finally:
        connection.close()


def utc_stamp() -> str:
    """Now, as 20261123T152133Z (for file names and the ``measured_at`` fields)."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def machine() -> dict:
    """What the figures were measured on."""
    return {"cpu_count": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "wrk": shutil.which("wrk")}


def write_json(prefix: str, report: dict, stamp: str | None = None) -> Path:
    """Write ``report`` to bench/results/<prefix>-<UTC timestamp>.json and return the path."""
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{prefix}-{stamp or utc_stamp()}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    return path

