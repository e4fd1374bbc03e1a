"""gunicorn's sync worker, answering the requests gunicorn refuses before the app sees them as problem+json.

gunicorn itself answers a request line over limit_request_line (414), too many or too large header fields (431) and
anything that is not HTTP/1.1 (400), with an HTML page. Here they get the RFC 9457 problem details every other error
of this API has (api.problems), with a detail that names the limit. A failure that is not the client's (an error
escaping the app, a response header the app got wrong) is a 500 problem, logged with its traceback as gunicorn does.
"""

import json
import ssl

from gunicorn import util
from gunicorn.http import errors
from gunicorn.workers.sync import SyncWorker

PROBLEM_MIMETYPE = "application/problem+json"
SERVER_FAULTS = (errors.InvalidResponseHeader, errors.InvalidResponseHeaderName, errors.ConfigurationProblem)


class ProblemJsonWorker(SyncWorker):
    """SyncWorker whose error answers are application/problem+json."""

    def handle_error(self, req, client, addr, exc):
        refusal = None if isinstance(exc, SERVER_FAULTS) else self.refusal(exc)
        if refusal is None:
            where = f"{req.method} {req.uri}" if hasattr(req, "method") and hasattr(req, "uri") else "(not read)"
            self.log.exception("Error handling request %s", where)
            refusal = 500, "Internal Server Error", "The server failed to handle this request; it has been logged."
        else:
            self.log.warning("refused a request from ip=%s: %s (%s)", (addr or ("",))[0], refusal[0], exc)
        try:
            util.write_nonblock(client, problem_bytes(*refusal))
        except Exception:  # the client has gone: nothing to tell it
            self.log.debug("Failed to send error message.")

    def refusal(self, exc) -> tuple[int, str, str] | None:
        """(status, title, detail) for a request gunicorn refuses; None when the failure is not the client's."""
        cfg = self.cfg
        if isinstance(exc, errors.LimitRequestLine):
            return 414, "URI Too Long", (f"the request line (method, path and query string) is longer than "
                                         f"{cfg.limit_request_line} bytes: shorten the query string, or send large "
                                         f"values in a request body")
        if isinstance(exc, errors.LimitRequestHeaders):
            return 431, "Request Header Fields Too Large", (
                f"the request has more than {cfg.limit_request_fields} header fields, or one longer than "
                f"{cfg.limit_request_field_size} bytes ({exc})")
        if isinstance(exc, errors.UnsupportedTransferCoding):
            return 501, "Not Implemented", f"this server does not accept that Transfer-Encoding ({exc})"
        if isinstance(exc, errors.ExpectationFailed):
            return 417, "Expectation Failed", f"only Expect: 100-continue is understood ({exc})"
        if isinstance(exc, errors.ForbiddenProxyRequest | ssl.SSLError):
            return 403, "Forbidden", "the connection is not allowed"
        if isinstance(exc, errors.ParseException):
            return 400, "Bad Request", f"the request is not valid HTTP/1.1: {_short(str(exc))}"
        return None


def problem_bytes(status: int, title: str, detail: str) -> bytes:
    """A whole HTTP/1.1 response carrying a problem+json body; the connection is closed after it."""
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail}).encode()
    head = (f"HTTP/1.1 {status} {title}\r\nConnection: close\r\nContent-Type: {PROBLEM_MIMETYPE}\r\n"
            f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\n\r\n")
    return head.encode("latin-1") + body


def _short(text: str, limit: int = 200) -> str:
    """The parser's complaint, cut short: it may quote a whole (long) request line."""
    return text if len(text) <= limit else text[:limit] + "…"
