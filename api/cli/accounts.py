"""qualtrack commands that manage centres, accounts and API clients: create them, disable and re-enable them, set an
assessor's status. Each is audited as the operator's doing."""

import click

from api import db
from api.cli.group import connect, main, operator, report_failure
from api.config import Settings
from api.models.accounts import SCOPES


@main.command("create-centre")
@click.option("--code", required=True, help="Short unique code, e.g. the provider's UKPRN.")
@click.option("--name", required=True)
def create_centre(code: str, name: str) -> None:
    """Create a centre (a tenant: college, training provider or employer)."""
    from api.services import accounts

    connect(Settings.from_env())
    try:
        centre = accounts.create_centre(code, name)
    except Exception as error:  # noqa: BLE001 - reported as a clean CLI error
        report_failure(error)
    click.echo(f"centre {centre.code}: {centre.id}")


@main.command("rotate-issuer-key")
@click.option("--centre", "centre_code", default=None, help="The centre's code.")
@click.option("--awarding-body", "body_slug", default=None, help="Or the awarding body's slug.")
def rotate_issuer_key(centre_code: str | None, body_slug: str | None) -> None:
    """Give a centre (or an awarding body that issues its own credentials) a new key to sign credentials with. The
    old one is retired but stays on the issuer's profile, so every credential it signed stays verifiable."""
    from api.services.credentials import keys

    connect(Settings.from_env())
    issuer = _issuer(centre_code, body_slug)
    try:
        key = keys.rotate(operator(), issuer)
    except Exception as error:  # noqa: BLE001 - reported as a clean CLI error
        report_failure(error)
    click.echo(f"{issuer.name}: new signing key {key.public_key_multibase}")


@main.command("set-credential-issuer")
@click.option("--awarding-body", "body_slug", required=True, help="The awarding body's slug.")
@click.option("--off", is_flag=True, help="Go back to credentials issued by the learners' centres.")
def set_credential_issuer(body_slug: str, off: bool) -> None:
    """Have an awarding body issue (sign, and keep the status lists of) the credentials of its own units and
    qualifications, from now on, instead of the learners' centres. Credentials issued before keep their issuer."""
    from api.models import AwardingBody
    from api.services.credentials import keys

    connect(Settings.from_env())
    body = AwardingBody.get_or_none(AwardingBody.slug == body_slug)
    if body is None:
        raise click.ClickException(f"no awarding body {body_slug!r}")
    try:
        keys.set_body_issuing(operator(), body, not off)
    except Exception as error:  # noqa: BLE001 - reported as a clean CLI error
        report_failure(error)
    click.echo(f"{body.name} {'no longer issues' if off else 'issues'} the credentials of its units and "
               f"qualifications (issuer id {body.id})")


def _issuer(centre_code: str | None, body_slug: str | None):
    """The issuer a command names: exactly one of a centre's code and an awarding body's slug."""
    from api.models import AwardingBody, Centre
    from api.services.credentials import keys

    if (centre_code is None) == (body_slug is None):
        raise click.UsageError("name either --centre or --awarding-body")
    if centre_code is not None:
        centre = Centre.get_or_none(Centre.code == centre_code)
        if centre is None:
            raise click.ClickException(f"no centre with code {centre_code!r}")
        return keys.centre_issuer(centre)
    body = AwardingBody.get_or_none(AwardingBody.slug == body_slug)
    if body is None:
        raise click.ClickException(f"no awarding body {body_slug!r}")
    return keys.Issuer(body.id, body.name, body=True)


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

    connect(Settings.from_env())
    try:
        account = accounts.create_account(email, password, display_name=display_name, roles=list(roles),
                                          centres=list(centres), awarding_body=awarding_body,
                                          assessor_status=assessor_status, learner_id=learner_id)
    except Exception as error:  # noqa: BLE001 - reported as a clean CLI error
        report_failure(error)
    click.echo(f"account {account.email}: {account.id} roles={','.join(account.roles)}")


def _set_active(kind: str, identifier: str, active: bool) -> None:
    """Disable or re-enable an account (by email) or a client (by client_id), audited, and say what happened."""
    from api.services import accounts

    connect(Settings.from_env())
    try:
        with db.write_transaction():
            if kind == "account":
                row = accounts.find_account(operator(), email=identifier)
            else:
                row = accounts.find_client(operator(), client_id=identifier)
            was_active = row.is_active
            row = accounts.set_active(operator(), row, active)
    except Exception as error:  # noqa: BLE001 - reported as a clean CLI error
        report_failure(error)
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

    connect(Settings.from_env())
    try:
        with db.write_transaction():
            account = accounts.set_assessor_status(operator(), email, assessor_status)
    except Exception as error:  # noqa: BLE001 - reported as a clean CLI error
        report_failure(error)
    click.echo(f"account {account.email}: assessor status {account.assessor_status}")


@main.command("create-client")
@click.option("--name", required=True, help="What the client is, e.g. 'Acme LMS'.")
@click.option("--scope", "scopes", multiple=True, required=True,
              type=click.Choice(SCOPES))
@click.option("--centre", default=None, help="Bind to this centre code ...")
@click.option("--awarding-body", default=None, help="... or to this awarding body slug.")
def create_client(name, scopes, centre, awarding_body) -> None:
    """Create an API client and print its id and secret. The secret is shown this once and stored only hashed."""
    from api.services import accounts

    connect(Settings.from_env())
    try:
        new = accounts.create_client(name, list(scopes), centre=centre, awarding_body=awarding_body)
    except Exception as error:  # noqa: BLE001 - reported as a clean CLI error
        report_failure(error)
    click.echo(f"client_id:     {new.client.client_id}")
    click.echo(f"client_secret: {new.secret}")
    click.echo("Store the secret now: it is not stored in clear and cannot be shown again.", err=True)


@main.command("purge-expired")
def purge_expired() -> None:
    """Delete the revocations of tokens that have expired anyway (safe at any time; run it daily, e.g. from cron)."""
    from api.services import accounts

    connect(Settings.from_env())
    try:
        purged = accounts.purge_expired_revocations()
    except Exception as error:  # noqa: BLE001 - reported as a clean CLI error
        report_failure(error)
    click.echo(f"purged {purged['tokens']} expired token revocations and {purged['families']} expired sign-in "
               "family revocations")
