"""Tokens: the claims a token carries (and the caller rebuilt from them), and whether a token still works: revoked
itself, its sign-in family revoked, or its account or client disabled, asked of the database on every request, so a
revocation or a disabled account takes effect at once on every host."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from api import db
from api.errors import InvalidGrant
from api.models import Account, AccountCentre, ApiClient, RevokedToken, RevokedTokenFamily
from api.models.base import utcnow
from api.services.accounts.queries import (
    DELEGATED_TOKEN_STATE_SQL,
    REVOKE_FAMILY_SQL,
    REVOKE_TOKEN_SQL,
    REVOKED_TOKEN_SQL,
    TOKEN_STATE_SQL,
)
from api.services.common.access import Principal


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
        acting_client=_acting_client(claims),
    )


def _acting_client(claims: dict) -> uuid.UUID | None:
    """The client a token's ``act`` claim names (RFC 8693 section 4.1), if any."""
    act = claims.get("act")
    if act is None:
        return None
    kind, _, raw_id = act["sub"].partition(":")
    if kind != "client":
        raise ValueError("the act claim names no client")
    return uuid.UUID(raw_id)


def fresh_claims(subject: str) -> dict:
    """Claims recomputed from the database for a refresh; InvalidGrant if the account or client is gone or disabled."""
    kind, _, raw_id = subject.partition(":")
    model = Account if kind == "account" else ApiClient
    row = model.get_or_none(model.id == uuid.UUID(raw_id))
    if row is None or not row.is_active:
        raise InvalidGrant("the account behind this refresh token no longer exists or is disabled")
    return account_claims(row) if kind == "account" else client_claims(row)


@dataclass(frozen=True)
class TokenState:
    """What the database says about a token now."""

    revoked: bool  # this token itself (signed out, or a refresh token already rotated)
    family_revoked: bool  # every token of its sign-in
    subject_live: bool  # its account or client exists, is active, and was not disabled since the token was issued;
    # for a token a client holds for a person, the client too, and the person has not refused delegation since

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
    subject_id = _hex_id(raw_id)
    if kind not in TOKEN_STATE_SQL or subject_id is None:
        return TokenState(revoked=False, family_revoked=False, subject_live=False)
    act = payload.get("act")
    if act is None:
        [(revoked, family_revoked, generation)] = db.fetch_rows(TOKEN_STATE_SQL[kind],
                                                                [payload["jti"], token_family(payload), subject_id])
        return TokenState(bool(revoked), bool(family_revoked),
                          generation is not None and generation == payload.get("gen", 0))
    client_id = _hex_id(str(act.get("sub", "")).removeprefix("client:")) if isinstance(act, dict) else None
    if kind != "account" or client_id is None:
        return TokenState(revoked=False, family_revoked=False, subject_live=False)
    [(revoked, family_revoked, generation, client_generation)] = db.fetch_rows(
        DELEGATED_TOKEN_STATE_SQL, [payload["jti"], token_family(payload), subject_id, payload.get("dgen"), client_id])
    live = (generation is not None and generation == payload.get("gen")
            and client_generation is not None and client_generation == act.get("gen"))
    return TokenState(bool(revoked), bool(family_revoked), live)


def _hex_id(raw_id: str) -> str | None:
    try:
        return uuid.UUID(raw_id).hex
    except ValueError:
        return None


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
    return bool(db.fetch_rows(REVOKED_TOKEN_SQL, [jti]))


def revoke(jti: str, token_type: str, subject: str, expires_at: datetime) -> bool:
    """Add a token to the revocation list; whether this call revoked it (False if it already was,
    also when another request revoked it at the same moment: the insert is the arbiter)."""
    inserted = db.fetch_rows(REVOKE_TOKEN_SQL, [jti, token_type, subject, db.db_timestamp(expires_at),
                                                db.db_timestamp(utcnow())])
    return bool(inserted)


def revoke_family(payload: dict) -> None:
    """Revoke every token of a verified token's sign-in family (access and refresh, issued and yet to be refused),
    until the longest a descendant could live; idempotent."""
    from flask import current_app

    lifetime = timedelta(seconds=current_app.config["QUALTRACK"].refresh_token_seconds)
    db.fetch_rows(REVOKE_FAMILY_SQL, [token_family(payload), payload["sub"], db.db_timestamp(utcnow() + lifetime),
                                      db.db_timestamp(utcnow())])


def purge_expired_revocations(now: datetime | None = None) -> dict:
    """Delete the revocations of tokens and sign-in families that have expired by ``now`` (by default the current
    time): an expired token is refused for its expiry, so its revocation no longer decides anything. How many of each
    went, as {"tokens": n, "families": n}."""
    now = utcnow() if now is None else now
    with db.write_transaction():
        tokens = RevokedToken.delete().where(RevokedToken.expires_at < now).execute()
        families = RevokedTokenFamily.delete().where(RevokedTokenFamily.expires_at < now).execute()
    return {"tokens": tokens, "families": families}
