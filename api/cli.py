"""The ``qualtrack`` command: init-db, load-units, accounts and clients (create, disable, enable), imports, serve."""

import os
import sys
from pathlib import Path

import click

from api import db
from api.config import PROJECT_ROOT, Settings


def _database(settings: Settings):
    database = db.make_database(settings.database_url, sqlite_write_wait_ms=settings.sqlite_write_wait_ms)
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
    from api.services.content.loader import load_path

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


def _report_failure(error) -> None:
    from api.errors import ApiError

    if isinstance(error, ApiError):
        details = "; ".join(f"{k}: {', '.join(v)}" for k, v in (error.errors or {}).items())
        raise click.ClickException(error.detail + (f" ({details})" if details else ""))
    raise error


@main.command("create-centre")
@click.option("--code", required=True, help="Short unique code, e.g. the provider's UKPRN.")
@click.option("--name", required=True)
def create_centre(code: str, name: str) -> None:
    """Create a centre (a tenant: college, training provider or employer)."""
    from api.services import accounts

    _database(Settings.from_env())
    try:
        centre = accounts.create_centre(code, name)
    except Exception as error:  # noqa: BLE001 - reported as a clean CLI error
        _report_failure(error)
    click.echo(f"centre {centre.code}: {centre.id}")


@main.command("create-user")
@click.option("--email", required=True)
@click.option("--name", "display_name", default=None, help="Display name (default: the email).")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice(["admin", "author", "centre_admin", "assessor", "iqa", "learner"]))
@click.option("--centre", "centres", multiple=True, help="Centre code (repeat for several).")
@click.option("--awarding-body", default=None, help="Awarding body slug, for authors.")
@click.option("--assessor-status", type=click.Choice(["qualified", "trainee"]), default=None,
              help="Required with --role assessor: a trainee's decisions take effect once a qualified assessor "
                   "countersigns them.")
@click.option("--learner-id", type=click.UUID, default=None, help="For learners: the learner record this account is.")
@click.password_option(envvar="QUALTRACK_NEW_PASSWORD", help="Prompted for if not given (or QUALTRACK_NEW_PASSWORD).")
def create_user(email, display_name, roles, centres, awarding_body, assessor_status, learner_id, password) -> None:
    """Create a person's account. The password is hashed with argon2 and never printed."""
    from api.services import accounts

    _database(Settings.from_env())
    try:
        account = accounts.create_account(email, password, display_name=display_name, roles=list(roles),
                                          centres=list(centres), awarding_body=awarding_body,
                                          assessor_status=assessor_status, learner_id=learner_id)
    except Exception as error:  # noqa: BLE001 - reported as a clean CLI error
        _report_failure(error)
    click.echo(f"account {account.email}: {account.id} roles={','.join(account.roles)}")


def _operator():
    """Who the audit log says did what an operator does with this command."""
    import uuid

    from api.services.common.access import Principal

    return Principal(kind="account", id=uuid.UUID(int=0), roles=frozenset({"admin"}))


def _set_active(kind: str, identifier: str, active: bool) -> None:
    """Disable or re-enable an account (by email) or a client (by client_id), audited, and say what happened."""
    from api.services import accounts

    _database(Settings.from_env())
    try:
        with db.write_transaction():
            if kind == "account":
                row = accounts.find_account(_operator(), email=identifier)
            else:
                row = accounts.find_client(_operator(), client_id=identifier)
            was_active = row.is_active
            row = accounts.set_active(_operator(), row, active)
    except Exception as error:  # noqa: BLE001 - reported as a clean CLI error
        _report_failure(error)
    state = "enabled" if active else "disabled"
    already = " (it already was)" if was_active == active else ""
    note = "" if active else "; its tokens no longer work"
    click.echo(f"{kind} {identifier}: {state}{already}{note}")


@main.command("disable-user")
@click.option("--email", required=True)
def disable_user(email: str) -> None:
    """Disable an account: it cannot sign in, and every token it holds stops working at once, on every host."""
    _set_active("account", email, False)


