"""JWT at the HTTP edge (flask-jwt-extended): configuration, the caller of the current request, token issuing, and
401 problem+json for every token failure. The rules themselves live in api.services.common.access and
api.services.accounts.
"""

import time
import uuid
from datetime import UTC, datetime, timedelta

from flask import Flask, current_app, g, request
from flask_jwt_extended import (
    JWTManager,
    create_access_token,
    create_refresh_token,
    decode_token,
    get_jwt,
    verify_jwt_in_request,
)

from api.config import Settings
from api.errors import Unauthorized
from api.problems import problem_response
from api.ratelimit import Limiter
from api.services import accounts
from api.services.common.access import ANONYMOUS, Principal

jwt = JWTManager()
limiter = Limiter()


def _unauthorized(detail: str, error: str = "invalid_token"):
    failure = Unauthorized(detail, error=error)
    return problem_response(401, failure.title, detail, type_=failure.type, headers=failure.headers)


def init_app(app: Flask, settings: Settings) -> None:
    """Configure JWT signing and verification, revocation checks and the token-endpoint rate limiter."""
    app.config.update(
        JWT_SECRET_KEY=settings.signing_secret(), JWT_ALGORITHM="HS256", JWT_DECODE_ALGORITHMS=["HS256"],
        JWT_TOKEN_LOCATION=["headers"], JWT_ENCODE_AUDIENCE=settings.jwt_audience,
        JWT_DECODE_AUDIENCE=settings.jwt_audience, JWT_ENCODE_ISSUER=settings.jwt_issuer,
        JWT_DECODE_ISSUER=settings.jwt_issuer,
        JWT_ACCESS_TOKEN_EXPIRES=timedelta(seconds=settings.access_token_seconds),
        JWT_REFRESH_TOKEN_EXPIRES=timedelta(seconds=settings.refresh_token_seconds), JWT_ERROR_MESSAGE_KEY="detail",
    )
    jwt.init_app(app)
    limiter.init_app(app, settings.ratelimit_storage_uri, settings.ratelimit_key_prefix)

    jwt.token_in_blocklist_loader(lambda _header, payload: accounts.token_is_revoked(payload))
    jwt.unauthorized_loader(lambda detail: _unauthorized(f"no usable bearer token: {detail}", "missing"))
    jwt.invalid_token_loader(lambda detail: _unauthorized(f"the bearer token is not valid: {detail}"))
    jwt.expired_token_loader(lambda _h, _p: _unauthorized("the bearer token has expired: get a new one"))
    jwt.revoked_token_loader(lambda _h, _p: _unauthorized(
        "the bearer token has been revoked, or its account or client disabled: sign in again"))


VERIFIED_TOKENS_KEPT = 4096  # per app and process; the cache is emptied when full


class _Verified:
    """A token string this process has verified: its payload and caller."""

    __slots__ = ("payload", "principal")

    def __init__(self, payload: dict, principal: Principal):
        self.payload, self.principal = payload, principal

    def still_works(self) -> bool:
        """Not expired, and not revoked, nor its sign-in family, nor its account or client disabled (asked of the
        database every time: accounts.token_is_revoked)."""
        return self.payload["exp"] > time.time() and not accounts.token_is_revoked(self.payload)


def current_principal() -> Principal:
    """The caller of this request: anonymous without an Authorization header; a 401 problem for any token that is
    not valid.

    A token string whose signature, audience and issuer this app has verified before is not decoded again (decoding
    it through flask-jwt-extended on every request was a large share of a write's cost): its expiry and revocation
    are still checked on every request (_Verified.still_works).
    Anything unusual (an expired, revoked, unknown or malformed token) takes flask-jwt-extended's full path, which
    answers the 401."""
    if "principal" not in g:
        if "Authorization" not in request.headers:  # tokens come in this header only (JWT_TOKEN_LOCATION)
            g.token_payload, g.principal = None, ANONYMOUS
            return ANONYMOUS
        token = _bearer_token()
        verified = current_app.extensions.setdefault("qualtrack_verified_tokens", {})
        known = verified.get(token) if token else None
        if known is not None and known.still_works():
            g.token_payload, g.principal = known.payload, known.principal
            return g.principal
        verify_jwt_in_request(optional=True)
        payload = get_jwt() or None
        g.token_payload, g.principal = payload, principal_from_payload(payload) if payload else ANONYMOUS
        if payload is not None and token:
            if len(verified) >= VERIFIED_TOKENS_KEPT:
                verified.clear()
            verified[token] = _Verified(payload, g.principal)
    return g.principal


def current_token_payload() -> dict | None:
    """The verified access token of this request (None if anonymous), after current_principal()."""
    current_principal()
    return g.token_payload


def _bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header in its plain form, else None (flask-jwt-extended
    then parses the header, and refuses what it must)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    plain = scheme == "Bearer" and token and not any(ch in token for ch in " ,")
    return token if plain else None


def principal_from_payload(payload: dict) -> Principal:
    """A Principal from a verified access token; Unauthorized if the token lacks qualtrack's claims."""
    try:
        return accounts.principal_from_claims(payload["sub"], payload)
    except (KeyError, ValueError, TypeError, AttributeError):
        raise Unauthorized("the bearer token was not issued by this API (its claims are missing)") from None


def token_rate_limit() -> str:
    return current_app.config["QUALTRACK"].token_rate_limit


def account_login_rate_limit() -> str:
    return current_app.config["QUALTRACK"].account_login_rate_limit


def issue_tokens(subject: str, claims: dict, *, with_refresh: bool, family: str | None = None) -> dict:
    """An OAuth2 token response (RFC 6749 section 5.1) for ``subject`` carrying ``claims``. Every token carries its
    sign-in family (``fam``: new for a sign-in, the refresh token's own for a rotation) and its subject's token
    generation (``gen``), so that a family or a subject can be revoked as a whole."""
    settings = current_app.config["QUALTRACK"]
    family = family or uuid.uuid4().hex
    body = {"access_token": create_access_token(identity=subject, additional_claims={**claims, "fam": family}),
            "token_type": "Bearer", "expires_in": settings.access_token_seconds,
            "scope": " ".join(claims["scopes"] or claims["roles"])}
    if with_refresh:
        body["refresh_token"] = create_refresh_token(identity=subject, additional_claims={
            "kind": claims["kind"], "fam": family, "gen": claims.get("gen", 0)})
    return body


def revoke_payload(payload: dict) -> None:
    """Revoke the token whose verified payload this is, until it would have expired anyway; revoking a refresh token
    revokes the access tokens of its sign-in too (RFC 7009 section 2.1)."""
    accounts.revoke(payload["jti"], payload["type"], payload["sub"], datetime.fromtimestamp(payload["exp"], UTC)
                    .replace(tzinfo=None))
    if payload.get("type") == "refresh":
        accounts.revoke_family(payload)


def decode_any(token: str) -> dict:
    """Verify a token given in a request body (signature, audience, issuer, expiry, revocation)."""
    return decode_token(token)
