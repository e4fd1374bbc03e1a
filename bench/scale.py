"""How the cost of each request grows from 1% to 100% of a national deployment, on SQLite and PostgreSQL.

For each size (percent of bench/scale_data.NATIONAL) and backend: a fresh database is migrated, loaded with data/units
and with copies of its published units up to 500, and filled in bulk (bench/scale_data.py; COPY on PostgreSQL). A
fixed centre, BENCH, gets the same records at every size through the API: an enrolment on CS 34 with 56 decisions,
countersignatures and IQA samples, and one enrolment per connection to record decisions on. Then every kind of request
runs under bounded load (wrk, one stream per connection, --connections connections against as many gunicorn workers)
for --duration seconds after a second of warm-up, and its p50, p99 and req/s are recorded. Then a 100,000-row learner
import (`qualtrack import-learners`) into a new centre of the full database, timed, with its peak memory; the
resident memory of each worker after the reads; and a check that a sample of stored progress tallies is what the
records derive.

Printed: one table per backend, with the growth ratio (largest size / smallest) of each p99. Written:
bench/results/scale-<timestamp>.json. Exit status 0 means it ran; 1 that it could not, or a response was wrong.

    .venv/bin/python bench/scale.py [--sizes 1 10 100] [--duration 5] [--connections 2] [--postgres URL]
                                    [--no-sqlite]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, nullcontext
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pyspy  # noqa: E402 - beside this script
import scale_data  # noqa: E402
import tracking  # noqa: E402
from harness import (  # noqa: E402
    PROJECT_ROOT,
    RESULTS_DIR,
    UNITS_DIR,
    BenchError,
    call_json,
    find_unit,
    get_ok,
    gunicorn,
    http_request,
    machine,
    postgres_schema,
    prepare_database,
    report_or_exit,
    run_cli,
    run_streams,
    stream_request,
    utc_stamp,
    valid_uln,
    wait_ready,
    write_json,
)
from learner_import import fresh_sqlite, job_rate  # noqa: E402
from learner_import import write_file as write_import_file  # noqa: E402

IMPORT_ROWS = 100_000
QUALIFICATION = PROJECT_ROOT / "tests" / "fixtures" / "qualification.yaml"
ENROLMENT_TREE = ("query ($id: UUID!) { enrolment(id: $id) { id status progress { met criteria "
                  "learningOutcomes { number criteria { number met } } } decisions { id outcome } "
                  "evidence { id title } } }")
TALLY_SAMPLE = 300
CHECK_TALLIES = """
import sys, uuid
from api.config import Settings
from api.cli.group import connect
connect(Settings.from_env())
from api.db import fetch_rows
from api.services.tracking import tallies
ids = [uuid.UUID(str(r[0])) for r in fetch_rows(
    "SELECT CAST(enrolment_id AS TEXT) FROM enrolment_tally ORDER BY random() LIMIT %d")]
ids += [uuid.UUID(str(r[0])) for r in fetch_rows(  # enrolments with no record of assessment
    "SELECT CAST(e.id AS TEXT) FROM enrolment e WHERE NOT EXISTS "
    "(SELECT 1 FROM decision d WHERE d.enrolment_id = e.id) LIMIT 50")]
