"""Health checks for load balancers and orchestrators: /healthz (the process answers) and /readyz (it can serve:
the database answers and its schema is current)."""

import weakref

from flask import Blueprint

from api import db
from api.problems import problem_response
from api.rest.http import json_response

bp = Blueprint("health", __name__)
# Databases seen with every migration of this code applied: that stays true, so api/migrations is not read again.
_current_databases: weakref.WeakSet = weakref.WeakSet()


@bp.get("/healthz")
def healthz():
    """200 while the process can answer HTTP at all; touches nothing else (a liveness probe)."""
    return json_response({"status": "ok"}, cache_control="no-store")


@bp.get("/readyz")
def readyz():
    """200 when the database answers and every migration is applied; 503 (problem+json, saying which) otherwise,
    so a load balancer sends no traffic to a host that cannot serve it (a readiness probe)."""
    from api.migrations_runner import pending_migrations

    try:
        db.ensure_connected()
        database = db.database_proxy.obj
        database.execute_sql("SELECT 1").fetchone()
        pending = [] if database in _current_databases else pending_migrations(database)
    except Exception as error:  # noqa: BLE001 - any failure to reach the database means "not ready"
        return problem_response(503, "Service Unavailable", f"the database is not reachable: {type(error).__name__}",
                                type_="/problems/not-ready", headers={"Retry-After": "5"},
                                extensions={"checks": {"database": "unreachable"}})
    if pending:
        return problem_response(503, "Service Unavailable", f"{len(pending)} migration(s) not applied: "
                                f"{', '.join(pending)} (run `qualtrack init-db`)", type_="/problems/not-ready",
                                headers={"Retry-After": "5"},
                                extensions={"checks": {"database": "ok", "migrations": "pending"}})
    _current_databases.add(database)
    return json_response({"status": "ready", "checks": {"database": "ok", "migrations": "current"}},
                         cache_control="no-store")
