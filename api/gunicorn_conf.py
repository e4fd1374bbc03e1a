"""gunicorn settings for qualtrack: `gunicorn -c python:api.gunicorn_conf api.wsgi:app` (what `qualtrack serve` and
`qualtrack start` run). Every value can be changed through the environment; docs/deploy.md explains them.

Sync workers, one per core by default: each request holds one worker, and the app keeps one database connection per
worker (SQLite) or a small pool per worker (PostgreSQL). Requests are bounded (request line, header count and size
here; body size by the app), and what gunicorn refuses is answered as problem+json like any other error
(api.gunicorn_worker: 414, 431, 400). Slow workers are killed after the timeout, and `kill -HUP <master pid>`
reloads: new workers start, old ones finish the requests they hold (up to graceful_timeout), so no request is dropped.
"""

import os
import shutil
import tempfile


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


bind = f"{os.environ.get('QUALTRACK_HOST', '127.0.0.1')}:{os.environ.get('QUALTRACK_PORT', '8000')}"
workers = _int("QUALTRACK_WORKERS", len(os.sched_getaffinity(0)))
worker_class = "api.gunicorn_worker.ProblemJsonWorker"  # the sync worker, answering refusals as problem+json
timeout = _int("QUALTRACK_WORKER_TIMEOUT", 30)  # seconds a request may hold a worker before it is killed
graceful_timeout = _int("QUALTRACK_GRACEFUL_TIMEOUT", 30)  # seconds old workers get to finish on reload or stop
keepalive = 5
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
max_requests = _int("QUALTRACK_MAX_REQUESTS", 50_000)  # recycle a worker after this many requests (bounds leaks)
max_requests_jitter = max_requests // 10
control_socket_disable = True  # managed with signals (HUP reloads, TERM stops); no shared socket under $HOME
accesslog = None  # the app writes one JSON line per request itself (api.observability)
errorlog = "-"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "pythonjsonlogger.orjson.OrjsonFormatter",
                            "fmt": "%(levelname)s %(name)s %(process)d %(message)s", "timestamp": "time",
                            "rename_fields": {"levelname": "level", "name": "logger"}}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
    "root": {"handlers": ["stderr"], "level": "INFO"},
    "loggers": {"gunicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
                "gunicorn.access": {"handlers": [], "level": "INFO", "propagate": False}},
}

# Prometheus multiprocess mode: every worker writes its metrics to files in this directory and /metrics adds them
# up. Set before any worker imports prometheus_client; a directory made here is emptied at start and removed at exit.
_made_metrics_dir = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _made_metrics_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="qualtrack-metrics-")


def on_starting(server) -> None:
    """Start with no metrics left over from an earlier run that used the same directory."""
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        if name.endswith(".db"):
            os.remove(os.path.join(directory, name))


def child_exit(server, worker) -> None:
    """A worker has gone (reload, recycle, crash): keep its counters, drop its live gauges."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:
    if _made_metrics_dir:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
