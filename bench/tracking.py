"""Benchmark the tracking endpoints against bare Flask answering the same bytes, and print ratios and p99:

- decision write, ``POST /v1/enrolments/{id}/decisions`` as an assessor (target >= 30% of bare Flask on SQLite,
  with p99 <= 15 ms; PostgreSQL's ratio is reported). After every measured run, the decisions in the database must
  have grown by exactly the number of 2xx responses wrk counted.
- progress read, ``GET /v1/enrolments/{id}/progress`` of a CS 34 enrolment with 56 decisions, countersignatures and
  IQA samples (no target: ratio and p99 reported).

Both apps run under gunicorn with the same settings as bench/unit_read.py (sync workers, one per core), one after the
other, on fresh servers, for --rounds rounds (baseline, then SQLite, then PostgreSQL with --postgres); the ratios
reported are the medians of the rounds' ratios. wrk is required (the POST needs a Lua script). Results are printed and
written to bench/results/tracking-<timestamp>.json. Exit status 0 means the benchmark ran (whether or not the target
was met); 1 means it could not run, or a response was wrong, or writes were lost or duplicated. Each row also gives
the CPU time a request cost the app (gunicorn's master and workers) and, on PostgreSQL on this machine, the database
server (its backends): on a machine whose cores the load generator, the app and the database share, throughput
follows their sum.

    .venv/bin/python bench/tracking.py [--duration 10] [--connections 4] [--rounds 3] [--postgres URL]
"""

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import (  # noqa: E402 - the shared harness lives beside this script
    BENCH_DIR,
    PROJECT_ROOT,
    UNIT_CODE,
    BenchError,
    LoadResult,
    app_env,
    call_json,
    count_rows,
    ensure_running,
    find_unit,
    get_ok,
    gunicorn,
    http_request,
    local_postgres_cpu_seconds,
    machine,
    median,
    postgres_schema,
    prepare_database,
    report_or_exit,
    require_clean,
    run_cli,
    run_streams,
    run_wrk,
    server_cpu_seconds,
    stream_request,
    utc_stamp,
    valid_uln,
    wait_ready,
    write_json,
)

WRITE_TARGET = 0.30  # of bare Flask's req/s, on SQLite
WRITE_P99_TARGET_MS = 15.0
PASSWORD = "bench password 1234"
# Bench servers sign tokens for a day: one token per role serves every server of the run. What a request costs to
# check a token (signature, expiry, revocation lookup) does not depend on its lifetime.
SERVER_ENV = {"QUALTRACK_ACCESS_TOKEN_SECONDS": "86400"}
FEEDBACK = ("Observed the learner plan the rota with the team leader; the record and the witness statement show each "
            "step of the criterion.")
REASON = "Further evidence reviewed with the learner at the progress review."
CONTRACT = yaml.safe_load((PROJECT_ROOT / "openapi.yaml").read_text())["components"]["schemas"]
DECISIONS_SQL = "SELECT count(*) FROM decision"


