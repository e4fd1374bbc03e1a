"""Centres, accounts and API clients: creation, disabling, credential checks, the claims a token carries, and
whether a token still works (revoked itself, its sign-in family revoked, or its account or client disabled).

Passwords and client secrets are stored only as argon2 hashes; a client secret is returned once, at creation.
"""

import functools
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from api import db
from api.errors import Forbidden, InvalidClient, InvalidGrant, NotFound, ValidationFailed
from api.ids import new_id
from api.models import Account, AccountCentre, ApiClient, AwardingBody, Centre, Learner
from api.models.accounts import ASSESSOR_STATUSES, ROLES, SCOPES
from api.models.base import utcnow
from api.services.common import audit
from api.services.common.access import Principal, require, require_authenticated

hasher = PasswordHasher()
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 12


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
    errors.update(_assessor_status_problems(roles, assessor_status))
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


def _assessor_status_problems(roles, assessor_status: str | None) -> dict[str, list[str]]:
    """An assessor's status must be stated (it decides whether their decisions need a countersignature); nobody
    else has one."""
    if "assessor" in roles and assessor_status is None:
        return {"assessor_status": ["required for an assessor: qualified (decisions take effect at once) or trainee "
                                    "(a qualified assessor countersigns them)"]}
    if assessor_status is not None and assessor_status not in ASSESSOR_STATUSES:
        return {"assessor_status": [f"one of {', '.join(ASSESSOR_STATUSES)}"]}
    if assessor_status is not None and "assessor" not in roles:
        return {"assessor_status": ["only an assessor has an assessor status"]}
    return {}


def set_assessor_status(principal: Principal, email: str, assessor_status: str) -> Account:
    """Set an assessor's status (qualified or trainee), audited; for admins (and the CLI's operator)."""
    _require_admin(principal)
    account = _account_by_email(email)
    problems = _assessor_status_problems(account.roles, assessor_status)
    if problems:
        raise ValidationFailed("the assessor status is not valid: " + problems["assessor_status"][0], errors=problems)
    if account.assessor_status != assessor_status:
        before = account.assessor_status
        Account.update(assessor_status=assessor_status).where(Account.id == account.id).execute()
        account.assessor_status = assessor_status
        audit.record(principal, "account.assessor_status_set", "account", account.id,
                     before={"assessor_status": before}, after={"assessor_status": assessor_status})
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
            "learner_id": str(account.learner_id) if account.learner_id else None, "gen": account.token_generation}


def client_claims(client: ApiClient) -> dict:
    """What a client's token says about it (scopes and the centre or awarding body it is bound to)."""
    return {"kind": "client", "roles": [], "scopes": client.scopes,
            "centres": [str(client.centre_id)] if client.centre_id else [],
            "bodies": [str(client.awarding_body_id)] if client.awarding_body_id else [],
            "assessor_status": None, "learner_id": None, "gen": client.token_generation}


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


# Whether a token still works, in one statement: its jti revoked, its sign-in family revoked, and the token
# generation of its account or client if that is active (NULL if disabled or gone). Parameters: jti, family, id.
_TOKEN_STATE_SQL = {kind: f"""
SELECT EXISTS (SELECT 1 FROM revoked_token WHERE jti = {{p}}),
       EXISTS (SELECT 1 FROM revoked_token_family WHERE family_id = {{p}}),
       (SELECT token_generation FROM {table} WHERE id = {{p}} AND is_active)""" for kind, table in (
    ("account", "account"), ("client", "api_client"))}


@dataclass(frozen=True)
class TokenState:
    """What the database says about a token now."""

    revoked: bool  # this token itself (signed out, or a refresh token already rotated)
    family_revoked: bool  # every token of its sign-in
    subject_live: bool  # its account or client exists, is active, and was not disabled since the token was issued

    @property
    def works(self) -> bool:
        return not (self.revoked or self.family_revoked) and self.subject_live


def token_family(payload: dict) -> str:
    """The sign-in family of a verified token: every token issued from one sign-in, refreshes included, shares it
    (a token issued before families existed is a family of its own)."""
    return str(payload.get("fam") or payload["jti"])


