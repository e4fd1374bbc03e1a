"""qualtrack check-progress: whether the progress tallies a centre's roll-up sums match the records they count."""

import click

from api.cli.group import connect, main
from api.config import Settings


@main.command("check-progress")
@click.option("--repair", is_flag=True, help="Store every enrolment's tally afresh from its records.")
def check_progress(repair: bool) -> None:
    """Check that every enrolment's stored progress tally (what a centre's progress sums) is what its records derive;
    exit 1 naming the enrolments whose tally differs. With --repair, rebuild the tallies first."""
    from api.services.tracking import tallies

    connect(Settings.from_env())
    if repair:
        click.echo(f"stored the tallies of {tallies.rebuild()} enrolments")
    drifted = tallies.drift()
    for found in drifted:
        click.echo(f"enrolment {found['enrolment_id']}: stored {found['stored']}, derived {found['derived']}",
                   err=True)
    if drifted:
        raise SystemExit(1)
    click.echo("every enrolment's progress tally matches its records")
