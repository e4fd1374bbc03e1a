"""Centres, accounts and API clients: creation, credential checks, the claims a token carries, revocation.

Passwords and client secrets are stored only as argon2 hashes; a client secret is returned once, at creation.
"""

import functools
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from api import db
from api.errors import ApiError, NotFound, ValidationFailed
from api.ids import new_id
from api.models import Account, AccountCentre, ApiClient, AwardingBody, Centre, Learner, RevokedToken
from api.models.accounts import ASSESSOR_STATUSES, ROLES, SCOPES
from api.models.base import utcnow
from api.services.access import Principal

hasher = PasswordHasher()
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 12


class InvalidGrant(ApiError):
    """OAuth2 invalid_grant: wrong username or password, or an unusable refresh token."""

    status, title, type = 400, "Invalid grant", "/problems/invalid-grant"


class InvalidClient(ApiError):
    """OAuth2 invalid_client: unknown client or wrong secret."""

    status, title, type = 401, "Invalid client", "/problems/invalid-client"

    def __init__(self, detail: str):
        super().__init__(detail, headers={"WWW-Authenticate": 'Basic realm="qualtrack"'})


def create_centre(code: str, name: str) -> Centre:
    """A new centre; ValidationFailed if the code is taken or blank."""
    code, name = code.strip(), name.strip()
    if not code or not name:
        raise ValidationFailed("a centre needs a code and a name")
    if Centre.select().where(Centre.code == code).exists():
        raise ValidationFailed(f"centre code {code!r} is already taken", errors={"code": ["already taken"]})
    return Centre.create(id=new_id(), code=code, name=name)


def _centres_by_code(codes: list[str]) -> list[Centre]:
    centres = list(Centre.select().where(Centre.code.in_(codes))) if codes else []
    missing = sorted(set(codes) - {c.code for c in centres})
    if missing:
        raise NotFound(f"unknown centre(s): {', '.join(missing)}")
    return centres


def _body(slug: str | None) -> AwardingBody | None:
    if slug is None:
        return None
    body = AwardingBody.get_or_none(AwardingBody.slug == slug)
    if body is None:
        raise NotFound(f"unknown awarding body {slug!r}")
    return body


def create_account(email: str, password: str, *, display_name: str | None = None, roles: list[str],
                   centres: list[str] = (), awarding_body: str | None = None, assessor_status: str | None = None,
                   learner_id: uuid.UUID | None = None) -> Account:
    """A new person account with an argon2-hashed password; ValidationFailed on any inconsistent field."""
    email = email.strip().lower()
    errors: dict[str, list[str]] = {}
    if not EMAIL.match(email):
        errors["email"] = ["not an email address"]
    elif Account.select().where(Account.email == email).exists():
        errors["email"] = ["already registered"]
    if len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = [f"at least {MIN_PASSWORD_LENGTH} characters"]
    unknown = sorted(set(roles) - set(ROLES))
    if unknown or not roles:
        errors["roles"] = [f"choose from {', '.join(ROLES)}" + (f"; unknown: {', '.join(unknown)}" if unknown else "")]
    if "author" in roles and not awarding_body:
        errors["awarding_body"] = ["an author belongs to an awarding body"]
    if assessor_status is not None and assessor_status not in ASSESSOR_STATUSES:
        errors["assessor_status"] = [f"one of {', '.join(ASSESSOR_STATUSES)}"]
    if set(roles) & {"centre_admin", "assessor", "iqa", "learner"} and not centres:
        errors["centres"] = ["centre staff and learners belong to at least one centre"]
    if learner_id is not None and not Learner.select().where(Learner.id == learner_id).exists():
        errors["learner_id"] = ["no such learner record"]
    if errors:
        raise ValidationFailed("the account is not valid: " + ", ".join(sorted(errors)), errors=errors)
    centre_rows = _centres_by_code(list(centres))
    body = _body(awarding_body)
    account = Account.create(id=new_id(), email=email, display_name=(display_name or email).strip(),
                             password_hash=hasher.hash(password), roles=sorted(set(roles)),
                             awarding_body=body.id if body else None, assessor_status=assessor_status,
                             learner_id=learner_id)
    if centre_rows:
        AccountCentre.insert_many([{"account": account.id, "centre": c.id} for c in centre_rows]).execute()
    return account


@dataclass
class NewClient:
    """A freshly created client and its secret: the only moment the secret exists in clear."""

    client: ApiClient
    secret: str


