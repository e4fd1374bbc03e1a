"""qualtrack import-learners: a bulk learner import from a CSV or NDJSON file, with a progress bar and a report."""

import os
from pathlib import Path

import click

from api.cli.group import connect, explained, main, operator
from api.config import Settings


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

    Progress goes to stderr: a bar on a terminal, otherwise a line as each batch is committed ("rows 1000 of 8000
    committed"), for a script's log. Exit status (of a dry run too: what the real run would do): 0 every row imported;
    1 nothing imported (the file, or in all_or_nothing mode any row, was refused); 3 some rows refused, the others
    imported (valid_rows)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from api.errors import ApiError
    from api.models import Centre
    from api.services.imports import jobs, learner_import

    connect(Settings.from_env())
    centre = Centre.get_or_none(Centre.code == centre_code)
    if centre is None:
        raise click.ClickException(f"no centre with code {centre_code!r} (see create-centre)")
    file_format = "ndjson" if path.suffix.lower() in (".ndjson", ".jsonl") else "csv"
    console = Console(stderr=True)
    total = max(1, sum(1 for _ in path.open("rb")) - (file_format == "csv"))
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console, transient=True) as bar, path.open("rb") as stream:
            task = bar.add_task(f"importing {path.name}", total=total)

            def committed(rows: int) -> None:
                bar.update(task, completed=rows)
                if not console.is_terminal and not dry_run:
                    click.echo(f"rows {rows} of {total} committed", err=True)

            job = learner_import.run_import(operator(), centre.id, stream, file_format, mode=mode, dry_run=dry_run,
                                            progress=committed,
                                            processes=processes, clear_empty=clear_empty)
    except ApiError as error:
        raise explained(error) from None
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
