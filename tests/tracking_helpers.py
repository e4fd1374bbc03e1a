"""Helpers for tracking tests: make a learner and an enrolment through the API, as a centre admin would."""

import itertools

VALID_ULN = "9276308686"  # the worked example: S = 290, r = 4, check digit 6
_FRESH_ULN_SEEDS = itertools.count(500_000)  # far above the seeds tests pass to valid_uln themselves


def post(client, auth, caller, url, body, status=201, headers=None):
    response = client.post(url, json=body, headers={**auth(caller), **(headers or {})})
    assert response.status_code == status, (url, response.get_data(as_text=True))
    return response.get_json()


def bearer(app, account) -> dict:
    """Request headers with a fresh access token for ``account`` (one a test made, not a seeded one)."""
    from api.auth import issue_tokens
    from api.services import accounts

    with app.test_request_context():
        body = issue_tokens(f"account:{account.id}", accounts.account_claims(account), with_refresh=False)
    return {"Authorization": f"Bearer {body['access_token']}"}


TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
EMAIL_TOKEN_TYPE = "urn:qualtrack:params:oauth:token-type:email"


def exchange_fields(client_id: str, secret: str, email: str) -> dict:
    """A token-exchange request: the client, by its id and secret, asks to act for the account with ``email``."""
    return {"grant_type": TOKEN_EXCHANGE, "client_id": client_id, "client_secret": secret,
            "subject_token": email, "subject_token_type": EMAIL_TOKEN_TYPE}


def acting_for(client, identities, person: str, lms: str = "lms_client_a") -> dict:
    """Request headers with a token that client ``lms`` got, through token exchange, to act for seeded ``person``."""
    fields = exchange_fields(identities.clients[lms].client_id, identities.client_secrets[lms],
                             identities.accounts[person].email)
    answer = client.post("/v1/auth/token", data=fields)
    assert answer.status_code == 200, answer.get_json()
    return {"Authorization": f"Bearer {answer.get_json()['access_token']}"}


def make_learner(client, auth, identities, uln=None, caller="centre_admin_a", **extra):
    """A new learner at centre A (with a ULN no other learner of this test run has, unless ``uln`` is given)."""
    body = {"centre_id": str(identities.centres["A"].id), "uln": uln or fresh_uln(), "given_name": "Ada",
            "family_name": "Lovelace", **extra}
    return post(client, auth, caller, "/v1/learners", body)


def enrol(client, auth, identities, learner_id, unit_id, assessors=("assessor_a",), iqas=("iqa_a",)):
    body = {"learner_id": learner_id, "unit_id": unit_id, "start_date": "2026-09-01",
            "planned_end_date": "2027-07-31",
            "assessor_ids": [str(identities.accounts[a].id) for a in assessors],
            "iqa_ids": [str(identities.accounts[i].id) for i in iqas]}
    return post(client, auth, "centre_admin_a", "/v1/enrolments", body)


def criteria_of(client, unit_id) -> list[str]:
    document = client.get(f"/v1/units/{unit_id}").get_json()
    return [c["id"] for o in document["learning_outcomes"] for c in o["criteria"]]


def fresh_uln() -> str:
    """A valid ULN that no earlier call in this test run returned (for records that outlive their test)."""
    return valid_uln(next(_FRESH_ULN_SEEDS))


def valid_uln(seed: int) -> str:
    """A valid ULN (check digit right) made from ``seed``, for tests that need several learners."""
    from api.services.tracking.uln import uln_problem

    for stem in range(100000000 + seed * 13, 100000000 + seed * 13 + 11):
        for digit in "0123456789":
            if uln_problem(f"{stem}{digit}") is None:
                return f"{stem}{digit}"
    raise AssertionError("unreachable: one stem in eleven consecutive ones has a check digit")
