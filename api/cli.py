"""The ``qualtrack`` command: init-db, load-units, serve."""

import os
import sys
from pathlib import Path

import click

from api import db
from api.config import Settings


def _database(settings: Settings):
    database = db.make_database(settings.database_url)
    db.bind(database)
    database.connect(reuse_if_open=True)
    return database


@click.group()
def main() -> None:
    """qualtrack: vocational-qualification content and tracking API."""


@main.command("init-db")
def init_db() -> None:
    """Create the database (if needed) and apply pending schema migrations."""
    from api.migrations_runner import migrate

    settings = Settings.from_env()
    applied = migrate(_database(settings))
    click.echo(f"{settings.database_url}: " + (f"applied {', '.join(applied)}" if applied else "schema is current"))


@main.command("load-units")
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
def load_units(path: Path | None) -> None:
    """Validate and load unit, standard, guidance and catalogue files from PATH (default data/units).

    Every problem is printed as FILE: JSON-PATH: MESSAGE; a file with problems is not loaded at all. Loading the
    same files again changes nothing. Exits 1 if any file had problems.
    """
    from api.services.loader import load_path

    settings = Settings.from_env()
    _database(settings)
    report = load_path(path or settings.units_dir)
    for file, outcome in report.outcomes.items():
        click.echo(f"{outcome:>9}  {file}")
    for problem in report.problems:
        click.echo(str(problem), err=True)
    counts = {o: list(report.outcomes.values()).count(o) for o in ("created", "updated", "unchanged", "invalid")}
    click.echo(", ".join(f"{n} {o}" for o, n in counts.items()))
    sys.exit(0 if report.ok else 1)


@main.command()
@click.option("--host", default=lambda: os.environ.get("QUALTRACK_HOST", "127.0.0.1"), show_default="127.0.0.1")
@click.option("--port", default=lambda: int(os.environ.get("QUALTRACK_PORT", "8000")), show_default="8000")
@click.option("--workers", default=lambda: int(os.environ.get("QUALTRACK_WORKERS", str(os.cpu_count() or 1))),
              show_default="one per core")
def serve(host: str, port: int, workers: int) -> None:
    """Serve the API with gunicorn (sync workers)."""
    args = [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}", "--workers", str(workers),
            "--worker-class", "sync",
            "--access-logfile", "-", "api.wsgi:app"]
    os.execvp(args[0], args)


if __name__ == "__main__":
    main()
