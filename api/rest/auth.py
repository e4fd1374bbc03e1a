"""Tokens: POST /v1/auth/token (password, client_credentials, refresh_token and token-exchange grants), refresh,
revoke, me, and whether clients may act for you."""

import base64
import binascii
from urllib.parse import unquote

from flask import Blueprint, Response, request
from flask_jwt_extended import get_jwt, verify_jwt_in_request
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt.exceptions import PyJWTError

from api.auth import (
    account_login_rate_limit,
    current_principal,
    current_token_payload,
    decode_any,
    issue_tokens,
    limiter,
    revoke_payload,
    token_rate_limit,
)
from api.db import write_transaction
from api.errors import ApiError, Forbidden, InvalidClient, InvalidGrant, InvalidRequest, UnauthorizedClient
from api.inputs import bodies
from api.inputs.params import NO_ARGS
from api.models import Account, ApiClient, Centre
from api.rest.http import json_response, parse_args, parse_body, write_endpoint
from api.services import accounts
from api.services.accounts import delegation
from api.services.common.access import can_revoke_any_token, require_authenticated

bp = Blueprint("auth", __name__)
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # RFC 8693
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
DELEGATION = bodies.Delegation()
GRANTS = ("password", "client_credentials", "refresh_token", TOKEN_EXCHANGE)


def _oauth(error: ApiError, code: str) -> ApiError:
    error.extensions["error"] = code
    return error


