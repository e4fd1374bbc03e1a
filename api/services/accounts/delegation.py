"""Acting for people: a centre's client with the ``act_for_accounts`` scope exchanges its own credentials for an
access token of one account of its centre (OAuth 2.0 Token Exchange, RFC 8693), so an LMS can record an assessor's
decisions or a learner's evidence without holding their password.

The token is the person's, narrowed: their centre roles only, and only in the client's centre. Every rule then
applies to the person exactly as if they had called. It names the client in an ``act`` claim (RFC 8693 section 4.1),
the audit log records both, and it works only while the person, the client and the person's consent all still hold:
disabling either, or the person refusing delegation, stops it at once (tokens.token_state).
"""

import uuid

from api.errors import Forbidden, InvalidGrant, UnauthorizedClient
from api.models import Account, AccountCentre, ApiClient
from api.services.accounts.credentials import account_by_email
from api.services.accounts.tokens import account_claims, client_claims, principal_from_claims
from api.services.common import audit
from api.services.common.access import Principal, require, require_authenticated

ACT_SCOPE = "act_for_accounts"
# What a subject_token names: the account's id, or its email (RFC 8693 section 3 leaves the types open).
ACCOUNT_ID_TOKEN_TYPE = "urn:qualtrack:params:oauth:token-type:account-id"
EMAIL_TOKEN_TYPE = "urn:qualtrack:params:oauth:token-type:email"
SUBJECT_TOKEN_TYPES = (ACCOUNT_ID_TOKEN_TYPE, EMAIL_TOKEN_TYPE)
# The roles a client may act in: those held in a centre. Never admin (it cannot be narrowed to one centre), nor
# author (an awarding body's, not a centre's).
CENTRE_ROLES = frozenset({"centre_admin", "assessor", "iqa", "learner"})


def account_to_act_for(client: ApiClient, subject_token_type: str, subject_token: str) -> Account:
    """The account ``client`` may act for, named by a subject token; UnauthorizedClient if the client may not act for
    anyone, InvalidGrant if it may not act for this person. An account that does not exist, is disabled or is not of
    the client's centre gets one answer, so a client learns nothing about other centres' people."""
    if ACT_SCOPE not in client.scopes or client.centre_id is None:
        raise UnauthorizedClient(f"this client may not act for people: that needs a centre's client with the "
                                 f"{ACT_SCOPE} scope")
    account = _named_account(subject_token_type, subject_token)
    in_centre = account is not None and AccountCentre.select().where(
        AccountCentre.account == account.id, AccountCentre.centre == client.centre_id).exists()
    if not (in_centre and account.is_active):
        raise InvalidGrant(f"no active account {subject_token!r} in this client's centre")
    if "admin" in account.roles:
        raise InvalidGrant("a client cannot act for an admin account")
    if not CENTRE_ROLES & set(account.roles):
        raise InvalidGrant("this account has no centre role (centre_admin, assessor, iqa or learner) to act in")
    if not account.accepts_delegation:
        raise InvalidGrant("this person has refused to let clients act for them; they can allow it again with "
                           "PUT /v1/auth/me/delegation")
    return account


def _named_account(subject_token_type: str, subject_token: str) -> Account | None:
    if subject_token_type == EMAIL_TOKEN_TYPE:
        return account_by_email(subject_token)
    try:
        return Account.get_or_none(Account.id == uuid.UUID(subject_token))
    except ValueError:
        return None


def delegated_claims(account: Account, client: ApiClient) -> dict:
    """The claims of a token for ``account`` held by ``client``: the person's centre roles in the client's centre,
    the client as ``act`` (with its token generation), and the person's delegation generation (``dgen``)."""
    claims = account_claims(account)
    roles = sorted(CENTRE_ROLES & set(account.roles))
    claims.update(roles=roles, centres=[str(client.centre_id)], bodies=[],
                  assessor_status=account.assessor_status if "assessor" in roles else None,
                  learner_id=claims["learner_id"] if "learner" in roles else None,
                  act={"sub": f"client:{client.id}", "gen": client.token_generation},
                  dgen=account.delegation_generation)
    return claims


def record_exchange(account: Account, client: ApiClient) -> None:
    """Audit a token issued to ``client`` for ``account`` (in the caller's transaction), where the centre's admins
    read their audit log."""
    acting = principal_from_claims(f"client:{client.id}", client_claims(client))
    audit.record(acting, "account.acted_for", "account", account.id, centre_id=client.centre_id,
                 after={"roles": sorted(CENTRE_ROLES & set(account.roles))})


def set_accepts_delegation(principal: Principal, accepts: bool) -> bool:
    """Allow or refuse clients acting for the calling person (in the caller's transaction; audited; idempotent).
    Refusing stops every token a client holds for them at once, for good: allowing again later does not revive
    them."""
    _require_person_themselves(principal)
    account = Account.get_by_id(principal.id)
    if bool(account.accepts_delegation) == accepts:
        return accepts
    changes = {Account.accepts_delegation: accepts}
    if not accepts:
        changes[Account.delegation_generation] = Account.delegation_generation + 1
    Account.update(changes).where(Account.id == account.id).execute()
    audit.record(principal, "account.delegation_allowed" if accepts else "account.delegation_refused", "account",
                 account.id, before={"accepts_delegation": not accepts}, after={"accepts_delegation": accepts})
    return accepts


def _require_person_themselves(principal: Principal) -> None:
    require_authenticated(principal)
    require(principal.kind == "account", "only a person's account has a delegation setting")
    if principal.acting_client is not None:
        raise Forbidden("a client acting for you cannot change whether clients may act for you: sign in yourself")
