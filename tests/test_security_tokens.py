"""Tokens that must stop working: a disabled account's or client's (at once, and for good after re-enabling), every
token of a sign-in whose rotated refresh token is used again, and nothing less than a revoke request names."""

import pytest

from api.auth import limiter
from api.models import AuditEvent
from tests.conftest import TEST_PASSWORD

PROBLEM = "application/problem+json"


def sign_in(client, name="assessor_a", password=TEST_PASSWORD):
    return client.post("/v1/auth/token", data={"grant_type": "password", "password": password,
                                               "username": f"{name.replace('_', '.')}@example.test"})


def client_token(client, identities, name="lms_client_a"):
    return client.post("/v1/auth/token", data={"grant_type": "client_credentials",
                                               "client_id": identities.clients[name].client_id,
                                               "client_secret": identities.client_secrets[name]})


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def refresh(client, refresh_token: str):
    return client.post("/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": refresh_token})


def me(client, token: str) -> int:
    return client.get("/v1/auth/me", headers=bearer(token)).status_code


# -- disabling -------------------------------------------------------------------------------------------------------

def test_a_disabled_account_s_tokens_stop_at_once_and_stay_dead_after_re_enabling(client, auth, identities):
    tokens = sign_in(client).get_json()
    assert me(client, tokens["access_token"]) == 200  # verified and kept by this process
    account_id = identities.accounts["assessor_a"].id

    disabled = client.post(f"/v1/admin/accounts/{account_id}/disable", headers=auth("admin"))
    assert disabled.status_code == 200 and disabled.get_json()["is_active"] is False
    refused = client.get("/v1/auth/me", headers=bearer(tokens["access_token"]))
    assert refused.status_code == 401 and "disabled" in refused.get_json()["detail"]
    assert refresh(client, tokens["refresh_token"]).status_code == 400
    assert sign_in(client).status_code == 400

    enabled = client.post(f"/v1/admin/accounts/{account_id}/enable", headers=auth("admin"))
    assert enabled.status_code == 200 and enabled.get_json()["is_active"] is True
    assert me(client, tokens["access_token"]) == 401  # a token from before the disable never works again
    assert refresh(client, tokens["refresh_token"]).status_code == 400
    assert me(client, sign_in(client).get_json()["access_token"]) == 200
    actions = [e.action for e in AuditEvent.select().where(AuditEvent.subject_id == str(account_id))
               .order_by(AuditEvent.occurred_at)]
    assert actions == ["account.disabled", "account.enabled"]


def test_a_disabled_client_s_tokens_stop_at_once(client, auth, identities):
    token = client_token(client, identities).get_json()["access_token"]
    assert client.get("/v1/learners", headers=bearer(token)).status_code == 200
    client_id = identities.clients["lms_client_a"].id
    assert client.post(f"/v1/admin/clients/{client_id}/disable", headers=auth("admin")).status_code == 200
    assert client.get("/v1/learners", headers=bearer(token)).status_code == 401
    refused = client_token(client, identities)
    assert refused.status_code == 401 and refused.get_json()["error"] == "invalid_client"
    assert client.post(f"/v1/admin/clients/{client_id}/enable", headers=auth("admin")).status_code == 200
    assert client.get("/v1/learners", headers=bearer(token)).status_code == 401
    assert client_token(client, identities).status_code == 200


@pytest.mark.parametrize("caller", ["centre_admin_a", "lms_client_a", None])
def test_only_admins_disable(client, auth, identities, caller):
    """Accounts exist only for admins: anyone else is told there is no such account (401 first when anonymous)."""
    target = identities.accounts["assessor_a"].id
    response = client.post(f"/v1/admin/accounts/{target}/disable", headers=auth(caller))
    assert response.status_code == (401 if caller is None else 404) and response.mimetype == PROBLEM
    assert me(client, sign_in(client).get_json()["access_token"]) == 200


def test_an_admin_cannot_disable_themself_and_unknown_ids_are_404(client, auth, identities):
    own = client.post(f"/v1/admin/accounts/{identities.accounts['admin'].id}/disable", headers=auth("admin"))
    assert own.status_code == 403 and own.mimetype == PROBLEM
    missing = client.post("/v1/admin/accounts/00000000-0000-0000-0000-000000000000/disable", headers=auth("admin"))
    assert missing.status_code == 404 and missing.mimetype == PROBLEM
    body = client.post(f"/v1/admin/accounts/{identities.accounts['assessor_a'].id}/disable", headers=auth("admin"),
                       json={"reason": "x"})
    assert body.status_code == 422 and body.get_json()["errors"] == {"reason": ["unknown field"]}


