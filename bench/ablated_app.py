"""qualtrack with parts of a decision write switched off, for bench/write_costs.py only: what each part costs is
measured by removing it. Never serve this: with the switches on, writes are not validated or not audited.

BENCH_WITHOUT lists the parts to leave out, comma-separated:

- ``validation``: decision bodies skip the marshmallow schema (DecisionCreate); only the ids are converted. Other
  bodies are still validated.
- ``audit``: no audit event is written (audit.record does nothing).
- ``access_log``: no access-log line per request (QUALTRACK_ACCESS_LOG=false, the real setting).

Run as ``gunicorn --pythonpath bench ablated_app:app``, with the same environment as api.wsgi:app.
"""

import os
import uuid

PARTS = {"validation", "audit", "access_log"}
WITHOUT = {part for part in os.environ.get("BENCH_WITHOUT", "").split(",") if part}
if WITHOUT - PARTS:
    raise SystemExit(f"BENCH_WITHOUT: unknown part(s) {sorted(WITHOUT - PARTS)}; known: {sorted(PARTS)}")
if "access_log" in WITHOUT:
    os.environ["QUALTRACK_ACCESS_LOG"] = "false"

import api.inputs  # noqa: E402 - the switches above must come first
from api.inputs.bodies import DecisionCreate  # noqa: E402
from api.services.common import audit  # noqa: E402

_validated_load = api.inputs.load_body


def _unvalidated_load(schema, body: dict, *, partial: bool = False) -> dict:
    """A decision body as the schema would load a valid one (ids as UUIDs, defaults filled), unchecked."""
    if not isinstance(schema, DecisionCreate):
        return _validated_load(schema, body, partial=partial)
    return {"reason": None, "expected_sequence": None, **body, "criterion_id": uuid.UUID(body["criterion_id"]),
            "evidence_ids": [uuid.UUID(i) for i in body.get("evidence_ids", [])]}


# api.rest.http.parse_body and the GraphQL resolvers look load_body and audit.record up when called, so replacing the
# module attributes is enough; a rename there makes these asserts fail rather than the switch silently do nothing.
assert callable(api.inputs.load_body) and callable(audit.record)
if "validation" in WITHOUT:
    api.inputs.load_body = _unvalidated_load
if "audit" in WITHOUT:
    audit.record = lambda *args, **kwargs: None

from api.wsgi import app  # noqa: E402, F401 - what gunicorn serves