@dataclass
class Fixture:
    """A database ready for tracking load: accounts with tokens, enrolments on CS 34 with claimed evidence, a
    'realistic' enrolment to read the progress of, and one enrolment per load connection to record decisions on."""

    database_url: str
    unit_id: str
    unit_body: bytes
    criteria: list[str]
    tokens: dict[str, str]
    progress_enrolment: str
    progress_body: bytes
    progress_decisions: int
    write_enrolments: list[dict] = field(default_factory=list)  # {"id", "evidence_id"}
    decision_sample: bytes = b""
    decision_location: str = ""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of measured load per run (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load first (default 2)")
    parser.add_argument("--connections", type=int, default=4, help="concurrent connections (default 4)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="baseline-then-qualtrack rounds; the ratios reported are their medians (default 3)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="gunicorn sync workers for both apps (default: one per core)")
    parser.add_argument("--postgres", metavar="URL",
                        help="also run the qualtrack side on this PostgreSQL database, in a throwaway schema")
    args = parser.parse_args(argv)
    if min(args.duration, args.connections, args.rounds, args.workers) <= 0 or args.warmup < 0:
        parser.error("--duration, --connections, --rounds and --workers must be positive, --warmup >= 0")
    if shutil.which("wrk") is None:
        parser.error("wrk is needed (Debian: apt-get install wrk)")
    return args


def qualtrack_env(database_url: str) -> dict[str, str]:
    return app_env(QUALTRACK_DATABASE_URL=database_url, **SERVER_ENV)


def create_accounts(database_url: str) -> dict[str, str]:
    """A centre and its staff through the CLI; returns the centre id and each account's id, by role."""
    ids = {"centre": re.search(r": (\S+)$", run_cli(database_url, "create-centre", "--code", "BENCH", "--name",
                                                    "Bench centre").strip()).group(1)}
    people = {"centre_admin": ["--role", "centre_admin"],
              "assessor": ["--role", "assessor", "--assessor-status", "qualified"],
              "trainee": ["--role", "assessor", "--assessor-status", "trainee"],
              "iqa": ["--role", "iqa"]}
    for name, options in people.items():
        out = run_cli(database_url, "create-user", "--email", f"{name}@bench.test", *options, "--centre", "BENCH",
                      env={"QUALTRACK_NEW_PASSWORD": PASSWORD})
        ids[name] = re.search(r"^account \S+: (\S+) ", out, re.M).group(1)
    return ids


def decision_payload(criterion: str, evidence_id: str, outcome: str = "met", reason: str | None = REASON) -> dict:
    return {"criterion_id": criterion, "outcome": outcome, "feedback": FEEDBACK, "evidence_ids": [evidence_id],
            **({"reason": reason} if reason else {})}


def enrol(base_url: str, tokens: dict, ids: dict, unit_id: str, criteria: list[str], n: int) -> dict:
    """A learner, their enrolment on the unit (assessor, trainee, IQA assigned) and evidence claiming every
    criterion, made by the centre admin through the API."""
    admin = tokens["centre_admin"]
    learner = call_json("POST", f"{base_url}/v1/learners", {
        "centre_id": ids["centre"], "uln": valid_uln(n), "given_name": f"Learner{n}", "family_name": "Bench"},
        token=admin, expect=201)
    enrolment = call_json("POST", f"{base_url}/v1/enrolments", {
        "learner_id": learner["id"], "unit_id": unit_id, "start_date": "2026-09-01",
        "planned_end_date": "2027-07-31", "assessor_ids": [ids["assessor"], ids["trainee"]],
        "iqa_ids": [ids["iqa"]]}, token=admin, expect=201)
    evidence = call_json("POST", f"{base_url}/v1/enrolments/{enrolment['id']}/evidence", {
        "type": "professional_discussion", "title": "Discussion with the line manager", "date": "2026-10-01",
        "reference_uri": "https://portfolio.example.test/items/42", "authenticity_declared": True,
        "criterion_ids": criteria}, token=admin, expect=201)
    return {"id": enrolment["id"], "evidence_id": evidence["id"]}


def fill_progress_enrolment(base_url: str, tokens: dict, enrolment: dict, criteria: list[str]) -> int:
    """A learner near the end of the unit: not_yet_met on every criterion, then met (two by the trainee, one of them
    countersigned), and two IQA samples, one confirmed. Returns the number of decisions."""
    url = f"{base_url}/v1/enrolments/{enrolment['id']}/decisions"
    decisions = 0
    for criterion in criteria:
        call_json("POST", url, decision_payload(criterion, enrolment["evidence_id"], "not_yet_met", None),
                  token=tokens["assessor"], expect=201)
        decisions += 1
    met = []
    for number, criterion in enumerate(criteria):
        who = "trainee" if number in (3, 4) else "assessor"
        met.append(call_json("POST", url, decision_payload(criterion, enrolment["evidence_id"]), token=tokens[who],
                             expect=201))
        decisions += 1
    call_json("POST", f"{base_url}/v1/decisions/{met[3]['id']}/countersign", token=tokens["assessor"])
    for number in (0, 10):
        sample = call_json("POST", f"{base_url}/v1/iqa/samples", {"decision_id": met[number]["id"]},
                           token=tokens["iqa"], expect=201)
        if number == 0:
            call_json("POST", f"{base_url}/v1/iqa/samples/{sample['id']}/verdict", {"verdict": "confirmed"},
                      token=tokens["iqa"])
    return decisions


def prepare_fixture(database_url: str, write_enrolments: int, workers: int, work_dir: Path) -> Fixture:
    """Create, load and fill ``database_url`` through the CLI and the API (a server that is stopped afterwards)."""
    prepare_database(database_url)
    ids = create_accounts(database_url)
    with gunicorn("prepare", "api.wsgi:app", qualtrack_env(database_url), workers, work_dir) as (process, base_url,
                                                                                                   log_path):
        wait_ready(process, f"{base_url}/v1/units?limit=1", log_path)
        tokens = {role: call_json("POST", f"{base_url}/v1/auth/token", form={
            "grant_type": "password", "username": f"{role}@bench.test", "password": PASSWORD})["access_token"]
            for role in ("centre_admin", "assessor", "trainee", "iqa")}
        unit_id = find_unit(base_url)
        unit_body = get_ok(f"{base_url}/v1/units/{unit_id}")
        criteria = [c["id"] for o in json.loads(unit_body)["learning_outcomes"] for c in o["criteria"]]
        reading = enrol(base_url, tokens, ids, unit_id, criteria, 0)
        decisions = fill_progress_enrolment(base_url, tokens, reading, criteria)
        writing = [enrol(base_url, tokens, ids, unit_id, criteria, n) for n in range(1, write_enrolments + 1)]
        for enrolment in writing:  # a first decision everywhere: every decision under load supersedes one
            for criterion in criteria:
                call_json("POST", f"{base_url}/v1/enrolments/{enrolment['id']}/decisions",
                          decision_payload(criterion, enrolment["evidence_id"], "not_yet_met", None),
                          token=tokens["assessor"], expect=201)
        fixture = Fixture(database_url, unit_id, unit_body, criteria, tokens, reading["id"], b"", decisions, writing)
        fixture.progress_body = check_progress(base_url, fixture, None)
        fixture.decision_sample, fixture.decision_location = check_decision(base_url, fixture, None)
    return fixture


def progress_path(fixture: Fixture) -> str:
    return f"/v1/enrolments/{fixture.progress_enrolment}/progress"


def bearer(fixture: Fixture) -> dict[str, str]:
    return {"Authorization": f"Bearer {fixture.tokens['assessor']}"}


def check_progress(base_url: str, fixture: Fixture, expected: bytes | None) -> bytes:
    """GET the progress twice: 200, the contract's fields, the same bytes each time (and ``expected`` if given)."""
    first = get_ok(base_url + progress_path(fixture), bearer(fixture))
    if get_ok(base_url + progress_path(fixture), bearer(fixture)) != first:
        raise BenchError("two reads of the same progress gave different bytes")
    document = json.loads(first)
    missing = set(CONTRACT["EnrolmentProgress"]["required"]) - set(document)
    if missing or document["enrolment_id"] != fixture.progress_enrolment:
        raise BenchError(f"the progress answer lacks {sorted(missing)} or is another enrolment's: {first[:300]!r}")
    if expected is not None and first != expected:
        raise BenchError(f"the progress served {len(first)} bytes, not the {len(expected)} expected")
    return first


def decision_streams(fixture: Fixture, connections: int) -> list[list[dict]]:
    """One stream per connection, each on its own enrolment (so no two requests in flight ever race for the same
    criterion's next sequence number), going round its criteria."""
    streams = []
    for number in range(connections):
        enrolment = fixture.write_enrolments[number % len(fixture.write_enrolments)]
        headers = {**bearer(fixture), "Content-Type": "application/json"}
        streams.append([stream_request("write", "POST", f"/v1/enrolments/{enrolment['id']}/decisions",
                                       headers=headers,
                                       body=json.dumps(decision_payload(criterion, enrolment["evidence_id"])))
                        for criterion in fixture.criteria])
    return streams


def post_decision(base_url: str, fixture: Fixture, criterion: str) -> tuple[int, dict, bytes]:
    enrolment = fixture.write_enrolments[0]
    return http_request("POST", f"{base_url}/v1/enrolments/{enrolment['id']}/decisions",
                        body=json.dumps(decision_payload(criterion, enrolment["evidence_id"])).encode(),
                        headers={**bearer(fixture), "Content-Type": "application/json"})


def check_decision(base_url: str, fixture: Fixture, expected: bytes | None) -> tuple[bytes, str]:
    """POST one decision: 201 with the contract's fields, a Location to it, and the decision asked for (or, for the
    baseline, exactly ``expected``). Returns the body and Location."""
    criterion = fixture.criteria[-1]
    status, headers, body = post_decision(base_url, fixture, criterion)
    if status != 201:
        raise BenchError(f"POST decision answered {status}, not 201: {body[:500]!r}")
    if expected is not None:
        if body != expected:
            raise BenchError(f"the baseline answered {len(body)} bytes, not the {len(expected)} expected")
        return body, headers.get("Location", "")
    decision = json.loads(body)
    missing = set(CONTRACT["Decision"]["required"]) - set(decision)
    wanted = {"enrolment_id": fixture.write_enrolments[0]["id"], "criterion_id": criterion, "outcome": "met",
              "reason": REASON, "in_effect": True}
    wrong = {k: decision.get(k) for k, v in wanted.items() if decision.get(k) != v}
    if missing or wrong or not decision["supersedes"] or decision["sequence"] < 2:
        raise BenchError(f"the decision answer lacks {sorted(missing)} or has {wrong}: {body[:500]!r}")
    if headers.get("Location") != decision["href"]:
        raise BenchError(f"Location {headers.get('Location')!r} is not the decision's href {decision['href']!r}")
    return body, headers["Location"]


def baseline_routes(fixture: Fixture, work_dir: Path) -> Path:
    """bare_app's routes: the progress bytes at the same path, and the decision answer (201, Location) for a POST
    to any enrolment's decisions."""
    (work_dir / "progress.json").write_bytes(fixture.progress_body)
    (work_dir / "decision.json").write_bytes(fixture.decision_sample)
    routes = [{"rule": progress_path(fixture), "method": "GET", "file": str(work_dir / "progress.json")},
              {"rule": "/v1/enrolments/<enrolment_id>/decisions", "method": "POST",
               "file": str(work_dir / "decision.json"), "status": 201,
               "headers": {"Location": fixture.decision_location}}]
    path = work_dir / "bare-routes.json"
    path.write_text(json.dumps(routes))
    return path


@dataclass
class Side:
    """One app to measure: the baseline, or qualtrack on one database."""

    key: str
    label: str
    app_spec: str
    env: dict[str, str]
    extra: tuple = ()
    database_url: str | None = None  # None for the baseline, which writes nothing


def measure_writes(side: Side, base_url: str, fixture: Fixture, seconds: int, connections: int,
                   work_dir: Path) -> tuple[LoadResult, dict]:
    """Decision-write load for ``seconds``; for qualtrack, the decisions recorded must equal the 2xx answers."""
    before = count_rows(side.database_url, DECISIONS_SQL) if side.database_url else None
    result = run_streams(base_url, seconds, decision_streams(fixture, connections), work_dir)
    require_clean(f"{side.label}: decision write", result)
    check = {}
    if side.database_url:
        recorded = count_rows(side.database_url, DECISIONS_SQL) - before
        answered = result.requests - result.bad_status
        check = {"decisions_recorded": recorded, "responses_2xx": answered}
        if recorded != answered:
            raise BenchError(f"{side.label}: {recorded} decisions recorded for {answered} 2xx responses "
                             f"({'lost' if recorded < answered else 'duplicated'} writes)")
    return result, check


def measure_side(side: Side, fixture: Fixture, args: argparse.Namespace, work_dir: Path) -> dict:
    """Start one app, check its answers, warm it up, then measure the progress read and the decision write. The
    baseline is given the fixture whose bytes it serves."""
    with gunicorn(side.key, side.app_spec, side.env, args.workers, work_dir, side.extra) as (process, base_url,
                                                                                               log_path):
        url = base_url + progress_path(fixture)
        wait_ready(process, f"{base_url}/v1/units?limit=1" if side.database_url else url, log_path)
        check_progress(base_url, fixture, fixture.progress_body)
        check_decision(base_url, fixture, None if side.database_url else fixture.decision_sample)
        auth = (f"Authorization: Bearer {fixture.tokens['assessor']}",)
        if args.warmup:
            require_clean(f"{side.label}: progress warm-up", run_wrk(url, args.warmup, args.connections,
                                                                     headers=auth))
            measure_writes(side, base_url, fixture, args.warmup, args.connections, work_dir)
        with cpu_per_request(process) as read_cpu:
            read = require_clean(f"{side.label}: progress read",
                                 run_wrk(url, args.duration, args.connections, headers=auth))
            read_cpu.requests = read.requests
        with cpu_per_request(process) as write_cpu:
            write, check = measure_writes(side, base_url, fixture, args.duration, args.connections, work_dir)
            write_cpu.requests = write.requests
        ensure_running(side.label, process, log_path)
    return {"progress_read": {**asdict(read), **read_cpu.per_request},
            "decision_write": {**asdict(write), **check, **write_cpu.per_request}}


class _CpuUse:
    requests = 0
    per_request: dict = {}


@contextmanager
def cpu_per_request(process):
    """Around a measured run: the CPU microseconds per request of the app (gunicorn master and workers) and of the
    local PostgreSQL (its server and backends: nothing for SQLite or a remote server), set on the yielded object's
    ``per_request`` once the caller has set its ``requests``."""
    use = _CpuUse()
    app_before, database_before = sum(server_cpu_seconds(process)), local_postgres_cpu_seconds()
    yield use
    app, database = sum(server_cpu_seconds(process)) - app_before, local_postgres_cpu_seconds() - database_before
    per = 1e6 / max(use.requests, 1)
    use.per_request = {"app_cpu_us": round(app * per), "database_cpu_us": round(database * per)}


def run_round(sides: list[Side], fixtures: dict[str, Fixture], args: argparse.Namespace, work_dir: Path) -> dict:
    """One round: the baseline, then each qualtrack side, each on a fresh server; ratios against the baseline."""
    results = {}
    for side in sides:
        fixture = fixtures.get(side.key, fixtures["qualtrack_sqlite"])  # the baseline serves SQLite's bytes
        results[side.key] = measure_side(side, fixture, args, work_dir)
        if side.key != "baseline":
            for kind in ("progress_read", "decision_write"):
                results[side.key][kind]["ratio"] = (results[side.key][kind]["requests_per_second"]
                                                    / results["baseline"][kind]["requests_per_second"])
    return results


def summarize(rounds: list[dict], key: str, kind: str) -> dict:
    runs = [r[key][kind] for r in rounds]
    summary = {"requests_per_second": median([r["requests_per_second"] for r in runs]),
               "p99_ms": median([r["p99_ms"] for r in runs]), "requests": sum(r["requests"] for r in runs),
               "app_cpu_us": median([r["app_cpu_us"] for r in runs]),
               "database_cpu_us": median([r["database_cpu_us"] for r in runs])}
    if "ratio" in runs[0]:
        summary["ratio"] = median([r["ratio"] for r in runs])
        summary["round_ratios"] = [r["ratio"] for r in runs]
    if "decisions_recorded" in runs[0]:
        summary["decisions_recorded"] = sum(r["decisions_recorded"] for r in runs)
        summary["responses_2xx"] = sum(r["responses_2xx"] for r in runs)
    return summary


def run(args: argparse.Namespace) -> dict:
    """Prepare the databases, measure every side for each round, and return the report."""
    load_before = os.getloadavg()
    with ExitStack() as stack:
        work_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="qualtrack-bench-")))
        urls = {"qualtrack_sqlite": f"sqlite:///{work_dir / 'tracking.db'}"}
        if args.postgres:
            urls["qualtrack_postgres"] = stack.enter_context(postgres_schema(args.postgres))
        fixtures = {key: prepare_fixture(url, args.connections, args.workers, work_dir) for key, url in urls.items()}
        routes = baseline_routes(fixtures["qualtrack_sqlite"], work_dir)
        labels = {"baseline": "baseline (bare Flask)", "qualtrack_sqlite": "qualtrack (SQLite)",
                  "qualtrack_postgres": "qualtrack (PostgreSQL)"}
        sides = [Side("baseline", labels["baseline"], "bare_app:create_app()",
                      app_env(BENCH_BARE_ROUTES=str(routes), PYTHONDONTWRITEBYTECODE="1"),
                      ("--pythonpath", str(BENCH_DIR)))]
        sides += [Side(key, labels[key], "api.wsgi:app", qualtrack_env(url), database_url=url)
                  for key, url in urls.items()]
        rounds = [run_round(sides, fixtures, args, work_dir) for _ in range(args.rounds)]
    reference = fixtures["qualtrack_sqlite"]
    return {
        "measured_at": utc_stamp(), "machine": machine(), "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "load": (f"progress read: wrk -t1 -c{args.connections} -d{args.duration}s --latency; decision write: wrk "
                 f"-t{args.connections} -c{args.connections} -s wrk_streams.lua, {args.duration}s of requests; "
                 f"warm-up {args.warmup}s each; {args.rounds} round(s)"),
        "workers": args.workers, "unit": {"code": UNIT_CODE, "id": reference.unit_id,
                                          "criteria": len(reference.criteria)},
        "progress": {"path": "/v1/enrolments/{id}/progress", "bytes": len(reference.progress_body),
                     "decisions": reference.progress_decisions},
        "decision": {"path": "/v1/enrolments/{id}/decisions", "response_bytes": len(reference.decision_sample),
                     "request_example": json.loads(decision_streams(reference, 1)[0][0]["body"])},
        "write_target": WRITE_TARGET,
        "labels": {key: labels[key] for key in ["baseline", *urls]},
        "summary": {kind: {key: summarize(rounds, key, kind) for key in ["baseline", *urls]}
                    for kind in ("progress_read", "decision_write")},
        "rounds": rounds,
    }