@main.command("enable-user")
@click.option("--email", required=True)
def enable_user(email: str) -> None:
    """Re-enable a disabled account: it can sign in again (tokens from before it was disabled stay dead)."""
    _set_active("account", email, True)


@main.command("disable-client")
@click.option("--client-id", required=True, help="The client's id (qtc_...).")
def disable_client(client_id: str) -> None:
    """Disable an API client: it cannot get tokens, and every token it holds stops working at once."""
    _set_active("client", client_id, False)


@main.command("enable-client")
@click.option("--client-id", required=True, help="The client's id (qtc_...).")
def enable_client(client_id: str) -> None:
    """Re-enable a disabled API client (tokens from before it was disabled stay dead)."""
    _set_active("client", client_id, True)


@main.command("set-assessor-status")
@click.option("--email", required=True)
@click.option("--assessor-status", required=True, type=click.Choice(["qualified", "trainee"]))
def set_assessor_status(email: str, assessor_status: str) -> None:
    """Set an assessor's status (for example an assessor created before the status was required, who cannot record
    decisions until it is set)."""
    from api.services import accounts

    _database(Settings.from_env())
    try:
        with db.write_transaction():
            account = accounts.set_assessor_status(_operator(), email, assessor_status)
    except Exception as error:  # noqa: BLE001 - reported as a clean CLI error
        _report_failure(error)
    click.echo(f"account {account.email}: assessor status {account.assessor_status}")


@main.command("create-client")
@click.option("--name", required=True, help="What the client is, e.g. 'Acme LMS'.")
@click.option("--scope", "scopes", multiple=True, required=True,
              type=click.Choice(["content:read", "content:write", "tracking:read", "tracking:write", "import"]))
@click.option("--centre", default=None, help="Bind to this centre code ...")
@click.option("--awarding-body", default=None, help="... or to this awarding body slug.")
def create_client(name, scopes, centre, awarding_body) -> None:
    """Create an API client and print its id and secret. The secret is shown this once and stored only hashed."""
    from api.services import accounts

    _database(Settings.from_env())
    try:
        new = accounts.create_client(name, list(scopes), centre=centre, awarding_body=awarding_body)
    except Exception as error:  # noqa: BLE001 - reported as a clean CLI error
        _report_failure(error)
    click.echo(f"client_id:     {new.client.client_id}")
    click.echo(f"client_secret: {new.secret}")
    click.echo("Store the secret now: it is not stored in clear and cannot be shown again.", err=True)


@main.command("import-case")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--awarding-body", required=True, help="Slug of the awarding body whose units these become.")
def import_case(path: Path, awarding_body: str) -> None:
    """Import a CASE CFPackage (JSON, CASE 1.0 or 1.1) as draft units of an awarding body."""
    import json
    import uuid

    from api.db import write_transaction
    from api.errors import ApiError
    from api.services.common.access import Principal
    from api.services.interop import case_import

    settings = Settings.from_env()
    _database(settings)
    try:
        package = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.ClickException(f"{path} is not a JSON CFPackage: {exc}") from None
    operator = Principal(kind="account", id=uuid.UUID(int=0), roles=frozenset({"admin"}))
    try:
        with write_transaction():
            units = case_import.import_package(operator, package, awarding_body)
    except ApiError as error:
        details = "".join(f"\n  {k}: {'; '.join(v)}" for k, v in (error.errors or {}).items())
        raise click.ClickException(f"{error.detail}{details}") from None
    for unit in units:
        click.echo(f"  {unit['outcome']:<9} {unit['code']} (version {unit['version']}, draft)")
    click.echo(f"{len(units)} unit(s) from {path}")


@main.command("import-learners")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--centre", "centre_code", required=True, help="Code of the centre the learners belong to.")
@click.option("--mode", type=click.Choice(["all_or_nothing", "valid_rows"]), default="all_or_nothing",
              show_default=True, help="Refuse the whole file if any row is wrong, or import the valid rows.")
