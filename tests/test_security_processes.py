"""Fail-closed security as operators and attackers meet it: real processes. The server refuses to start with the
public development key unless development or test is asked for; the CLI disables and re-enables accounts and
clients; a disable through one host stops the principal's tokens on another at once; login limits are counted once
for all workers, per address and per account."""

import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest

from api.config import PROJECT_ROOT
from tests.test_cli import qualtrack
from tests.test_deploy import PASSWORD, call, make_centre_admin, start_host, stop_host, token
from tests.test_serve import free_port, running_server


def refused_start(command: str, database_url: str, **env) -> subprocess.CompletedProcess:
    """Run `qualtrack COMMAND` with ``env`` and neither QUALTRACK_ENV nor QUALTRACK_JWT_SECRET from this process; it
    must exit by itself (a server that started instead is stopped, and the test fails)."""
    environment = {k: v for k, v in os.environ.items() if k not in ("QUALTRACK_ENV", "QUALTRACK_JWT_SECRET")}
    environment.update(QUALTRACK_DATABASE_URL=database_url, QUALTRACK_PORT=str(free_port()), QUALTRACK_WORKERS="1",
                       **env)
    process = subprocess.Popen([sys.executable, "-m", "api.cli", command], cwd=PROJECT_ROOT, env=environment,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        process.communicate(timeout=30)
        pytest.fail(f"`qualtrack {command}` started serving instead of refusing")
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@pytest.mark.parametrize("command", ["serve", "start"])
def test_the_server_refuses_to_start_without_a_secret_unless_development_is_explicit(fresh_url, command):
    qualtrack("init-db", database_url=fresh_url)
    for env in ({}, {"QUALTRACK_ENV": "production"}, {"QUALTRACK_ENV": "staging", "QUALTRACK_JWT_SECRET": "changeme"}):
        result = refused_start(command, fresh_url, **env)
        assert result.returncode == 1, result.stderr
        assert "QUALTRACK_JWT_SECRET" in result.stderr and "QUALTRACK_ENV=development" in result.stderr
        assert "Traceback" not in result.stderr


def test_a_malformed_rate_limit_stops_the_start_with_a_clear_message(fresh_url):
    result = refused_start("serve", fresh_url, QUALTRACK_ENV="test", QUALTRACK_TOKEN_RATE_LIMIT="lots")
    assert result.returncode == 1 and "QUALTRACK_TOKEN_RATE_LIMIT" in result.stderr and "Traceback" not in result.stderr


def test_the_cli_requires_an_assessor_status_and_sets_it(fresh_url):
    qualtrack("init-db", database_url=fresh_url)
    qualtrack("create-centre", "--code", "ST", "--name", "Status", database_url=fresh_url)
    new = {"QUALTRACK_NEW_PASSWORD": PASSWORD}
    refused = qualtrack("create-user", "--email", "a@st.test", "--role", "assessor", "--centre", "ST",
                        database_url=fresh_url, env=new, check=False)
    assert refused.returncode == 1 and "assessor_status: required for an assessor" in refused.stderr
    assert "Traceback" not in refused.stderr
    made = qualtrack("create-user", "--email", "a@st.test", "--role", "assessor", "--centre", "ST",
                     "--assessor-status", "trainee", database_url=fresh_url, env=new)
    assert "account a@st.test" in made.stdout
    changed = qualtrack("set-assessor-status", "--email", "a@st.test", "--assessor-status", "qualified",
                        database_url=fresh_url)
    assert "assessor status qualified" in changed.stdout


def test_a_disable_through_one_host_stops_the_tokens_on_another_at_once(fresh_url, tmp_path):
    """Each worker keeps the tokens it has verified; a disable anywhere (admin API or CLI) reaches it at once: the
    worker asks the database on every request whether the token still works."""
    hosts = [start_host(fresh_url, tmp_path / f"{name}.log", QUALTRACK_WORKERS="1") for name in ("a", "b")]
    try:
        first, second = hosts
        qualtrack("create-user", "--email", "root@deploy.test", "--role", "admin", database_url=fresh_url,
                  env={"QUALTRACK_NEW_PASSWORD": PASSWORD})
        admin = {"Authorization": f"Bearer {token(first, 'root@deploy.test')}"}
        _, by_api = make_centre_admin(fresh_url, "DIS1")
        _, by_cli = make_centre_admin(fresh_url, "DIS2")
        tokens = {}
        for email in (by_api, by_cli):
            status, _, body = call(first, "POST", "/v1/auth/token", form={"grant_type": "password", "username": email,
                                                                          "password": PASSWORD})
            assert status == 200, body
            tokens[email] = body
            bearer = {"Authorization": f"Bearer {body['access_token']}"}
            assert [call(second, "GET", "/v1/auth/me", headers=bearer)[0] for _ in range(2)] == [200, 200]

        account_id = call(second, "GET", "/v1/auth/me",
                          headers={"Authorization": f"Bearer {tokens[by_api]['access_token']}"})[2]["id"]
        status, _, body = call(first, "POST", f"/v1/admin/accounts/{account_id}/disable", headers=admin)
        assert status == 200 and body["is_active"] is False, body
        assert "disabled" in qualtrack("disable-user", "--email", by_cli, database_url=fresh_url).stdout

        for email, issued in tokens.items():
            status, _, body = call(second, "GET", "/v1/auth/me",
                                   headers={"Authorization": f"Bearer {issued['access_token']}"})
            assert status == 401 and "disabled" in body["detail"], (email, body)
            status, _, body = call(second, "POST", "/v1/auth/token", form={
                "grant_type": "refresh_token", "refresh_token": issued["refresh_token"]})
            assert status == 400 and body["error"] == "invalid_grant", (email, body)
            assert call(second, "POST", "/v1/auth/token", form={"grant_type": "password", "username": email,
                                                                "password": PASSWORD})[0] == 400

        assert "enabled" in qualtrack("enable-user", "--email", by_cli, database_url=fresh_url).stdout
        assert call(second, "GET", "/v1/auth/me",
                    headers={"Authorization": f"Bearer {tokens[by_cli]['access_token']}"})[0] == 401
        assert call(second, "GET", "/v1/auth/me",
                    headers={"Authorization": f"Bearer {token(second, by_cli)}"})[0] == 200

        made = qualtrack("create-client", "--name", "LMS", "--scope", "tracking:read", "--centre", "DIS1",
                         database_url=fresh_url).stdout
        client_id, secret = (line.split(":", 1)[1].strip() for line in made.strip().splitlines())
        credentials = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
        client_token = call(first, "POST", "/v1/auth/token", form=credentials)[2]["access_token"]
        client_bearer = {"Authorization": f"Bearer {client_token}"}
        assert call(second, "GET", "/v1/learners", headers=client_bearer)[0] == 200
        assert "disabled" in qualtrack("disable-client", "--client-id", client_id, database_url=fresh_url).stdout
        assert call(second, "GET", "/v1/learners", headers=client_bearer)[0] == 401
        assert call(second, "POST", "/v1/auth/token", form=credentials)[0] == 401
        assert "enabled" in qualtrack("enable-client", "--client-id", client_id, database_url=fresh_url).stdout
        assert call(second, "POST", "/v1/auth/token", form=credentials)[0] == 200
    finally:
        for host in hosts:
            assert stop_host(host) == 0


def _sign_in(base: str, email: str, password: str, address: str | None = None) -> tuple[int, dict]:
    form = urllib.parse.urlencode({"grant_type": "password", "username": email, "password": password}).encode()
    request = urllib.request.Request(f"{base}/v1/auth/token", data=form,
                                     headers={"X-Forwarded-For": address} if address else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def test_the_token_limit_per_address_is_counted_once_for_all_workers(fresh_url):
    """Two workers, concurrent sign-ins from one address: exactly the configured number get an answer other than
    429 (each worker counting for itself would let through up to twice as many)."""
    qualtrack("init-db", database_url=fresh_url)
    qualtrack("create-user", "--email", "person@limits.test", "--role", "admin", database_url=fresh_url,
              env={"QUALTRACK_NEW_PASSWORD": PASSWORD})
    with running_server(fresh_url, QUALTRACK_TOKEN_RATE_LIMIT="4 per minute",
                        QUALTRACK_ACCOUNT_LOGIN_RATE_LIMIT="1000 per minute") as base:
        statuses: list[int] = []
        threads = [threading.Thread(target=lambda: statuses.append(
            _sign_in(base, "person@limits.test", "wrong password!")[0])) for _ in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(statuses) == [400] * 4 + [429] * 8, statuses


def test_failed_sign_ins_for_one_account_from_many_addresses_are_limited(fresh_url):
    """Behind a load balancer (trusted X-Forwarded-For), each guess from its own address: the account's failures
    are counted together, across workers, and then even the right password waits for the window."""
    qualtrack("init-db", database_url=fresh_url)
    for email in ("target@limits.test", "bystander@limits.test"):
        qualtrack("create-user", "--email", email, "--role", "admin", database_url=fresh_url,
                  env={"QUALTRACK_NEW_PASSWORD": PASSWORD})
    with running_server(fresh_url, QUALTRACK_TRUSTED_PROXIES="1", QUALTRACK_TOKEN_RATE_LIMIT="1000 per minute",
                        QUALTRACK_ACCOUNT_LOGIN_RATE_LIMIT="3 per minute") as base:
        guesses = [_sign_in(base, "target@limits.test", f"guess number {n}!", f"203.0.113.{n}")[0] for n in range(3)]
        status, headers = _sign_in(base, "target@limits.test", PASSWORD, "198.51.100.7")
        other = [_sign_in(base, "bystander@limits.test", PASSWORD, f"203.0.113.{n}")[0] for n in range(3)]
    assert guesses == [400, 400, 400]
    assert status == 429 and int(headers["Retry-After"]) > 0
    assert other == [200, 200, 200]
