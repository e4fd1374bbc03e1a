"""Person accounts and API clients as admins (and the operator's command line) manage them: creating them, setting an
assessor's status, finding them, disabling and re-enabling them.

Passwords and client secrets are stored only as argon2 hashes (api.services.accounts.credentials); a client secret
is returned once, at creation.
"""

import re
import secrets
import uuid
from dataclasses import dataclass

from api.errors import Forbidden, NotFound, ValidationFailed
from api.ids import new_id
from api.models import Account, AccountCentre, ApiClient, AwardingBody, Learner
from api.models.accounts import ASSESSOR_STATUSES, ROLES, SCOPES
from api.services.accounts.centres import centres_by_code
from api.services.accounts.credentials import account_by_email, hasher
from api.services.common import audit
from api.services.common.access import Principal, can_manage_accounts, require, require_authenticated

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 12


def _awarding_body(slug: str | None) -> AwardingBody | None:
    """The awarding body with this slug (None for None); NotFound if there is none."""
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
    centre_rows = centres_by_code(list(centres))
    body = _awarding_body(awarding_body)
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
    centre_row = centres_by_code([centre])[0] if centre else None
    body = _awarding_body(awarding_body)
    secret = secrets.token_urlsafe(32)
    client = ApiClient.create(id=new_id(), client_id="qtc_" + secrets.token_urlsafe(12), name=name.strip(),
                              secret_hash=hasher.hash(secret), centre=centre_row.id if centre_row else None,
                              awarding_body=body.id if body else None, scopes=sorted(set(scopes)))
    return NewClient(client, secret)


def _require_admin(principal: Principal) -> None:
    require_authenticated(principal)
    require(can_manage_accounts(principal), "only an admin manages accounts and clients")


def _account_by_email(email: str) -> Account:
    account = account_by_email(email)
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
    if not can_manage_accounts(principal):
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
    audit.record(principal, f"{kind}.{'enabled' if active else 'disabled'}", kind, row.id,
                 before={"is_active": not active}, after={"is_active": active})
    return row
