"""qualtrack worker (delivers webhooks) and qualtrack webhooks ... (register and manage endpoints as the operator)."""

import json
import os
import signal
import socket
import threading
import uuid
from datetime import datetime

import click

from api.cli.group import connect, explained, main, operator
from api.config import Settings


@main.command("worker")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit (for cron jobs and checks).")
def worker(once: bool) -> None:
    """Deliver webhooks: send each endpoint the feed's events, signed, in order, retrying for about 3 days. Run one
    beside the API, or several on one PostgreSQL database (they share the endpoints, never sending one attempt
    twice). Stops cleanly on SIGTERM or SIGINT after the attempt in flight."""
    from api.services.webhooks import delivery

    settings = Settings.from_env()
    settings.signing_secret()  # refuse to start without the key the API seals feed cursors with
    connect(settings)
    stopping = threading.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: stopping.set())
    name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def idle_wait() -> None:
        if once:
            stopping.set()
        else:
            stopping.wait(settings.webhook_poll_ms / 1000)

    click.echo(f"webhook worker {name} started", err=True)
    delivery.run(name, stop=stopping.is_set, idle_wait=idle_wait)
    click.echo(f"webhook worker {name} stopped", err=True)


@main.group("webhooks")
def webhooks() -> None:
    """Register and manage webhook endpoints as the operator (the API does the same for centres and bodies)."""


def _call(action, *args, **kwargs):
    from api import db
    from api.errors import ApiError

    connect(Settings.from_env())
    try:
        with db.write_transaction():
            return action(operator(), *args, **kwargs)
    except ApiError as error:
        raise explained(error) from None


def _show(document) -> None:
    click.echo(json.dumps(document, indent=2))


@webhooks.command("add")
@click.option("--centre", "centre_code", help="Code of the centre whose events it receives.")
@click.option("--awarding-body", help="Slug of the awarding body whose content events it receives.")
@click.option("--url", required=True, help="Where to POST the events (https, a public address).")
@click.option("--type", "types", multiple=True, help="An event type or kind (decision.*) to send; all if none.")
@click.option("--description", help="What the endpoint is for.")
def add(centre_code, awarding_body, url, types, description) -> None:
    """Register an endpoint; prints it and its secret (whsec_...)."""
    from api.models import Centre
    from api.services.webhooks import endpoints

    def create(principal):
        data = {"url": url, "types": list(types) or None, "description": description, "awarding_body": awarding_body}
        if centre_code:
            centre = Centre.get_or_none(Centre.code == centre_code)
            if centre is None:
                raise click.ClickException(f"no centre with code {centre_code!r} (see create-centre)")
            data["centre_id"] = centre.id
        endpoint, secret = endpoints.create_endpoint(principal, {k: v for k, v in data.items() if v is not None})
        return {**endpoints.endpoint_body(endpoint), "secret": secret}

    _show(_call(create))


@webhooks.command("list")
def list_endpoints() -> None:
    """Every endpoint, as JSON."""
    from api.services.webhooks import endpoints

    _show(_call(endpoints.list_endpoints))


@webhooks.command("rotate-secret")
@click.argument("endpoint_id", type=click.UUID)
def rotate_secret(endpoint_id: uuid.UUID) -> None:
    """A new secret; the old one signs too for 24 hours."""
    from api.services.webhooks import endpoints

    _show(_call(endpoints.rotate_secret, endpoint_id))


@webhooks.command("set-status")
@click.argument("endpoint_id", type=click.UUID)
@click.argument("status", type=click.Choice(["active", "disabled"]))
def set_status(endpoint_id: uuid.UUID, status: str) -> None:
    """Enable (it is sent what it missed) or disable an endpoint."""
    from api.services.webhooks import endpoints

    _show(endpoints.endpoint_body(_call(endpoints.update_endpoint, endpoint_id, {"status": status})))


@webhooks.command("recover")
@click.argument("endpoint_id", type=click.UUID)
@click.option("--since", required=True, type=click.DateTime(["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]),
              help="UTC time to send the events again from.")
def recover(endpoint_id: uuid.UUID, since: datetime) -> None:
    """Send every event again from --since on, then what follows."""
    from api.services.webhooks import endpoints

    _show(endpoints.endpoint_body(_call(endpoints.recover, endpoint_id, since)))


@webhooks.command("delete")
@click.argument("endpoint_id", type=click.UUID)
def delete(endpoint_id: uuid.UUID) -> None:
    """Delete an endpoint and its delivery log."""
    from api.services.webhooks import endpoints

    _call(endpoints.delete_endpoint, endpoint_id)
    click.echo(f"deleted {endpoint_id}")
