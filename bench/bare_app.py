"""Baseline for the benchmarks: bare Flask serving fixed bytes, run the way the real app runs, e.g.
``gunicorn --pythonpath bench 'bare_app:create_app()'``. No database, no query-string parsing, no hooks, no
authentication: routing plus the response only (and, for a POST, reading and decoding its JSON body).

Two ways to say what it serves (both may be given):

- BENCH_UNIT_FILE and BENCH_UNIT_ID (bench/unit_read.py): the bytes of the file at ``/v1/units/<unit_id>`` for
  that one id, 404 for any other.
- BENCH_BARE_ROUTES: a JSON file listing routes, each ``{"rule": Flask rule, "method": "GET" or "POST",
  "file": path of the body, "status": 200, "headers": {...}}``. A POST route answers 415 unless the body is sent as
  application/json and 400 unless it is a JSON object, as the real endpoints do; otherwise it ignores the body.

Every body is read once at startup.
"""

import json
import os
from pathlib import Path

from flask import Flask, Response, abort, request


def create_app() -> Flask:
    """Build the baseline app from BENCH_UNIT_FILE/BENCH_UNIT_ID and/or BENCH_BARE_ROUTES."""
    app = Flask(__name__)
    if os.environ.get("BENCH_UNIT_FILE"):
        body = Path(os.environ["BENCH_UNIT_FILE"]).read_bytes()
        served_id = os.environ["BENCH_UNIT_ID"]

        @app.get("/v1/units/<unit_id>")
        def get_unit(unit_id: str) -> Response:
            """The fixed unit bytes, for the one configured id."""
            if unit_id != served_id:
                abort(404)
            return Response(body, mimetype="application/json")

    if os.environ.get("BENCH_BARE_ROUTES"):
        routes = json.loads(Path(os.environ["BENCH_BARE_ROUTES"]).read_text())
        for number, route in enumerate(routes):
            app.add_url_rule(route["rule"], f"route_{number}", fixed_view(route), methods=[route["method"]])
    return app


def fixed_view(route: dict):
    """A view answering the route's fixed bytes, status and headers."""
    body = Path(route["file"]).read_bytes()
    status, headers, method = route.get("status", 200), route.get("headers", {}), route["method"]

    def view(**_ignored) -> Response:
        if method == "POST" and not isinstance(request.get_json(), dict):  # 415 if not JSON, 400 if malformed
            abort(400)
        return Response(body, status=status, mimetype="application/json", headers=headers)

    return view