print(len(ids), len(tallies.drift(ids)))
""".replace("%d", str(TALLY_SAMPLE))


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1, 10, 100],
                        help="percent of a national deployment (default 1 10 100)")
    parser.add_argument("--duration", type=int, default=5, help="measured seconds per kind of request (default 5)")
    parser.add_argument("--connections", type=int, default=2, help="connections, and gunicorn workers (default 2)")
    parser.add_argument("--postgres", metavar="URL", help="also run on this PostgreSQL database (throwaway schemas)")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--no-import", action="store_true", help="leave out the 100,000-row import")
    parser.add_argument("--profile", nargs="+", default=[], metavar="KIND",
                        help="sample these kinds of request (names as in the table) with py-spy while measured; "
                             "the raw stacks are kept in bench/results and summarised in the JSON")
    parser.add_argument("--profile-native", action="store_true", help="with --profile: C frames too (SQLite's)")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        parser.error("wrk is needed (Debian: apt-get install wrk)")
    if args.no_sqlite and not args.postgres:
        parser.error("--no-sqlite needs --postgres")
    return args


def prepare(url: str, percent: float, work: Path) -> dict:
    """Schema, content (500 units), the BENCH centre and its staff, an admin, and the bulk records."""
    started = time.perf_counter()
    prepare_database(url)
    published = sum(1 for p in UNITS_DIR.glob("*.yaml") if "status: published" in p.read_text(encoding="utf-8"))
    clones = work / f"units-{time.monotonic_ns()}"
    scale_data.unit_clones(UNITS_DIR, scale_data.NATIONAL["units"] - published, clones)
    run_cli(url, "load-units", str(clones))
    shutil.rmtree(clones)
    run_cli(url, "load-units", str(QUALIFICATION))
    ids = tracking.create_accounts(url)
    run_cli(url, "create-user", "--email", "admin@bench.test", "--role", "admin",
            env={"QUALTRACK_NEW_PASSWORD": tracking.PASSWORD})
    content_seconds = time.perf_counter() - started
    built = scale_data.build(url, percent / 100)
    return {**built, "ids": ids, "content_seconds": round(content_seconds, 1),
            "total_build_seconds": round(time.perf_counter() - started, 1)}


def api_fixture(base_url: str, ids: dict, connections: int) -> dict:
    """The records measured, made through the API in BENCH: the same at every size."""
    tokens = {role: call_json("POST", f"{base_url}/v1/auth/token", form={
        "grant_type": "password", "username": f"{role}@bench.test", "password": tracking.PASSWORD})["access_token"]
        for role in ("admin", "centre_admin", "assessor", "trainee", "iqa")}
    unit_id = find_unit(base_url)
    criteria = [c["id"] for o in json.loads(get_ok(f"{base_url}/v1/units/{unit_id}"))["learning_outcomes"]
                for c in o["criteria"]]
    reading = tracking.enrol(base_url, tokens, ids, unit_id, criteria, 0)
    tracking.fill_progress_enrolment(base_url, tokens, reading, criteria)
    writing = [tracking.enrol(base_url, tokens, ids, unit_id, criteria, n) for n in range(1, connections + 1)]
    for enrolment in writing:
        for criterion in criteria:
            call_json("POST", f"{base_url}/v1/enrolments/{enrolment['id']}/decisions",
                      tracking.decision_payload(criterion, enrolment["evidence_id"], "not_yet_met", None),
                      token=tokens["assessor"], expect=201)
    learner = call_json("GET", f"{base_url}/v1/enrolments/{reading['id']}", token=tokens["admin"])["learner_id"]
    qualification = call_json("GET", f"{base_url}/v1/qualifications", token=tokens["admin"])["items"][0]["id"]
    return {"tokens": tokens, "unit_id": unit_id, "criteria": criteria, "reading": reading["id"], "learner": learner,
            "writing": writing, "qualification": qualification}


def read_requests(fixture: dict, ids: dict, large_centre: str) -> dict:
    """Each kind of read: (path, role, method, body)."""
    since = quote("2024-09-01T00:00:00Z")
    reading, learner, centre = fixture["reading"], fixture["learner"], ids["centre"]
    return {
        "unit read": (f"/v1/units/{fixture['unit_id']}", None, "GET", None),
        "unit list": ("/v1/units?status=published&limit=50", None, "GET", None),
        "learner list (centre, by name)": (f"/v1/learners?centre_id={centre}&sort=name&limit=50", "centre_admin",
                                           "GET", None),
        "learner list (all, sync)": (f"/v1/learners?sort=updated_at&updated_since={since}&limit=50", "admin", "GET",
                                     None),
        "learner search": ("/v1/learners?q=bench&limit=50", "centre_admin", "GET", None),
        "enrolment progress": (f"/v1/enrolments/{reading}/progress", "assessor", "GET", None),
        "learner progress": (f"/v1/learners/{learner}/progress", "assessor", "GET", None),
        "centre progress (BENCH)": (f"/v1/centres/{centre}/progress", "centre_admin", "GET", None),
        "centre progress (largest)": (f"/v1/centres/{_dashed(large_centre)}/progress", "admin", "GET", None),
        "qualification progress": (f"/v1/learners/{learner}/qualifications/{fixture['qualification']}/progress",
                                   "assessor", "GET", None),
        "decisions of an enrolment": (f"/v1/enrolments/{reading}/decisions", "assessor", "GET", None),
        "decision list (all, sync)": (f"/v1/decisions?sort=updated_at&updated_since={since}&limit=50", "admin", "GET",
                                      None),
        "audit page": ("/v1/audit?limit=50", "admin", "GET", None),
        "change feed page": ("/v1/changes?limit=50", "admin", "GET", None),
        "GraphQL enrolment tree": ("/graphql", "assessor", "POST",
                                   json.dumps({"query": ENROLMENT_TREE, "variables": {"id": reading}})),
    }


def _token(kind: str) -> str:
    """A kind of request as wrk_streams.lua names it: one word."""
    return "".join(c if c.isalnum() else "-" for c in kind)


def _dashed(hex_id: str) -> str:
    return f"{hex_id[:8]}-{hex_id[8:12]}-{hex_id[12:16]}-{hex_id[16:20]}-{hex_id[20:]}"


def measure_kind(base_url: str, streams: list, seconds: int, work: Path, warmup: list | None = None,
                 profile: Path | None = None, master: subprocess.Popen | None = None, native: bool = False) -> dict:
    """p50/p99 and req/s of one kind of request, after a second of ``warmup`` (or the same streams); every answer
    must be 2xx. With ``profile``, the workers of ``master`` are sampled with py-spy while measured (raw stacks to
    that file, summarised under "profile")."""
    run_streams(base_url, 1, warmup or streams, work)
    with pyspy.recording(pyspy.worker_pids(master.pid), profile, native) if profile else nullcontext():
        result = run_streams(base_url, seconds, streams, work, count_responses=True)
    bad = {k: v for k, v in result.counts.items() if not k.split()[-1].startswith("2")}
    if bad or result.socket_errors:
        raise BenchError(f"{streams[0][0]['path']}: answers {result.counts}, socket errors {result.socket_errors}")
    [latency] = result.latency_by_kind.values()
    measured = {"p50_ms": round(latency["p50_ms"], 2), "p99_ms": round(latency["p99_ms"], 2),
                "requests_per_second": round(result.requests_per_second, 1), "answers": latency["answers"]}
    if profile:
        measured["profile"] = {"raw_stacks": str(profile.relative_to(PROJECT_ROOT)),
                               **pyspy.summary(profile, latency["answers"])}
    return measured


def measure_server(url: str, built: dict, args: argparse.Namespace, work: Path, backend: str, percent: float) -> dict:
    env = tracking.qualtrack_env(url)
    results: dict = {}
    with gunicorn("scale", "api.wsgi:app", env, args.connections, work) as (process, base_url, log_path):
        wait_ready(process, f"{base_url}/v1/units?limit=1", log_path)
        fixture = api_fixture(base_url, built["ids"], args.connections)
        reads = read_requests(fixture, built["ids"], built["large_centre"])
        unknown = set(args.profile) - set(reads)
        if unknown:
            raise BenchError(f"--profile names no kind of read: {sorted(unknown)}; the kinds are {list(reads)}")
        for kind, (path, role, method, body) in reads.items():
            headers = {"Authorization": f"Bearer {fixture['tokens'][role]}"} if role else {}
            if body:
                headers["Content-Type"] = "application/json"
            status, _, answer = http_request(method, base_url + path, body=body and body.encode(), headers=headers)
            if status != 200 or b'"errors"' in answer[:200]:
                raise BenchError(f"{kind}: {method} {path} answered {status}: {answer[:300]!r}")
            streams = [[stream_request(_token(kind), method, path, headers=headers, body=body)]] * args.connections
            profile = (RESULTS_DIR / f"pyspy-{args.stamp}-{backend}-{percent:g}-{_token(kind)}.txt.gz"
                       if kind in args.profile else None)
            results[kind] = measure_kind(base_url, streams, args.duration, work, profile=profile, master=process,
                                         native=args.profile_native)
        results["decision write"] = measure_kind(base_url, decision_streams(fixture, args.connections),
                                                 args.duration, work)
        results["learner create"] = measure_kind(base_url, learner_streams(fixture, built["ids"], args, 1),
                                                 args.duration, work, learner_streams(fixture, built["ids"], args, 0))
        rss = worker_rss_mb(process)
    return {"requests": results, "worker_rss_mb": rss}


def decision_streams(fixture: dict, connections: int) -> list:
    headers = {"Authorization": f"Bearer {fixture['tokens']['assessor']}", "Content-Type": "application/json"}
    return [[stream_request("write", "POST", f"/v1/enrolments/{enrolment['id']}/decisions", headers=headers,
                            body=json.dumps(tracking.decision_payload(criterion, enrolment["evidence_id"])))
             for criterion in fixture["criteria"]] for enrolment in fixture["writing"][:connections]]


def learner_streams(fixture: dict, ids: dict, args: argparse.Namespace, run: int) -> list:
    """Distinct learners (a ULN each) for every request a run (0: the warm-up) can send: no create is a replay."""
    headers = {"Authorization": f"Bearer {fixture['tokens']['centre_admin']}", "Content-Type": "application/json"}
    per_stream = 800 * (args.duration + 1)
    first = 10_000 + run * per_stream * args.connections
    return [[stream_request("create", "POST", "/v1/learners", headers=headers, body=json.dumps({
        "centre_id": ids["centre"], "uln": valid_uln(first + stream * per_stream + n), "given_name": f"New{n}",
        "family_name": "Created"})) for n in range(per_stream)] for stream in range(args.connections)]


def worker_rss_mb(master: subprocess.Popen) -> list[float]:
    """Resident memory of each gunicorn worker, in MiB."""
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    sizes = []
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(round(int(line.split()[1]) / 1024, 1))
    return sorted(sizes)


def timed_import(url: str, work: Path) -> dict:
    """A 100,000-row learner import into a new centre of the full database: rows/s and peak memory."""
    run_cli(url, "create-centre", "--code", "IMPORT", "--name", "Import centre")
    data = work / "scale-import.csv"
    if not data.exists():
        write_import_file(data, IMPORT_ROWS)
    os.sync()
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "api.cli", "import-learners", str(data), "--centre", "IMPORT"],
                             cwd=PROJECT_ROOT, env=tracking.qualtrack_env(url), stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
    peak_kb = tree_peak_memory(child)
    wall = time.perf_counter() - started
    if child.returncode != 0:
        raise BenchError(f"import-learners failed:\n{child.stderr.read().decode()[-2000:]}")
    child.stderr.close()
    return {"rows": IMPORT_ROWS, "seconds": round(wall, 1), "rows_per_second": round(IMPORT_ROWS / wall),
            "rows_per_second_import": round(job_rate(url)), "peak_rss_mb": round(peak_kb["process"] / 1024, 1),
            "peak_tree_rss_mb": round(peak_kb["tree"] / 1024, 1)}


def tree_peak_memory(child: subprocess.Popen) -> dict:
    """Wait for ``child``, polling /proc: the largest peak resident memory (VmHWM) of it or any of its descendants,
    and the largest total resident memory of them together, in kB. (Not ru_maxrss: a child forked from this large
    process inherits its high-water mark until it runs the new program, so it would report this process's size.)"""
    peak = {"process": 0, "tree": 0}
    while child.poll() is None:
        tree = _descendants(child.pid)
        sizes = [_status_kb(pid, "VmHWM:") for pid in tree], [_status_kb(pid, "VmRSS:") for pid in tree]
        peak = {"process": max(peak["process"], *sizes[0], 0), "tree": max(peak["tree"], sum(sizes[1]))}
        time.sleep(0.05)  # a sampling interval: VmHWM keeps each process's peak between samples
    return peak


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    children: dict = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        found.append(current := queue.pop())
        queue += children.get(current, [])
    return found


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def check_tallies(url: str) -> dict:
    done = subprocess.run([sys.executable, "-c", CHECK_TALLIES], cwd=PROJECT_ROOT, env=tracking.qualtrack_env(url),
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchError(f"the tally check failed:\n{done.stderr[-2000:]}")
    checked, drifted = (int(v) for v in done.stdout.split())
    if drifted:
        raise BenchError(f"{drifted} of {checked} sampled enrolments have a tally their records do not derive")
    return {"checked": checked, "drifted": drifted}


def run_size(url: str, percent: float, args: argparse.Namespace, work: Path, backend: str) -> dict:
    print(f"  {percent:g}%: building ...", flush=True)
    built = prepare(url, percent, work)
    print(f"  {percent:g}%: built in {built['total_build_seconds']} s {built['rows']}", flush=True)
    served = measure_server(url, built, args, work, backend, percent)
    report = {"percent": percent, "build": {k: v for k, v in built.items() if k != "ids"}, **served,
              "tallies": check_tallies(url)}
    if not args.no_import:
        report["import"] = timed_import(url, work)
    return report


def print_table(backend: str, sizes: list[dict]) -> None:
    first, last = sizes[0], sizes[-1]
    heads = " | ".join(f"{s['percent']:g}% p50 / p99 ms" for s in sizes)
    print(f"\n{backend}\n| request | {heads} | p99 growth {last['percent']:g}% / {first['percent']:g}% |")
    print("|---|" + "---|" * (len(sizes) + 1))
    for kind in first["requests"]:
        cells = " | ".join(f"{s['requests'][kind]['p50_ms']:.1f} / {s['requests'][kind]['p99_ms']:.1f}"
                           for s in sizes)
        growth = last["requests"][kind]["p99_ms"] / max(first["requests"][kind]["p99_ms"], 1e-9)
        print(f"| {kind} | {cells} | {growth:.2f}x |")
    if "import" in first:
        print("| learner import 100k, rows/s of the job (peak MB of one process / of all together) | " + " | ".join(
            f"{s['import']['rows_per_second_import']:,} ({s['import']['peak_rss_mb']} / "
            f"{s['import']['peak_tree_rss_mb']})" for s in sizes) + " | |")
    print("| worker RSS, MB | " + " | ".join(str(s["worker_rss_mb"]) for s in sizes) + " | |")
    print("| build, s | " + " | ".join(str(s["build"]["total_build_seconds"]) for s in sizes) + " | |")


def run(args: argparse.Namespace) -> dict:
    stamp = args.stamp = utc_stamp()
    report = {"bench": "scale", "measured_at": stamp, "machine": machine(), "national": scale_data.NATIONAL,
              "duration_seconds": args.duration, "connections": args.connections, "backends": {}}
    with tempfile.TemporaryDirectory(prefix="scale-", dir=PROJECT_ROOT / "instance"
                                     if (PROJECT_ROOT / "instance").is_dir() else None) as tmp:
        work = Path(tmp)
        backends = ([] if args.no_sqlite else [("sqlite", lambda: fresh_sqlite(work))]) + (
            [("postgresql", lambda: postgres_schema(args.postgres))] if args.postgres else [])
        for backend, make in backends:
            print(f"{backend}:", flush=True)
            sizes = []
            report["backends"][backend] = sizes
            for percent in args.sizes:
                with ExitStack() as stack:
                    sizes.append(run_size(stack.enter_context(make()), percent, args, work, backend))
                print_table(backend, sizes)
                path = write_json("scale", report, stamp)  # after every size: a long run keeps what it measured
    print(f"\nwritten to {path}")
    return report


if __name__ == "__main__":
    report_or_exit("scale", lambda: run(parse_args()))
