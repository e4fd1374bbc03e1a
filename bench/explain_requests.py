"""Where a request's time goes on a large database: each statement it sends, with PostgreSQL's EXPLAIN (ANALYZE,
BUFFERS), and the request's own time in-process.

bench/scale.py measures requests from outside and then drops its database. This keeps one: ``--build PERCENT`` fills
a schema of its own (``--schema``, kept until you drop it) exactly as bench/scale.py does, and each run after that
profiles requests against it as the bench's admin (admin@bench.test), or as any account you name.

    .venv/bin/python bench/explain_requests.py --postgres postgresql://127.0.0.1:5432/test --schema scale100 \\
        --build 100                      # once: about 11 minutes at 100% on 2 cores
    .venv/bin/python bench/explain_requests.py --postgres postgresql://127.0.0.1:5432/test --schema scale100 \\
        [--request 'GET /v1/audit?limit=50' ...] [--as admin@bench.test] [--repeat 20]

Without --request it profiles the rows of bench/scale.py that grew most from 1% to 100% (the sync list of all
decisions, an audit page and a change-feed page). Printed per request: the median in-process time of --repeat runs,
then each statement with its execution time and plan, slowest first; all of it is written to
bench/results/explain_requests-<timestamp>.json.
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import PROJECT_ROOT, BenchError, machine, report_or_exit, write_json  # noqa: E402

sys.path.insert(0, str(PROJECT_ROOT))

SINCE = quote("2024-09-01T00:00:00Z")
GROWN = (f"GET /v1/decisions?sort=updated_at&updated_since={SINCE}&limit=50", "GET /v1/audit?limit=50",
         "GET /v1/changes?limit=50")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", required=True, metavar="URL", help="the PostgreSQL database")
    parser.add_argument("--schema", required=True, help="the schema that holds the built data (kept)")
    parser.add_argument("--build", type=float, metavar="PERCENT", help="build this size into the schema first")
    parser.add_argument("--request", action="append", metavar="'METHOD PATH'", help="a request (repeatable)")
    parser.add_argument("--as", dest="caller", default="admin@bench.test", help="the account that calls")
    parser.add_argument("--repeat", type=int, default=20, help="runs of each request timed (default 20)")
    return parser.parse_args(argv)


def schema_url(base_url: str, schema: str) -> str:
    separator = "&" if "?" in base_url else "?"
    return f"{base_url}{separator}options=-c%20search_path%3D{schema}"


def build(base_url: str, schema: str, percent: float) -> None:
    import psycopg
    import scale

    with psycopg.connect(base_url, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    with tempfile.TemporaryDirectory(prefix="explain-") as work:
        built = scale.prepare(schema_url(base_url, schema), percent, Path(work))
    print(f"built {percent:g}% into schema {schema} in {built['total_build_seconds']} s: {built['rows']}")


def profile(url: str, requests: list[str], caller: str, repeat: int) -> list[dict]:
    from playhouse.test_utils import count_queries

    from api import create_app
    from api.auth import issue_tokens
    from api.config import Settings
    from api.models import Account
    from api.services import accounts

    app = create_app(Settings(database_url=url, env="test"))
    client = app.test_client()
    with app.app_context():
        account = Account.get_or_none(Account.email == caller)
        if account is None:
            raise BenchError(f"no account {caller} in this database: build it first (--build)")
        with app.test_request_context():
            token = issue_tokens(f"account:{account.id}", accounts.account_claims(account),
                                 with_refresh=False)["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    reports = []
    for request in requests:
        method, path = request.split(" ", 1)
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.open(path, method=method, headers=headers)
            times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise BenchError(f"{request}: {response.status_code} {response.get_data(as_text=True)[:500]}")
        with app.app_context(), count_queries() as counter:
            client.open(path, method=method, headers=headers)
        statements = [q.msg for q in counter.get_queries() if q.msg[0].lstrip().upper().startswith(("SELECT",
                                                                                                      "WITH"))]
        reports.append({"request": request, "median_ms": round(statistics.median(times), 2),
                        "statements": [explain(app, sql, params) for sql, params in statements]})
    return reports


def explain(app, sql: str, params) -> dict:
    """One statement run again under EXPLAIN ANALYZE: its execution and planning times and its plan as text."""
    from api import db

    with app.app_context():
        database = db.database_proxy.obj
        [[plan]] = database.execute_sql("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params).fetchall()
        text = database.execute_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql, params).fetchall()
    plan = plan if isinstance(plan, list) else json.loads(plan)
    return {"sql": sql, "execution_ms": plan[0]["Execution Time"], "planning_ms": plan[0]["Planning Time"],
            "plan": "\n".join(line for (line,) in text)}


def main(args: argparse.Namespace) -> dict:
    if args.build is not None:
        build(args.postgres, args.schema, args.build)
    reports = profile(schema_url(args.postgres, args.schema), args.request or list(GROWN), args.caller, args.repeat)
    for report in reports:
        print(f"\n== {report['request']}: {report['median_ms']} ms median in-process")
        for statement in sorted(report["statements"], key=lambda s: -s["execution_ms"]):
            print(f"\n-- {statement['execution_ms']:.2f} ms (planning {statement['planning_ms']:.2f} ms)\n"
                  f"{statement['sql']}\n{statement['plan']}")
    report = {"bench": "explain_requests", "machine": machine(), "schema": args.schema, "requests": reports}
    print(f"\nwritten to {write_json('explain_requests', report)}")
    return report


if __name__ == "__main__":
    report_or_exit("explain_requests", lambda: main(parse_args()))