@click.option("--dry-run", is_flag=True, help="Check every row and count what the import would do; write nothing.")
@click.option("--clear-empty", is_flag=True,
              help="An empty email or date_of_birth cell (NDJSON: \"\" or null) clears the stored value. Without it "
                   "an empty cell, like a column the file lacks, leaves the stored value as it is.")
@click.option("--processes", type=click.IntRange(min=1), default=lambda: min(os.cpu_count() or 1, 4),
              show_default="one per core, at most 4", help="Processes that check a large file (1: this one only).")
def import_learners(path: Path, centre_code: str, mode: str, dry_run: bool, clear_empty: bool, processes: int) -> None:
    """Import learners (and enrolments) from a CSV or NDJSON file; re-running a file is safe and resumes it.

    Exit status (of a dry run too: what the real run would do): 0 every row imported; 1 nothing imported (the file,
    or in all_or_nothing mode any row, was refused); 3 some rows refused, the others imported (valid_rows)."""
    import uuid

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from api.errors import ApiError
    from api.models import Centre
    from api.services.common.access import Principal
    from api.services.imports import jobs, learner_import

    _database(Settings.from_env())
    centre = Centre.get_or_none(Centre.code == centre_code)
    if centre is None:
        raise click.ClickException(f"no centre with code {centre_code!r} (see create-centre)")
    file_format = "ndjson" if path.suffix.lower() in (".ndjson", ".jsonl") else "csv"
    operator = Principal(kind="account", id=uuid.UUID(int=0), roles=frozenset({"admin"}))
    console = Console(stderr=True)
    total = max(1, sum(1 for _ in path.open("rb")) - (file_format == "csv"))
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console, transient=True) as bar, path.open("rb") as stream:
            task = bar.add_task(f"importing {path.name}", total=total)
            job = learner_import.run_import(operator, centre.id, stream, file_format, mode=mode, dry_run=dry_run,
                                            progress=lambda rows: bar.update(task, completed=rows),
                                            processes=processes, clear_empty=clear_empty)
    except ApiError as error:
        details = "".join(f"\n  {k}: {'; '.join(v)}" for k, v in (error.errors or {}).items())
        raise click.ClickException(f"{error.detail}{details}") from None
    body = jobs.job_body(job)
    table = Table(title=f"{path.name}: {job.status}{' (dry run: nothing written)' if dry_run else ''}")
    names = ("received", "created", "updated", "unchanged", "rejected")
    for name in (*names, "enrolments created", "enrolments unchanged"):
        table.add_column(name, justify="right")
    table.add_row(*(str(body["counts"][name]) for name in names), str(body["enrolments"]["created"]),
                  str(body["enrolments"]["unchanged"]))
    Console().print(table)
    for problem in jobs.problems_of(job, limit=50):
        click.echo(f"  row {problem['row']}: {problem['field']}: {problem['message']}")
    if job.status == "rejected" or (dry_run and mode == "all_or_nothing" and job.rejected):
        raise SystemExit(1)
    if job.rejected:
        raise SystemExit(3)


@main.command("export-schema")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              default=lambda: str(PROJECT_ROOT / "schema" / "qualtrack.graphql"),
              show_default="schema/qualtrack.graphql")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if the file differs from the live schema.")
def export_schema(output: Path, check: bool) -> None:
    """Write the GraphQL schema (SDL) to a file, so that every change to it shows in review."""
    from api.gql.schema import schema_sdl

    sdl = schema_sdl()
    current = output.read_text(encoding="utf-8") if output.exists() else None
    if check:
        if current != sdl:
            raise click.ClickException(f"{output} is not the live schema: run `qualtrack export-schema`")
        click.echo(f"{output} is up to date")
        return
    output.write_text(sdl, encoding="utf-8")
    click.echo(f"{'unchanged' if current == sdl else 'wrote'} {output} ({sdl.count(chr(10))} lines)")


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
    database = _database(settings)
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


if __name__ == "__main__":
    main()
