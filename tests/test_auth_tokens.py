"""Tokens: the grants people and integrations use, and every way a bad token is turned away with a 401."""

import base64
import json
import logging
import time
from datetime import timedelta

import jwt as pyjwt
import pytest
import time_machine
from flask_jwt_extended import create_access_token, create_refresh_token

from api import create_app
from api.auth import limiter
from api.config import ConfigurationError, Settings
from api.models import Account, ApiClient
from tests.conftest import TEST_PASSWORD

PROBLEM = "application/problem+json"


def password_grant(client, name="assessor_a", password=TEST_PASSWORD, as_json=False):
    fields = {"grant_type": "password", "username": f"{name.replace('_', '.')}@example.test", "password": password}
    return client.post("/v1/auth/token", json=fields) if as_json else client.post("/v1/auth/token", data=fields)


def assert_401(response, fragment=""):
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert fragment in response.get_json()["detail"]


def test_person_gets_tokens_with_the_password_grant(client):
    for as_json in (False, True):
        response = password_grant(client, as_json=as_json)
        assert response.status_code == 200, response.get_json()
        assert response.headers["Cache-Control"] == "no-store"
        body = response.get_json()
        assert body["token_type"] == "Bearer" and body["expires_in"] == 900 and body["refresh_token"]
        me = client.get("/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}).get_json()
        assert (me["kind"], me["email"], me["roles"], me["assessor_status"]) == (
            "account", "assessor.a@example.test", ["assessor"], "qualified")
        assert [c["code"] for c in me["centres"]] == ["A"]
        assert "password" not in json.dumps(me) and "hash" not in json.dumps(me)


def test_wrong_password_and_unknown_email_get_the_same_answer(client):
    wrong = password_grant(client, password="not the password")
    unknown = password_grant(client, name="nobody")
    for response in (wrong, unknown):
        assert response.status_code == 400 and response.mimetype == PROBLEM
        assert response.get_json()["error"] == "invalid_grant"
    assert wrong.get_json()["detail"] == unknown.get_json()["detail"]


def test_client_gets_a_token_with_client_credentials_in_body_or_basic(client, identities):
    lms, secret = identities.clients["lms_client_a"], identities.client_secrets["lms_client_a"]
    in_body = client.post("/v1/auth/token", data={"grant_type": "client_credentials", "client_id": lms.client_id,
                                                  "client_secret": secret})
    basic = base64.b64encode(f"{lms.client_id}:{secret}".encode()).decode()
    in_header = client.post("/v1/auth/token", data={"grant_type": "client_credentials"},
                            headers={"Authorization": f"Basic {basic}"})
    for response in (in_body, in_header):
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert "refresh_token" not in body  # RFC 6749 4.4.3: none for client credentials
        assert body["scope"] == "act_for_accounts content:read tracking:read tracking:write"
        me = client.get("/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}).get_json()
        assert (me["kind"], me["client_id"], me["scopes"]) == ("client", lms.client_id, sorted(lms.scopes))
        assert secret not in json.dumps(me)


def test_wrong_client_secret_is_401_invalid_client(client, identities):
    response = client.post("/v1/auth/token", data={"grant_type": "client_credentials",
                                                   "client_id": identities.clients["lms_client_a"].client_id,
                                                   "client_secret": "wrong"})
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize("data, error", [
    ({"grant_type": "implicit"}, "unsupported_grant_type"),
    ({"username": "x@example.test"}, "invalid_request"),
    ({"grant_type": "password", "username": "x@example.test"}, "invalid_request"),
    ({"grant_type": "refresh_token", "refresh_token": "not-a-jwt"}, "invalid_grant"),
])
def test_bad_token_requests_are_400_with_an_oauth_error(client, data, error):
    response = client.post("/v1/auth/token", data=data)
    assert response.status_code == 400 and response.mimetype == PROBLEM
    assert response.get_json()["error"] == error


def test_token_request_must_be_form_or_json(client):
    response = client.post("/v1/auth/token", data="grant_type=password", content_type="text/plain")
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"


def test_refresh_rotates_and_the_old_refresh_token_dies(client):
    first = password_grant(client).get_json()
    rotated = client.post("/v1/auth/token", data={"grant_type": "refresh_token",
                                                  "refresh_token": first["refresh_token"]})
    assert rotated.status_code == 200
    by_bearer = client.post("/v1/auth/refresh",
                            headers={"Authorization": f"Bearer {rotated.get_json()['refresh_token']}"})
    assert by_bearer.status_code == 200 and by_bearer.get_json()["refresh_token"]
    again = client.post("/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_grant"  # and its family is revoked
    assert_401(client.post("/v1/auth/refresh", headers={"Authorization": f"Bearer {first['access_token']}"}))


def test_revoked_tokens_are_rejected_on_every_request(client):
    tokens = password_grant(client).get_json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/v1/auth/me", headers=headers).status_code == 200
    assert client.post("/v1/auth/revoke", json={"token": tokens["refresh_token"]}, headers=headers).status_code == 204
    assert_401(client.get("/v1/auth/me", headers=headers), "revoked")
    assert_401(client.get("/v1/units", headers=headers), "revoked")  # even where no token is needed
    refused = client.post("/v1/auth/token",
                          data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert refused.status_code == 400


def test_revocations_are_purged_once_their_tokens_have_expired_and_not_before(client):
    from api.models.base import utcnow
    from api.services import accounts

    tokens = password_grant(client).get_json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.post("/v1/auth/revoke", json={"token": tokens["refresh_token"]}, headers=headers).status_code == 204
    accounts.revoke("expired-token-jti", "access", "account:someone", utcnow() - timedelta(minutes=1))
    purged = accounts.purge_expired_revocations()
    assert purged["tokens"] >= 1 and not accounts.is_revoked("expired-token-jti")
    assert_401(client.get("/v1/auth/me", headers=headers), "revoked")  # its revocation is kept while it lives
    refresh = pyjwt.decode(tokens["refresh_token"], options={"verify_signature": False})
    assert accounts.is_revoked(refresh["jti"])
    with time_machine.travel(refresh["exp"] + 1, tick=False):
        later = accounts.purge_expired_revocations()
        assert later["tokens"] >= 1 and not accounts.is_revoked(refresh["jti"])
        assert_401(client.get("/v1/auth/me", headers=headers), "expired")


def test_a_token_accepted_before_is_refused_once_it_has_expired(app, client):
    """A worker does not decode a token string it has verified before, but checks its expiry on every request."""
    app.config["JWT_ACCESS_TOKEN_EXPIRES"] = timedelta(seconds=1)
    try:
        token = password_grant(client).get_json()["access_token"]
    finally:
        app.config["JWT_ACCESS_TOKEN_EXPIRES"] = timedelta(seconds=app.config["QUALTRACK"].access_token_seconds)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1/auth/me", headers=headers).status_code == 200
    expires = pyjwt.decode(token, options={"verify_signature": False})["exp"]
    with time_machine.travel(expires + 1, tick=False):  # the clock just past the token's expiry
        assert_401(client.get("/v1/auth/me", headers=headers), "expired")


def test_only_an_admin_revokes_someone_elses_token(client, auth, token_for):
    victim = token_for("learner_a")
    assert client.post("/v1/auth/revoke", json={"token": victim}, headers=auth("assessor_a")).status_code == 403
    assert client.get("/v1/auth/me", headers=auth("learner_a")).status_code == 200


def forge(app, claims: dict, key: str | None = None, algorithm: str = "HS256") -> str:
    payload = {"sub": "account:00000000-0000-0000-0000-000000000000", "type": "access", "jti": "x", "iat": 0,
               "nbf": 0, "exp": 4_000_000_000, "aud": "qualtrack-api", "iss": "qualtrack", "kind": "account",
               "roles": ["admin"], **claims}
    return pyjwt.encode(payload, key or app.config["JWT_SECRET_KEY"], algorithm=algorithm)


def test_every_kind_of_bad_token_is_a_401(app, client, token_for):
    good = token_for("admin")
    header, payload, signature = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["roles"] = ["admin", "author"]
    tampered = ".".join([header, base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("="), signature])
    none_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').decode().rstrip("=")
    alg_none = f"{none_header}.{payload}."
    with app.test_request_context():
        expired = create_access_token(identity="account:x", expires_delta=timedelta(seconds=-5))
        refresh_as_access = create_refresh_token(identity="account:x")
    bad_tokens = {
        "malformed": "not.a.token", "tampered": tampered, "alg none": alg_none, "expired": expired,
        "wrong key": forge(app, {}, key="another-key-that-is-long-enough-to-be-accepted-by-hmac"),
        "wrong audience": forge(app, {"aud": "someone-else"}), "wrong issuer": forge(app, {"iss": "elsewhere"}),
        "refresh token": refresh_as_access, "no qualtrack claims": forge(app, {"kind": None, "sub": "nonsense"}),
    }
    for name, token in bad_tokens.items():
        for url in ("/v1/auth/me", "/v1/units"):
            response = client.get(url, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 401, (name, url, response.get_data(as_text=True))
            assert_401(response)
    assert_401(client.get("/v1/auth/me"))  # missing


def test_token_endpoint_is_rate_limited_with_a_429_problem(app, client):
    settings = app.config["QUALTRACK"]
    original, settings.token_rate_limit = settings.token_rate_limit, "3 per minute"
    limiter.reset()
    try:
        statuses = [password_grant(client, password="wrong").status_code for _ in range(4)]
        limited = password_grant(client)
    finally:
        settings.token_rate_limit = original
        limiter.reset()
    assert statuses == [400, 400, 400, 429]
    assert limited.status_code == 429 and limited.mimetype == PROBLEM
    assert int(limited.headers["Retry-After"]) > 0


def test_token_responses_say_how_many_requests_are_left_in_the_window(client):
    limiter.reset()
    first, second = password_grant(client), password_grant(client, password="wrong")
    assert first.status_code == 200 and second.status_code == 400
    assert first.headers["X-RateLimit-Limit"] == second.headers["X-RateLimit-Limit"] == "10000"  # conftest's limit
    assert int(second.headers["X-RateLimit-Remaining"]) == int(first.headers["X-RateLimit-Remaining"]) - 1
    assert int(first.headers["X-RateLimit-Reset"]) > time.time()
    assert "X-RateLimit-Limit" not in client.get("/v1/units").headers  # only limited operations count


def test_passwords_and_secrets_are_stored_as_argon2_hashes(identities):
    for account in Account.select():
        assert account.password_hash.startswith("$argon2id$") and TEST_PASSWORD not in account.password_hash
    for name, client in identities.clients.items():
        stored = ApiClient.get_by_id(client.id)
        assert stored.secret_hash.startswith("$argon2id$")
        assert identities.client_secrets[name] not in stored.secret_hash


def test_secrets_never_reach_the_logs(client, identities, caplog):
    caplog.set_level(logging.DEBUG)
    secret = identities.client_secrets["lms_client_a"]
    tokens = password_grant(client).get_json()
    client.post("/v1/auth/token", data={"grant_type": "client_credentials",
                                        "client_id": identities.clients["lms_client_a"].client_id,
                                        "client_secret": secret})
    client.get("/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    logged = caplog.text
    assert caplog.records  # peewee logs every query at DEBUG: the check looked at real output
    for value in (TEST_PASSWORD, secret, tokens["access_token"], tokens["refresh_token"]):
        assert value not in logged


@pytest.mark.parametrize("secret, ok", [(None, False), ("short", False), ("changeme", False),
                                        ("x" * 48, True)])
def test_app_refuses_to_start_in_production_without_a_strong_secret(database, database_url, secret, ok):
    settings = Settings(database_url=database_url, env="production", jwt_secret=secret)
    if ok:
        assert create_app(settings, database=database).config["JWT_SECRET_KEY"] == secret
    else:
        with pytest.raises(ConfigurationError, match="QUALTRACK_JWT_SECRET"):
            create_app(settings, database=database)
