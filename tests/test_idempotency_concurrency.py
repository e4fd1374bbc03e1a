"""Concurrent retries with one Idempotency-Key, over HTTP against a real gunicorn with several workers, on the
backend under test (on PostgreSQL, the pooled database the app builds): the first request runs, the others wait for
it and replay its answer, so exactly one record is made and every caller gets the same answer."""

import threading
from concurrent.futures import ThreadPoolExecutor

from api import db
from tests.test_deploy import Host, call, make_centre_admin, token
from tests.test_learner_import import good_rows, rows
from tests.test_serve import running_server

RETRIES = 8
ENROL = "mutation($input: EnrolLearnerInput!) { enrolLearner(input: $input) { __typename ... on Enrolment { id } } }"


def together(count: int, send) -> list:
    """``send()``'s results from ``count`` threads released at once."""
    start = threading.Barrier(count)

    def one(_):
        start.wait(timeout=30)
        return send()

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def rows_in(database_url: str, table: str) -> int:
    database = db.make_database(database_url)
    try:
        return database.execute_sql(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    finally:
        database.close()


def raw_call(host: Host, path: str, data: bytes, headers: dict):
    """(status, headers, body text) of a POST with a raw body."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(host.base + path, data=data, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def assert_one_ran_and_the_rest_replayed(answers: list) -> None:
    assert len({(status, str(body)) for status, _, body in answers}) == 1, [(s, b) for s, _, b in answers]
    replayed = [headers.get("Idempotent-Replayed") for _, headers, _ in answers]
    assert replayed.count("true") == len(answers) - 1 and replayed.count(None) == 1, replayed


def test_concurrent_retries_of_a_write_wait_for_the_first_and_replay_it_rest_and_graphql(fresh_url):
    with running_server(fresh_url, QUALTRACK_WORKERS="4") as base:
        host = Host(process=None, base=base, log=None)
        centre_id, email = make_centre_admin(fresh_url, "IDEM")
        bearer = {"Authorization": f"Bearer {token(host, email)}"}
        learner = {"centre_id": centre_id, "uln": "9999999999", "given_name": "Once", "family_name": "Only"}
        answers = together(RETRIES, lambda: call(host, "POST", "/v1/learners", learner,
                                                 {**bearer, "Idempotency-Key": "learner-once"}))
        assert answers[0][0] == 201, answers[0]
        assert_one_ran_and_the_rest_replayed(answers)
        assert rows_in(fresh_url, "learner") == 1

        unit = call(host, "GET", "/v1/units?code=B13", headers=bearer)[2]["items"][0]["id"]
        enrol = {"query": ENROL, "variables": {"input": {"learnerId": answers[0][2]["id"], "unitId": unit,
                                                         "startDate": "2026-09-01"}}}
        answers = together(RETRIES, lambda: call(host, "POST", "/graphql", enrol,
                                                 {**bearer, "Idempotency-Key": "enrol-once"}))
        assert answers[0][2]["data"]["enrolLearner"]["__typename"] == "Enrolment", answers[0]
        assert_one_ran_and_the_rest_replayed(answers)
        assert rows_in(fresh_url, "enrolment") == 1


def test_concurrent_retries_of_an_import_wait_for_the_first_and_replay_it(fresh_url):
    with running_server(fresh_url, QUALTRACK_WORKERS="4") as base:
        host = Host(process=None, base=base, log=None)
        centre_id, email = make_centre_admin(fresh_url, "IDEM")
        headers = {"Authorization": f"Bearer {token(host, email)}", "Content-Type": "text/csv",
                   "Idempotency-Key": "cohort-once"}
        csv = rows(*(line.replace("assessor.a@example.test", "") for line in good_rows(40))).encode()
        path = f"/v1/imports/learners?centre_id={centre_id}"
        answers = together(4, lambda: raw_call(host, path, csv, headers))
        assert answers[0][0] == 201, answers[0]
        assert_one_ran_and_the_rest_replayed(answers)
        assert rows_in(fresh_url, "learner_import") == 1
        assert rows_in(fresh_url, "learner") == 40 and rows_in(fresh_url, "enrolment") == 40