def write_target_met(row: dict) -> bool:
    """The SQLite decision write's target: its ratio and its p99 both."""
    return row["ratio"] >= WRITE_TARGET and row["p99_ms"] <= WRITE_P99_TARGET_MS


def ratio_note(kind: str, key: str, row: dict) -> str:
    ratio = row["ratio"]
    if kind == "decision_write" and key == "qualtrack_sqlite":
        return (f"{ratio:.1%}, p99 {row['p99_ms']:.1f} ms (target >= {WRITE_TARGET:.0%} with p99 <= "
                f"{WRITE_P99_TARGET_MS:g} ms: {'met' if write_target_met(row) else 'MISSED'})")
    return f"{ratio:.1%} (no target: reported)"


TITLES = {"progress_read": "progress read", "decision_write": "decision write"}


def print_report(report: dict) -> None:
    progress, decision = report["progress"], report["decision"]
    print(f"tracking: GET /v1/enrolments/{{id}}/progress ({report['unit']['code']}, {report['unit']['criteria']} "
          f"criteria, {progress['decisions']} decisions, {progress['bytes']} bytes) and POST "
          f"/v1/enrolments/{{id}}/decisions (answer {decision['response_bytes']} bytes), as an assessor")
    print(f"load: {report['load']}; gunicorn sync, {report['workers']} workers; "
          f"{report['machine']['cpu_count']} cores")
    print(f"machine load average (1 min) before the run: {report['loadavg_before'][0]:.2f}; after: "
          f"{report['loadavg_after'][0]:.2f}")
    print()
    print(f"{'median over rounds':36}{'req/s':>10}{'p99 ms':>10}{'total req':>11}{'app CPU us/req':>16}"
          f"{'db CPU us/req':>15}")
    for kind, title in TITLES.items():
        print(title)
        for key, label in report["labels"].items():
            row = report["summary"][kind][key]
            print(f"  {label:34}{row['requests_per_second']:>10.1f}{row['p99_ms']:>10.2f}{row['requests']:>11}"
                  f"{row['app_cpu_us']:>16.0f}{row['database_cpu_us']:>15.0f}")
    print()
    for kind, title in TITLES.items():
        for key, label in report["labels"].items():
            row = report["summary"][kind][key]
            if "ratio" in row:
                rounds = ", ".join(f"{r:.1%}" for r in row["round_ratios"])
                print(f"ratio {title}, {label + ' / baseline:':36} {ratio_note(kind, key, row)}  "
                      f"[rounds: {rounds}]")
    for key, label in report["labels"].items():
        row = report["summary"]["decision_write"][key]
        if "decisions_recorded" in row:
            print(f"writes, {label}: {row['decisions_recorded']} decisions recorded = {row['responses_2xx']} 2xx "
                  f"responses (measured runs; warm-ups checked too)")


def summary_rows(report: dict) -> list[dict]:
    """The report's lines for bench/run_all.py's summary table."""
    rows = []
    for kind, title in TITLES.items():
        for key, label in report["labels"].items():
            row = report["summary"][kind][key]
            line = {"benchmark": title, "measure": label, "rps": row["requests_per_second"], "p99_ms": row["p99_ms"]}
            if "ratio" in row:
                line.update(measure=f"{label} / bare Flask", value=f"{row['ratio']:.1%}")
                if kind == "decision_write" and key == "qualtrack_sqlite":
                    line.update(target=f">= {WRITE_TARGET:.0%}, p99 <= {WRITE_P99_TARGET_MS:g} ms",
                                verdict="met" if write_target_met(row) else "MISSED")
                else:
                    line.update(target="-", verdict="reported")
            rows.append(line)
    return rows


def write_results(report: dict) -> Path:
    return write_json("tracking", report, report["measured_at"])


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark, print the table, save the JSON; exit 1 only if the benchmark could not run."""
    args = parse_args(argv)
    report = report_or_exit("tracking", lambda: run(args))
    print_report(report)
    print(f"\nresults: {write_results(report).relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    main()
