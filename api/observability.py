"""What operators see: JSON logs carrying the request id, one access-log line per request, and Prometheus metrics.

Logs never hold secrets or personal data: the access line names the route *template* (``/v1/learners/<learner_id>``),
never the path, query string, headers or body, and no code here logs a request's content.

Metrics work under gunicorn's several worker processes: when PROMETHEUS_MULTIPROC_DIR is set (api/gunicorn_conf.py
sets it), every worker writes its samples to files there and ``/metrics`` adds them up (prometheus_client's
multiprocess mode); without it (one process, e.g. the test client) the default registry is used.
"""

import logging
import os
import sys
import time
from datetime import UTC, datetime

import orjson
from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess as prometheus_multiprocess

from api.config import Settings
from api.services.common import request_context

access_log = logging.getLogger("qualtrack.access")

REQUESTS = Counter("qualtrack_http_requests", "HTTP requests answered, by route template, method and status.",
                   ["route", "method", "status"])
LATENCY = Histogram("qualtrack_http_request_duration_seconds", "Time to answer an HTTP request, by route template "
                    "and method (from the first hook to the response).", ["route", "method"],
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0))
LOG_WRITE_FAILURES = Counter("qualtrack_log_write_failures", "Log lines lost because the log sink failed (stderr "
                             "closed, a broken pipe, a full disk), by sink: access (the line per request) or logging "
                             "(every other record). The requests themselves were answered as usual.", ["sink"])
SERVER_ERRORS = Counter("qualtrack_server_errors", "Failures on the server's side, by edge (rest, graphql) and kind: "
                        "unavailable (the database was locked, busy or unreachable: 503 or SERVICE_UNAVAILABLE, "
                        "retry) or internal (any other error: 500 or INTERNAL_SERVER_ERROR, logged with its "
                        "traceback).", ["edge", "kind"])
QUIET_ROUTES = {"/healthz", "/readyz", "/metrics"}  # polled by machines: counted, but logged only at DEBUG


def _access_writer(settings: Settings):
    """What writes a request's access line, or None when they are off. In JSON, the line is written straight to
    stderr with orjson (a fraction of the cost, on every request, of logging's machinery and formatter), in the same
    shape as every other log line; in text, it goes through logging. Either way a line that cannot be written is
    counted (LOG_WRITE_FAILURES) and the request is answered as if it had been."""
    if not settings.access_log:
        return None
    if settings.log_format != "json":
        def log_line(method: str, route: str, status: int, seconds: float) -> None:
            level = logging.DEBUG if route in QUIET_ROUTES else logging.INFO
            try:
                access_log.log(level, "request %s %s %s %.2f ms", method, route, status, seconds * 1000)
            except Exception:  # noqa: BLE001 - a handler whose own error report failed too: the answer stands
                LOG_WRITE_FAILURES.labels("access").inc()
        return log_line
    process, quiet = os.getpid(), settings.log_level != "DEBUG"  # health checks and scrapes: DEBUG lines

    def write_line(method: str, route: str, status: int, seconds: float) -> None:
        if quiet and route in QUIET_ROUTES:
            return
        line = orjson.dumps({"level": "DEBUG" if route in QUIET_ROUTES else "INFO", "logger": access_log.name,
                             "process": process, "message": "request", "request_id": request_context.request_id.get(),
                             "method": method, "route": route, "status": status,
                             "duration_ms": round(seconds * 1000, 2), "time": datetime.now(UTC).isoformat()})
        try:
            sys.stderr.write(line.decode() + "\n")
            sys.stderr.flush()
        except Exception:  # noqa: BLE001 - whatever the sink does (OSError, closed, gone), the answer stands
            LOG_WRITE_FAILURES.labels("access").inc()
    return write_line


class ContainedStreamHandler(logging.StreamHandler):
    """logging's StreamHandler, except that a record it cannot write is counted (LOG_WRITE_FAILURES) rather than
    reported on stderr, the sink that just failed."""

    def __init__(self, stream=None, sink: str = "logging"):
        super().__init__(stream)
        self.failures = LOG_WRITE_FAILURES.labels(sink)

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        self.failures.inc()


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (of the request being handled, if any) to every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_context.request_id.get()
        return True


def configure_logging(settings: Settings) -> None:
    """Send every log record to stderr, as one JSON object per line (or plain text), with its request id."""
    handler = ContainedStreamHandler(sys.stderr)
    if settings.log_format == "json":
        from pythonjsonlogger.orjson import OrjsonFormatter

        handler.setFormatter(OrjsonFormatter("%(levelname)s %(name)s %(process)d %(message)s %(request_id)s",
                                           timestamp="time",
                                           rename_fields={"levelname": "level", "name": "logger"}))
    else:
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s %(process)d [%(request_id)s] %(message)s"))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(settings.log_level)


def init_app(app: Flask, settings: Settings) -> None:
    """Time, count and log every request, and serve ``/metrics``."""
    write_access_line = _access_writer(settings)
    counted, timed = {}, {}  # metric children by label values: labels() itself costs more than the increment

    @app.before_request
    def start_timer() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def record(response: Response) -> Response:
        started = g.get("started")
        if started is None:  # a request refused before the hooks ran
            return response
        seconds = time.perf_counter() - started
        route = request.url_rule.rule if request.url_rule is not None else "(no route)"
        method, status = request.method, response.status_code
        counter = counted.get((route, method, status))
        if counter is None:
            counter = counted[route, method, status] = REQUESTS.labels(route, method, str(status))
        counter.inc()
        histogram = timed.get((route, method))
        if histogram is None:
            histogram = timed[route, method] = LATENCY.labels(route, method)
        histogram.observe(seconds)
        if write_access_line is not None:
            write_access_line(method, route, status, seconds)
        return response

    @app.get("/metrics")
    def metrics() -> Response:
        """Prometheus metrics of every worker process (text exposition format)."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            prometheus_multiprocess.MultiProcessCollector(registry)
        else:
            from prometheus_client import REGISTRY as registry
        return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST,
                        headers={"Cache-Control": "no-store"})
