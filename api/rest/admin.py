"""REST views for account administration (admins only): look up, disable and re-enable accounts and API clients.
Thin: parse, call api.services.accounts, respond. Disabling stops the principal's tokens at once, on every host."""

from flask import Blueprint

from api.auth import current_principal
from api.inputs import takes_no_body
from api.inputs.params import NO_ARGS
from api.rest.http import json_response, parse_args, parse_id, write_endpoint
from api.services import accounts

bp = Blueprint("admin", __name__)


@bp.get("/admin/accounts/<account_id>")
def get_account(account_id):
    """One account: its email, roles, assessor status and whether it is active."""
    parse_args(NO_ARGS)
    account = accounts.find_account(current_principal(), account_id=parse_id(account_id, "account"))
    return json_response(accounts.account_body(account), cache_control="private, no-cache")


@bp.get("/admin/clients/<client_id>")
def get_client(client_id):
    """One API client: its client_id, name, scopes and whether it is active."""
    parse_args(NO_ARGS)
    client = accounts.find_client(current_principal(), row_id=parse_id(client_id, "client"))
    return json_response(accounts.client_body(client), cache_control="private, no-cache")


def _set_account_active(account_id: str, active: bool):
    parse_args(NO_ARGS)
    principal = current_principal()
    account = accounts.find_account(principal, account_id=parse_id(account_id, "account"))
    return json_response(accounts.account_body(accounts.set_active(principal, account, active)),
                         cache_control="no-store")


def _set_client_active(client_id: str, active: bool):
    parse_args(NO_ARGS)
    principal = current_principal()
    client = accounts.find_client(principal, row_id=parse_id(client_id, "client"))
    return json_response(accounts.client_body(accounts.set_active(principal, client, active)),
                         cache_control="no-store")


@bp.post("/admin/accounts/<account_id>/disable")
@write_endpoint
@takes_no_body
def disable_account(account_id):
    """Disable an account: no more sign-ins, and every token it holds stops working at once."""
    return _set_account_active(account_id, False)


@bp.post("/admin/accounts/<account_id>/enable")
@write_endpoint
@takes_no_body
def enable_account(account_id):
    """Re-enable an account (tokens issued before it was disabled stay dead)."""
    return _set_account_active(account_id, True)


@bp.post("/admin/clients/<client_id>/disable")
@write_endpoint
@takes_no_body
def disable_client(client_id):
    """Disable an API client: no more tokens, and every token it holds stops working at once."""
    return _set_client_active(client_id, False)


@bp.post("/admin/clients/<client_id>/enable")
@write_endpoint
@takes_no_body
def enable_client(client_id):
    """Re-enable an API client (tokens issued before it was disabled stay dead)."""
    return _set_client_active(client_id, True)
