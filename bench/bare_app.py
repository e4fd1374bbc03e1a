"""Baseline for bench/unit_read.py: bare Flask serving fixed unit bytes at ``/v1/units/<unit_id>``.

Run it the way the real app runs, e.g. ``gunicorn --pythonpath bench 'bare_app:create_app()'``, with
BENCH_UNIT_FILE naming the file that holds the bytes and BENCH_UNIT_ID the one unit id it answers for. The bytes are
read once at startup, so a request costs only Flask routing and the response itself: no database, no query-string
parsing, no ETag hook.
"""

import os
from pathlib import Path

from flask import Flask, Response, abort


def create_app() -> Flask:
    """Build the baseline app from BENCH_UNIT_FILE and BENCH_UNIT_ID."""
    body = Path(os.environ["BENCH_UNIT_FILE"]).read_bytes()
    served_id = os.environ["BENCH_UNIT_ID"]
    app = Flask(__name__)

    @app.get("/v1/units/<unit_id>")
    def get_unit(unit_id: str) -> Response:
        """The fixed unit bytes, for the one configured id."""
        if unit_id != served_id:
            abort(404)
        return Response(body, mimetype="application/json")

    return app
