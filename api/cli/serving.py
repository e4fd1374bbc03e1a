"""qualtrack commands that run the service: init-db (migrations), serve (gunicorn), start (the container's entry
point: migrate and load content under the startup lock, then serve)."""

import os
import sys

import click

from api import db
from api.cli.group import connect, main
from api.config import Settings


@main.command("init-db")
def init_db() -> None:
    """Create the database (if needed) and apply pending schema migrations."""
    from api.migrations_runner import migrate

    settings = Settings.from_env()
    applied = migrate(connect(settings))
    click.echo(f"{settings.database_url}: " + (f"applied {', '.join(applied)}" if applied else "schema is current"))


@main.command()
@click.option("--host", default=lambda: os.environ.get("QUALTRACK_HOST", "127.0.0.1"), show_default="127.0.0.1")
@click.option("--port", default=lambda: int(os.environ.get("QUALTRACK_PORT", "8000")), show_default="8000")
@click.option("--workers", type=int, default=lambda: os.environ.get("QUALTRACK_WORKERS"),
              show_default="one per core", help="gunicorn sync workers")
def serve(host: str, port: int, workers: int | None) -> None:
    """Serve the API with gunicorn (api/gunicorn_conf.py: sync workers, bounded requests, JSON logs, metrics)."""
    _refuse_unsafe_settings()
    _exec_gunicorn(host, port, workers)


def _refuse_unsafe_settings() -> Settings:
    """The settings, or exit 1 with the configuration error (a missing signing secret, say) before anything starts:
    the operator reads what to do, not a worker's traceback."""
    from api.config import ConfigurationError

    try:
        settings = Settings.from_env()
        settings.signing_secret()
    except ConfigurationError as error:
        raise click.ClickException(str(error)) from None
    return settings


@main.command()
@click.option("--load-units/--no-load-units", "load", default=True, show_default=True,
              help="Load data/units (QUALTRACK_UNITS_DIR) before serving; loading unchanged files changes nothing.")
def start(load: bool) -> None:
    """The container entry point: apply pending migrations and load the content (one host at a time, under a
    database lock), then serve with gunicorn on QUALTRACK_HOST:QUALTRACK_PORT."""
    import logging

    from api.migrations_runner import migrate
    from api.observability import configure_logging
    from api.services.content.loader import load_path

    settings = _refuse_unsafe_settings()
    configure_logging(settings)
    log = logging.getLogger("qualtrack.start")
    database = connect(settings)
    with db.startup_lock(database):
        applied = migrate(database)
        log.info("migrations: %s", f"applied {', '.join(applied)}" if applied else "schema is current")
        if load:
            report = load_path(settings.units_dir)
            for problem in report.problems:
                log.error("content: %s", problem)
            if not report.ok:
                log.error("content: %s has files that are not valid: not serving", settings.units_dir)
                raise SystemExit(1)
            log.info("content: %d files from %s (%s)", len(report.outcomes), settings.units_dir, ", ".join(
                f"{n} {o}" for o in ("created", "updated", "unchanged")
                if (n := list(report.outcomes.values()).count(o))))
    _exec_gunicorn(os.environ.get("QUALTRACK_HOST", "127.0.0.1"), int(os.environ.get("QUALTRACK_PORT", "8000")),
                   None)


def _exec_gunicorn(host: str, port: int, workers: int | None) -> None:
    """Replace this process with gunicorn (so it gets the signals: TERM stops, HUP reloads gracefully)."""
    os.environ["QUALTRACK_HOST"], os.environ["QUALTRACK_PORT"] = host, str(port)
    if workers:
        os.environ["QUALTRACK_WORKERS"] = str(workers)
    args = [sys.executable, "-m", "gunicorn", "--config", "python:api.gunicorn_conf", "api.wsgi:app"]
    os.execvp(args[0], args)