def _token_request() -> dict:
    """The token request's fields from a form or JSON body, plus HTTP Basic client credentials."""
    if request.mimetype == "application/json":
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise _oauth(InvalidRequest("the JSON body must be an object"), "invalid_request")
    elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        body = request.form.to_dict()
    else:
        raise _oauth(InvalidRequest("send the token request as application/x-www-form-urlencoded or JSON"),
                     "invalid_request")
    fields = {k: v for k, v in body.items() if isinstance(v, str)}
    basic = request.headers.get("Authorization", "")
    if basic.startswith("Basic "):
        try:
            client_id, _, secret = base64.b64decode(basic[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise _oauth(InvalidRequest("the Basic credentials are not valid base64"), "invalid_request") from None
        fields.setdefault("client_id", unquote(client_id))
        fields.setdefault("client_secret", unquote(secret))
    return fields


def _require(fields: dict, *names: str) -> list[str]:
    missing = [n for n in names if not fields.get(n)]
    if missing:
        raise _oauth(InvalidRequest(f"missing {', '.join(missing)} for grant_type {fields['grant_type']!r}",
                                    errors={n: ["required"] for n in missing}), "invalid_request")
    return [fields[n] for n in names]


@bp.post("/auth/token")
@limiter.limit(token_rate_limit)
def token():
    """Exchange credentials for tokens: a person's email and password, a client's id and secret, or a refresh token."""
    parse_args(NO_ARGS)
    fields = _token_request()
    grant = fields.get("grant_type")
    if not grant:
        raise _oauth(InvalidRequest(f"grant_type is required: one of {', '.join(GRANTS)}",
                                    errors={"grant_type": ["required"]}), "invalid_request")
    if grant not in GRANTS:
        raise _oauth(InvalidRequest(f"grant_type must be one of {', '.join(GRANTS)}",
                                    errors={"grant_type": ["unsupported"]}), "unsupported_grant_type")
    try:
        if grant == "password":
            email, password = _require(fields, "username", "password")
            with limiter.counting_failures(f"account:{email.strip().lower()}", account_login_rate_limit()):
                account = accounts.authenticate_password(email, password)
            body = issue_tokens(f"account:{account.id}", accounts.account_claims(account), with_refresh=True)
        elif grant == "client_credentials":
            client_id, secret = _require(fields, "client_id", "client_secret")
            with limiter.counting_failures(f"client:{client_id}", account_login_rate_limit()):
                client = accounts.authenticate_client(client_id, secret)
            body = issue_tokens(f"client:{client.id}", accounts.client_claims(client), with_refresh=False)
        elif grant == "refresh_token":
            (refresh_token,) = _require(fields, "refresh_token")
            body = _rotate(_decode_refresh(refresh_token))
        else:
            body = _exchange(fields)
    except InvalidGrant as error:
        raise _oauth(error, "invalid_grant") from None
    except InvalidClient as error:
        raise _oauth(error, "invalid_client") from None
    except UnauthorizedClient as error:
        raise _oauth(error, "unauthorized_client") from None
    return _token_response(body)


def _exchange(fields: dict) -> dict:
    """RFC 8693 token exchange: a client (authenticated by its id and secret, or by its access token as the
    actor_token) gets an access token for a person of its centre, named by the subject_token. No refresh token: the
    client exchanges again when it expires."""
    subject_token, subject_type = _require(fields, "subject_token", "subject_token_type")
    if subject_type not in delegation.SUBJECT_TOKEN_TYPES:
        raise _oauth(InvalidRequest(f"subject_token_type must be one of {', '.join(delegation.SUBJECT_TOKEN_TYPES)}",
                                    errors={"subject_token_type": ["unsupported"]}), "invalid_request")
    if fields.get("requested_token_type", ACCESS_TOKEN_TYPE) != ACCESS_TOKEN_TYPE:
        raise _oauth(InvalidRequest(f"requested_token_type can only be {ACCESS_TOKEN_TYPE}",
                                    errors={"requested_token_type": ["unsupported"]}), "invalid_request")
    for unsupported, error in (("scope", "invalid_scope"), ("audience", "invalid_target"),
                               ("resource", "invalid_target")):
        if unsupported in fields:
            raise _oauth(InvalidRequest(f"{unsupported} is not supported here: the token carries the person's "
                                        "roles in the client's centre, for this API",
                                        errors={unsupported: ["not supported"]}), error)
    client = _acting_client(fields)
    account = delegation.account_to_act_for(client, subject_type, subject_token)
    with write_transaction():
        delegation.record_exchange(account, client)
    body = issue_tokens(f"account:{account.id}", delegation.delegated_claims(account, client), with_refresh=False)
    return {**body, "issued_token_type": ACCESS_TOKEN_TYPE}


def _acting_client(fields: dict):
    """The client asking to act for someone: by actor_token (its own access token), or by its id and secret."""
    if "actor_token" in fields and ("client_id" in fields or "client_secret" in fields):
        raise _oauth(InvalidRequest("authenticate the client once: by client_id and client_secret, or by "
                                    "actor_token, not both", errors={"actor_token": ["given with client credentials"]}),
                     "invalid_request")
    if "actor_token" not in fields:
        client_id, secret = _require(fields, "client_id", "client_secret")
        with limiter.counting_failures(f"client:{client_id}", account_login_rate_limit()):
            return accounts.authenticate_client(client_id, secret)
    if fields.get("actor_token_type") != ACCESS_TOKEN_TYPE:
        raise _oauth(InvalidRequest(f"actor_token_type must be {ACCESS_TOKEN_TYPE}",
                                    errors={"actor_token_type": ["required, and an access token"]}),
                     "invalid_request")
    try:
        payload = decode_any(fields["actor_token"])
    except (PyJWTError, JWTExtendedException) as error:
        raise InvalidClient(f"the actor_token is not a valid access token of this API: {error}") from None
    kind, _, raw_id = str(payload.get("sub", "")).partition(":")
    if payload.get("type") != "access" or kind != "client" or "act" in payload:
        raise InvalidClient("the actor_token must be an API client's own access token")
    if accounts.token_is_revoked(payload):
        raise InvalidClient("the actor_token has been revoked, or its client disabled")
    return ApiClient.get_by_id(raw_id)


def _decode_refresh(token: str) -> dict:
    """A refresh token given in the body, verified (signature, audience, issuer, expiry, type); whether it may still
    be used is for _rotate."""
    try:
        payload = decode_any(token)
    except (PyJWTError, JWTExtendedException) as error:
        raise InvalidGrant(f"the refresh token is not valid: {error}") from None
    if payload.get("type") != "refresh":
        raise InvalidGrant("the refresh token is not a refresh token")
    return payload


def _rotate(refresh_payload: dict) -> dict:
    """New tokens of the same sign-in family for a refresh token's subject, with claims re-read from the database;
    the old refresh token dies, and using it again revokes the family (accounts.use_refresh_token)."""
    claims = accounts.use_refresh_token(refresh_payload)
    return issue_tokens(refresh_payload["sub"], claims, with_refresh=True,
                        family=accounts.token_family(refresh_payload))


def _token_response(body: dict) -> Response:
    response = json_response(body, cache_control="no-store")
    response.headers["Pragma"] = "no-cache"
    return response


@bp.post("/auth/refresh")
@limiter.limit(token_rate_limit)
def refresh():
    """Swap a refresh token (sent as the bearer token) for a new access token and a new refresh token."""
    parse_args(NO_ARGS)
    verify_jwt_in_request(refresh=True)
    try:
        return _token_response(_rotate(get_jwt()))
    except InvalidGrant as error:
        raise _oauth(error, "invalid_grant") from None


@bp.post("/auth/revoke")
def revoke():
    """Revoke the bearer token, and also the token in the body's ``token`` field if one is given (e.g. the refresh
    token). Revoking a token of someone else needs the admin role."""
    parse_args(NO_ARGS)
    principal = current_principal()
    require_authenticated(principal)
    extra = _token_to_revoke()
    if extra is not None:
        try:
            payload = decode_any(extra)
        except (PyJWTError, JWTExtendedException) as error:
            raise InvalidRequest(f"token is not a valid token of this API: {error}",
                                 errors={"token": ["not valid"]}) from None
        if payload["sub"] != current_token_payload()["sub"] and not can_revoke_any_token(principal):
            raise Forbidden("only an admin may revoke another subject's token")
        revoke_payload(payload)
    revoke_payload(current_token_payload())
    return Response(status=204)


REVOKE_FIELDS = ("token", "token_type_hint")  # RFC 7009 section 2.1; the hint is accepted and not needed


def _token_to_revoke() -> str | None:
    """The optional ``token`` field of a revoke request (JSON object or form); 400 for any other field (a misspelt
    one would otherwise revoke less than the caller asked), for a field that is not a string, and for any other
    kind of body."""
    if not request.get_data():
        return None
    if request.mimetype == "application/json":
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise InvalidRequest("the JSON body must be an object, e.g. {\"token\": \"...\"}")
    elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        body = request.form.to_dict(flat=False)
        repeated = sorted(name for name, values in body.items() if len(values) > 1)
        if repeated:
            raise InvalidRequest(f"give each field once: {', '.join(repeated)}",
                                 errors={name: ["given more than once"] for name in repeated})
        body = {name: values[0] for name, values in body.items()}
    else:
        raise InvalidRequest("send the revoke request as application/json or application/x-www-form-urlencoded")
    unknown = sorted(set(body) - set(REVOKE_FIELDS))
    if unknown:
        raise InvalidRequest(f"unknown field(s) {', '.join(unknown)}: a revoke request takes "
                             f"{' and '.join(REVOKE_FIELDS)} only",
                             errors={name: ["unknown field"] for name in unknown})
    wrong = sorted(name for name, value in body.items() if not isinstance(value, str))
    if wrong:
        raise InvalidRequest(f"{', '.join(wrong)} must be a string", errors={name: ["not a string"] for name in wrong})
    return body.get("token")


def _client_ref(client_id) -> dict | None:
    client = ApiClient.get_or_none(ApiClient.id == client_id)
    return {"id": str(client.id), "client_id": client.client_id, "name": client.name} if client else None


@bp.put("/auth/me/delegation")
@write_endpoint
def set_delegation():
    """Allow or refuse API clients of your centres acting for you (token exchange). Refusing stops every token a
    client holds for you at once."""
    parse_args(NO_ARGS)
    accepts = delegation.set_accepts_delegation(current_principal(), parse_body(DELEGATION)["accepts_delegation"])
    return json_response({"accepts_delegation": accepts}, cache_control="no-store")


@bp.get("/auth/me")
def me():
    """Who the bearer token says you are: kind, roles or scopes, centres and awarding bodies. Never secrets."""
    parse_args(NO_ARGS)
    principal = current_principal()
    require_authenticated(principal)
    centres = [{"id": str(c.id), "code": c.code, "name": c.name}
               for c in Centre.select().where(Centre.id.in_(list(principal.centre_ids))).order_by(Centre.code)]
    body = {"kind": principal.kind, "id": str(principal.id), "roles": sorted(principal.roles),
            "scopes": sorted(principal.scopes), "centres": centres,
            "awarding_body_ids": sorted(str(b) for b in principal.body_ids),
            "assessor_status": principal.assessor_status,
            "learner_id": str(principal.learner_id) if principal.learner_id else None}
    if principal.kind == "account":
        account = Account.get_or_none(Account.id == principal.id)
        body.update(email=account.email if account else None, name=account.display_name if account else None,
                    accepts_delegation=bool(account.accepts_delegation) if account else None,
                    acting_client=_client_ref(principal.acting_client) if principal.acting_client else None)
    else:
        client = ApiClient.get_or_none(ApiClient.id == principal.id)
        body.update(client_id=client.client_id if client else None, name=client.name if client else None)
    return json_response(body, cache_control="private, no-store")