def create_client(name: str, scopes: list[str], *, centre: str | None = None,
                  awarding_body: str | None = None) -> NewClient:
    """A new API client bound to one centre or one awarding body; its secret is returned here and never again."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ValidationFailed(f"scopes must be chosen from {', '.join(SCOPES)}",
                               errors={"scopes": unknown or ["none given"]})
    if (centre is None) == (awarding_body is None):
        raise ValidationFailed("a client is bound to exactly one centre or one awarding body")
    centre_row = _centres_by_code([centre])[0] if centre else None
    body = _body(awarding_body)
    secret = secrets.token_urlsafe(32)
    client = ApiClient.create(id=new_id(), client_id="qtc_" + secrets.token_urlsafe(12), name=name.strip(),
                              secret_hash=hasher.hash(secret), centre=centre_row.id if centre_row else None,
                              awarding_body=body.id if body else None, scopes=sorted(set(scopes)))
    return NewClient(client, secret)


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when the account or client does not exist, so that answer takes as long as a wrong
    password. Made on first use: hashing takes argon2's 64 MiB and ~50 ms, which no process should pay at import."""
    return hasher.hash("timing-equaliser")


def _verify(hash_: str, secret: str) -> bool:
    try:
        return hasher.verify(hash_, secret)
    except (VerificationError, InvalidHashError):
        return False


def authenticate_password(email: str, password: str) -> Account:
    """The active account with this email and password; InvalidGrant otherwise (the same answer for every cause)."""
    account = Account.get_or_none(Account.email == email.strip().lower())
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


def account_claims(account: Account) -> dict:
    """What an account's token says about it (roles, centres, awarding body, assessor status, learner)."""
    centre_ids = [str(c) for (c,) in AccountCentre.select(AccountCentre.centre)
                  .where(AccountCentre.account == account.id).tuples()]
    return {"kind": "account", "roles": account.roles, "centres": sorted(centre_ids),
            "bodies": [str(account.awarding_body_id)] if account.awarding_body_id else [], "scopes": [],
            "assessor_status": account.assessor_status,
            "learner_id": str(account.learner_id) if account.learner_id else None}


def client_claims(client: ApiClient) -> dict:
    """What a client's token says about it (scopes and the centre or awarding body it is bound to)."""
    return {"kind": "client", "roles": [], "scopes": client.scopes,
            "centres": [str(client.centre_id)] if client.centre_id else [],
            "bodies": [str(client.awarding_body_id)] if client.awarding_body_id else [],
            "assessor_status": None, "learner_id": None}


def principal_from_claims(subject: str, claims: dict) -> Principal:
    """Rebuild the caller from a verified token's claims."""
    _, _, raw_id = subject.partition(":")
    return Principal(
        kind=claims["kind"], id=uuid.UUID(raw_id), roles=frozenset(claims.get("roles", [])),
        centre_ids=frozenset(uuid.UUID(c) for c in claims.get("centres", [])),
        body_ids=frozenset(uuid.UUID(b) for b in claims.get("bodies", [])),
        scopes=frozenset(claims.get("scopes", [])), assessor_status=claims.get("assessor_status"),
        learner_id=uuid.UUID(claims["learner_id"]) if claims.get("learner_id") else None,
    )


def fresh_claims(subject: str) -> dict:
    """Claims recomputed from the database for a refresh; InvalidGrant if the account or client is gone or disabled."""
    kind, _, raw_id = subject.partition(":")
    model = Account if kind == "account" else ApiClient
    row = model.get_or_none(model.id == uuid.UUID(raw_id))
    if row is None or not row.is_active:
        raise InvalidGrant("the account behind this refresh token no longer exists or is disabled")
    return account_claims(row) if kind == "account" else client_claims(row)


def is_revoked(jti: str) -> bool:
    """Has this token been revoked? (one primary-key lookup, asked on every authenticated request: raw SQL)"""
    return bool(db.fetch_rows("SELECT 1 FROM revoked_token WHERE jti = {p}", [jti]))


REVOCATION_SIGNAL = "-revocations"  # on SQLite, the file beside the database that says a token was revoked


def revocation_stamp() -> tuple | None:
    """The stamp of the revocation signal (api.sqlite_writes.ChangeSignal) on SQLite, None on PostgreSQL. Whatever a
    process found about a token's revocation stays true while the stamp is the same."""
    signal = db.change_signal(REVOCATION_SIGNAL)
    return signal.stamp() if signal is not None else None


def revoke(jti: str, token_type: str, subject: str, expires_at: datetime) -> None:
    """Add a token to the revocation list (idempotent), and signal it on SQLite once the row is written: this
    connection sees it at once; inside a transaction, signal again after the commit, when other processes see it."""
    if not is_revoked(jti):
        RevokedToken.create(jti=jti, token_type=token_type, subject=subject, expires_at=expires_at,
                            revoked_at=utcnow())
    signal = db.change_signal(REVOCATION_SIGNAL)
    if signal is not None:
        signal.signal()
        if db.database_proxy.in_transaction():
            db.database_proxy.after_commit(signal.signal)
