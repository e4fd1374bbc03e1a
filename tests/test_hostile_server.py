"""What the server refuses before the app sees a request (gunicorn's limits on the request line and headers, requests
that are not HTTP) and what werkzeug refuses (a body over the limit) is answered as problem+json, like every other
error: tested against a real `qualtrack serve` (gunicorn, two workers) over raw sockets."""

import json
import socket
from urllib.parse import urlsplit

import pytest

from tests.conftest import empty_database_url
from tests.test_serve import running_server

MAX_BODY = 4096


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with empty_database_url(tmp_path_factory.mktemp("hostile_server"), "hostile_server") as url, \
            running_server(url, QUALTRACK_MAX_BODY_BYTES=str(MAX_BODY)) as base:
        yield base


def exchange(base: str, request: bytes) -> tuple[int, dict, bytes]:
    """Send raw bytes, read the whole answer (the server closes the connection): (status, headers, body)."""
    address = urlsplit(base)
    with socket.create_connection((address.hostname, address.port), timeout=10) as conn:
        conn.sendall(request)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (h.partition(":") for h in header_lines)}
    return int(status_line.split()[1]), headers, body


def get(path: str, extra_headers: str = "") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra_headers}Connection: close\r\n\r\n".encode()


CASES = {
    "request line over the limit": (get("/v1/units?q=" + "a" * 9000), 414, "request line"),
    "too many header fields": (get("/v1/units", "".join(f"X-H{i}: v\r\n" for i in range(120))), 431, "header fields"),
    "a header field over the limit": (get("/v1/units", f"X-Long: {'v' * 9000}\r\n"), 431, "header fields"),
    "not an HTTP request line": (b"HELLO THERE\r\n\r\n", 400, "not valid HTTP"),
    "a malformed header": (get("/v1/units", "No colon here\r\n"), 400, "not valid HTTP"),
}
BODY_OVER_THE_LIMIT = (b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                       b"Content-Length: %d\r\nConnection: close\r\n\r\n" % (MAX_BODY + 1) + b"x" * (MAX_BODY + 1))


def problem(answer) -> dict:
    status, headers, body = answer
    assert headers["content-type"] == "application/problem+json", (status, body[:300])
    found = json.loads(body[:int(headers["content-length"])])
    assert found["status"] == status and found["title"]
    return found


@pytest.mark.parametrize("case", CASES)
def test_refusals_are_problem_json(server, case):
    request, status, words = CASES[case]
    answer = exchange(server, request)
    assert answer[0] == status, answer[2][:300]
    assert words in problem(answer)["detail"]


def test_refusals_by_the_server_and_by_the_app_look_alike_and_the_server_goes_on(server):
    """A 414 from gunicorn and a 413 from werkzeug (the body limit) are both problem details; afterwards the
    workers answer as before."""
    assert problem(exchange(server, CASES["request line over the limit"][0]))["status"] == 414
    assert problem(exchange(server, BODY_OVER_THE_LIMIT))["status"] == 413
    status, headers, body = exchange(server, get("/v1/evidence-types"))
    assert status == 200 and json.loads(body[:int(headers["content-length"])])
