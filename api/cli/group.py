"""The ``qualtrack`` command group, and what its commands share: a connection to the configured database, the
operator the audit log names, and a refusal (an ApiError) reported as a clean command-line error."""

import uuid

import click

from api import db
from api.config import Settings
from api.errors import ApiError


@click.group()
def main() -> None:
    """qualtrack: vocational-qualification content and tracking API."""


def connect(settings: Settings):
    """Bind the models to the configured database and connect to it; the database."""
    database = db.make_database(settings.database_url, sqlite_write_wait_ms=settings.sqlite_write_wait_ms)
    db.bind(database)
    database.connect(reuse_if_open=True)
    return database


def operator():
    """Who the audit log says did what an operator does with this command."""
    from api.services.common.access import Principal

    return Principal(kind="account", id=uuid.UUID(int=0), roles=frozenset({"admin"}))


def report_failure(error) -> None:
    """Raise ``error`` again, as a clean command-line error (detail and field problems on one line) if it is a
    refusal."""
    if isinstance(error, ApiError):
        details = "; ".join(f"{k}: {', '.join(v)}" for k, v in (error.errors or {}).items())
        raise click.ClickException(error.detail + (f" ({details})" if details else ""))
    raise error


def explained(error: ApiError) -> click.ClickException:
    """A refusal as a command-line error: its detail, then each field's problems on a line of their own."""
    details = "".join(f"\n  {k}: {'; '.join(v)}" for k, v in (error.errors or {}).items())
    return click.ClickException(f"{error.detail}{details}")