def token_state(payload: dict) -> TokenState:
    """Ask the database about a verified token (one statement, asked on every authenticated request)."""
    kind, _, raw_id = str(payload.get("sub", "")).partition(":")
    try:
        subject_id = uuid.UUID(raw_id).hex
    except ValueError:
        subject_id = None
    if kind not in _TOKEN_STATE_SQL or subject_id is None:
        return TokenState(revoked=False, family_revoked=False, subject_live=False)
    [(revoked, family_revoked, generation)] = db.fetch_rows(_TOKEN_STATE_SQL[kind],
                                                            [payload["jti"], token_family(payload), subject_id])
    return TokenState(bool(revoked), bool(family_revoked),
                      generation is not None and generation == payload.get("gen", 0))


def token_is_revoked(payload: dict) -> bool:
    """Whether a verified token no longer works. A refresh token presented after it was rotated or revoked is
    reuse (it was copied): its whole sign-in family is revoked too."""
    state = token_state(payload)
    if state.revoked and payload.get("type") == "refresh" and not state.family_revoked:
        revoke_family(payload)
    return not state.works


def use_refresh_token(payload: dict) -> dict:
    """Spend a verified refresh token on a rotation: the claims for the new tokens, re-read from the database. The
    token dies; if it was spent already (by another request too, at the same moment), that is reuse, and every
    token of its sign-in family is revoked. InvalidGrant whenever no new tokens may be issued."""
    state = token_state(payload)
    if state.family_revoked or not state.subject_live:
        raise InvalidGrant("the refresh token no longer works (signed out, or the account or client is disabled): "
                           "sign in again")
    if state.revoked or not revoke(payload["jti"], "refresh", payload["sub"], _expiry(payload)):
        revoke_family(payload)
        raise InvalidGrant("this refresh token was already used: every token of its sign-in is now revoked, in "
                           "case it was copied; sign in again")
    return fresh_claims(payload["sub"])


def _expiry(payload: dict) -> datetime:
    return datetime.fromtimestamp(payload["exp"], UTC).replace(tzinfo=None)


def is_revoked(jti: str) -> bool:
    """Has this token been revoked? (one primary-key lookup, asked on every authenticated request: raw SQL)"""
    return bool(db.fetch_rows("SELECT 1 FROM revoked_token WHERE jti = {p}", [jti]))


REVOCATION_SIGNAL = "-revocations"  # on SQLite, the file beside the database that says a token was revoked


def revocation_stamp() -> tuple | None:
    """The stamp of the revocation signal (api.sqlite_writes.ChangeSignal) on SQLite, None on PostgreSQL. Whatever a
    process found about a token's revocation stays true while the stamp is the same."""
    signal = db.change_signal(REVOCATION_SIGNAL)
    return signal.stamp() if signal is not None else None


def _signal_revocation() -> None:
    """On SQLite, tell every process that cached tokens must be asked about again: now (this connection sees the
    change at once) and, inside a transaction, again after the commit, when other processes see it."""
    signal = db.change_signal(REVOCATION_SIGNAL)
    if signal is not None:
        signal.signal()
        if db.database_proxy.in_transaction():
            db.database_proxy.after_commit(signal.signal)


def revoke(jti: str, token_type: str, subject: str, expires_at: datetime) -> bool:
    """Add a token to the revocation list, and signal it; whether this call revoked it (False if it already was,
    also when another request revoked it at the same moment: the insert is the arbiter)."""
    inserted = db.fetch_rows("INSERT INTO revoked_token (jti, token_type, subject, expires_at, revoked_at) "
                             "VALUES ({p}, {p}, {p}, {p}, {p}) ON CONFLICT (jti) DO NOTHING RETURNING jti",
                             [jti, token_type, subject, db.db_timestamp(expires_at), db.db_timestamp(utcnow())])
    _signal_revocation()
    return bool(inserted)