# -- refresh-token families ------------------------------------------------------------------------------------------

def test_reusing_a_rotated_refresh_token_revokes_its_whole_family(client):
    first = sign_in(client).get_json()
    second = refresh(client, first["refresh_token"]).get_json()
    third = client.post("/v1/auth/refresh", headers=bearer(second["refresh_token"])).get_json()
    other_sign_in = sign_in(client).get_json()
    for tokens in (first, second, third, other_sign_in):
        assert me(client, tokens["access_token"]) == 200 or tokens is first

    reused = refresh(client, first["refresh_token"])  # a copy of the first refresh token, replayed
    assert reused.status_code == 400 and reused.get_json()["error"] == "invalid_grant"
    assert "already used" in reused.get_json()["detail"]
    for tokens in (first, second, third):
        assert me(client, tokens["access_token"]) == 401
    assert refresh(client, third["refresh_token"]).status_code == 400  # the thief's or the owner's: both dead
    assert me(client, other_sign_in["access_token"]) == 200  # another sign-in is another family
    assert refresh(client, other_sign_in["refresh_token"]).status_code == 200


def test_a_rotated_refresh_token_sent_as_bearer_again_revokes_its_family(client):
    first = sign_in(client).get_json()
    second = client.post("/v1/auth/refresh", headers=bearer(first["refresh_token"])).get_json()
    again = client.post("/v1/auth/refresh", headers=bearer(first["refresh_token"]))
    assert again.status_code == 401 and again.mimetype == PROBLEM
    assert me(client, second["access_token"]) == 401
    assert client.post("/v1/auth/refresh", headers=bearer(second["refresh_token"])).status_code == 401


def test_revoking_a_refresh_token_signs_its_sign_in_out(client):
    tokens = sign_in(client).get_json()
    other = sign_in(client).get_json()
    response = client.post("/v1/auth/revoke", json={"token": tokens["refresh_token"]},
                           headers=bearer(other["access_token"]))
    assert response.status_code == 204
    assert me(client, tokens["access_token"]) == 401  # RFC 7009: the access tokens of that grant too


# -- revoke requests -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("request_of", [
    lambda refresh_token: {"json": {"tokn": refresh_token}},
    lambda refresh_token: {"json": {"token": refresh_token, "extra": 1}},
    lambda refresh_token: {"data": {"tokn": refresh_token}},
    lambda refresh_token: {"data": {"token": [refresh_token, "another"]}},
    lambda refresh_token: {"data": f"token={refresh_token}", "content_type": "text/plain"},
], ids=["misspelt", "extra field", "misspelt form", "repeated form", "text body"])
def test_a_revoke_request_naming_anything_else_is_a_400_and_revokes_nothing(client, request_of):
    tokens = sign_in(client).get_json()
    response = client.post("/v1/auth/revoke", headers=bearer(tokens["access_token"]),
                           **request_of(tokens["refresh_token"]))
    assert response.status_code == 400 and response.mimetype == PROBLEM, response.get_data(as_text=True)
    assert me(client, tokens["access_token"]) == 200
    assert refresh(client, tokens["refresh_token"]).status_code == 200


# -- failed sign-ins per account -------------------------------------------------------------------------------------

@pytest.fixture
def strict_account_limit(app):
    settings = app.config["QUALTRACK"]
    original, settings.account_login_rate_limit = settings.account_login_rate_limit, "3 per minute"
    limiter.reset()
    yield
    settings.account_login_rate_limit = original
    limiter.reset()


def test_only_failed_sign_ins_use_up_an_account_s_limit(client, identities, strict_account_limit):
    assert [sign_in(client).status_code for _ in range(5)] == [200] * 5
    assert [sign_in(client, password="wrong password").status_code for _ in range(3)] == [400] * 3
    limited = sign_in(client)  # the right password, after three failures: refused without trying it
    assert limited.status_code == 429 and limited.mimetype == PROBLEM and int(limited.headers["Retry-After"]) > 0
    assert sign_in(client, "trainee_assessor_a").status_code == 200  # another account is not held up
    secret = identities.client_secrets["lms_client_a"]
    identities.client_secrets["lms_client_a"] = "wrong"
    try:
        assert [client_token(client, identities).status_code for _ in range(4)] == [401, 401, 401, 429]
    finally:
        identities.client_secrets["lms_client_a"] = secret
    assert client_token(client, identities).status_code == 429
