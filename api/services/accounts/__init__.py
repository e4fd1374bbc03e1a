"""Accounts: centres (the tenants), person accounts and API clients (administration), how they sign in
(credentials) and the tokens they then hold (tokens). The names below are the domain's public face:
``from api.services import accounts; accounts.create_account(...)``."""

from api.services.accounts.administration import (
    NewClient,
    account_body,
    client_body,
    create_account,
    create_client,
    find_account,
    find_client,
    set_active,
    set_assessor_status,
)
from api.services.accounts.centres import create_centre
from api.services.accounts.credentials import authenticate_client, authenticate_password
from api.services.accounts.tokens import (
    TokenState,
    account_claims,
    client_claims,
    fresh_claims,
    is_revoked,
    principal_from_claims,
    purge_expired_revocations,
    revoke,
    revoke_family,
    token_family,
    token_is_revoked,
    token_state,
    use_refresh_token,
)

__all__ = [
    "NewClient", "TokenState", "account_body", "account_claims", "authenticate_client",
    "authenticate_password", "client_body", "client_claims", "create_account", "create_centre", "create_client",
    "find_account", "find_client", "fresh_claims", "is_revoked", "principal_from_claims", "purge_expired_revocations",
    "revoke", "revoke_family", "set_active", "set_assessor_status", "token_family", "token_is_revoked",
    "token_state", "use_refresh_token",
]