def revoke_family(payload: dict) -> None:
    """Revoke every token of a verified token's sign-in family (access and refresh, issued and yet to be refused),
    until the longest a descendant could live; idempotent."""
    from flask import current_app

    lifetime = timedelta(seconds=current_app.config["QUALTRACK"].refresh_token_seconds)
    db.fetch_rows("INSERT INTO revoked_token_family (family_id, subject, expires_at, revoked_at) "
                  "VALUES ({p}, {p}, {p}, {p}) ON CONFLICT (family_id) DO NOTHING RETURNING family_id",
                  [token_family(payload), payload["sub"], db.db_timestamp(utcnow() + lifetime),
                   db.db_timestamp(utcnow())])
    _signal_revocation()


# -- disabling and enabling ------------------------------------------------------------------------------------------

def _require_admin(principal: Principal) -> None:
    require_authenticated(principal)
    require(principal.is_admin, "only an admin manages accounts and clients")


def _account_by_email(email: str) -> Account:
    account = Account.get_or_none(Account.email == email.strip().lower())
    if account is None:
        raise NotFound(f"no account with email {email.strip()!r}")
    return account


def account_body(account: Account) -> dict:
    """An account as admins see it (never its password hash)."""
    return {"id": str(account.id), "email": account.email, "name": account.display_name, "roles": account.roles,
            "assessor_status": account.assessor_status, "is_active": account.is_active,
            "href": f"/v1/admin/accounts/{account.id}"}


def client_body(client: ApiClient) -> dict:
    """An API client as admins see it (never its secret hash)."""
    return {"id": str(client.id), "client_id": client.client_id, "name": client.name, "scopes": client.scopes,
            "is_active": client.is_active, "href": f"/v1/admin/clients/{client.id}"}


def _only_admins_see(principal: Principal, what: str) -> None:
    """Accounts and clients are records only admins see: anyone else is told there is no such record, exactly as for
    one that does not exist (401 first for an anonymous caller)."""
    require_authenticated(principal)
    if not principal.is_admin:
        raise NotFound(f"no {what} visible to you")


def find_account(principal: Principal, *, account_id: uuid.UUID | None = None, email: str | None = None) -> Account:
    """One account, by id or email, for an admin; NotFound if there is none or the caller is not an admin."""
    _only_admins_see(principal, f"account {account_id if email is None else email}")
    if email is not None:
        return _account_by_email(email)
    account = Account.get_or_none(Account.id == account_id)
    if account is None:
        raise NotFound(f"no account {account_id} visible to you")
    return account


def find_client(principal: Principal, *, row_id: uuid.UUID | None = None, client_id: str | None = None) -> ApiClient:
    """One API client, by its id or its client_id (qtc_...), for an admin; NotFound if there is none or the caller
    is not an admin."""
    named = client_id if client_id is not None else row_id
    _only_admins_see(principal, f"client {named}")
    match = ApiClient.client_id == client_id if client_id is not None else ApiClient.id == row_id
    client = ApiClient.get_or_none(match)
    if client is None:
        raise NotFound(f"no client {named} visible to you")
    return client


def set_active(principal: Principal, row: Account | ApiClient, active: bool) -> Account | ApiClient:
    """Disable or re-enable an account or client (admins; audited; idempotent). Disabling stops every token it holds
    at once, on every host, for good: its token generation moves on, so even after re-enabling only tokens issued
    since then work."""
    _require_admin(principal)
    kind = "account" if isinstance(row, Account) else "client"
    if not active and kind == "account" and row.id == principal.id:
        raise Forbidden("an admin cannot disable their own account: ask another admin")
    if row.is_active == active:
        return row
    model = type(row)
    changes = {model.is_active: active}
    if not active:
        changes[model.token_generation] = model.token_generation + 1
    model.update(changes).where(model.id == row.id).execute()
    row = model.get_by_id(row.id)
    _signal_revocation()
    audit.record(principal, f"{kind}.{'enabled' if active else 'disabled'}", kind, row.id,
                 before={"is_active": not active}, after={"is_active": active})
    return row
