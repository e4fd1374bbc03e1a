"""Credentials: passwords and client secrets are stored only as argon2 hashes; signing in checks them, taking as long
for an unknown email or client as for a wrong password."""

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from api.errors import InvalidClient, InvalidGrant
from api.models import Account, ApiClient

hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when the account or client does not exist, so that answer takes as long as a wrong
    password. Made on first use: hashing takes argon2's 64 MiB and its deliberate slowness, which no process should
    pay at import."""
    return hasher.hash("timing-equaliser")


def _verify(hash_: str, secret: str) -> bool:
    try:
        return hasher.verify(hash_, secret)
    except (VerificationError, InvalidHashError):
        return False


def account_by_email(email: str) -> Account | None:
    """The account with this email (stored trimmed and lower-cased, so looked up the same way), or None."""
    return Account.get_or_none(Account.email == email.strip().lower())


def authenticate_password(email: str, password: str) -> Account:
    """The active account with this email and password; InvalidGrant otherwise (the same answer for every cause)."""
    account = account_by_email(email)
    ok = _verify(account.password_hash if account else _dummy_hash(), password)
    if account is None or not ok or not account.is_active:
        raise InvalidGrant("the email or password is wrong, or the account is disabled")
    return account


def authenticate_client(client_id: str, secret: str) -> ApiClient:
    """The active client with this id and secret; InvalidClient otherwise."""
    client = ApiClient.get_or_none(ApiClient.client_id == client_id)
    ok = _verify(client.secret_hash if client else _dummy_hash(), secret)
    if client is None or not ok or not client.is_active:
        raise InvalidClient("unknown client, wrong secret, or the client is disabled")
    return client
