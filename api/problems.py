"""RFC 9457 problem details (application/problem+json): one error shape for every REST response that fails.

problem_response builds one; init_app registers the handlers that turn api.errors' ApiError, every werkzeug
HTTPException and anything unexpected into one. An unexpected error is either transient (the database is locked,
busy or unreachable, as api.db.is_transient tells: a 503 with Retry-After, logged as a warning) or a fault (a 500
carrying the request id, logged with its traceback). GraphQL reports the same two cases (api.gql.view).
"""

import logging

from flask import Flask, json, request
from werkzeug.exceptions import HTTPException

from api import db
from api.errors import ApiError, PayloadTooLarge
from api.observability import SERVER_ERRORS
from api.services.common import request_context

PROBLEM_MIMETYPE = "application/problem+json"
RETRY_AFTER_SECONDS = 2  # after a transient database error
UNAVAILABLE_DETAIL = ("the database is busy or unavailable; the write in progress, if any, was rolled back: retry "
                      "after the time in Retry-After")
INTERNAL_DETAIL = "The server failed to handle this request; it has been logged with this request_id."
log = logging.getLogger(__name__)


def problem_response(status: int, title: str, detail: str, *, type_: str = "about:blank", errors=None, headers=None,
                     extensions=None):
    """Build a problem+json response for Flask; ``extensions`` are extra members (e.g. OAuth's ``error``)."""
    body = {"type": type_, "title": title, "status": status, "detail": detail, "instance": request.path,
            **(extensions or {})}
    if errors:
        body["errors"] = errors
    response = Flask.response_class(json.dumps(body), status=status, mimetype=PROBLEM_MIMETYPE)
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def log_unexpected(error: BaseException, where: str, edge: str) -> bool:
    """Log and count an unexpected error raised while handling ``where``: a transient database error as a warning
    (no traceback: nothing is wrong with the code), anything else with its traceback. Whether it was transient."""
    transient = db.is_transient(error)
    SERVER_ERRORS.labels(edge, "unavailable" if transient else "internal").inc()
    if transient:
        log.warning("database unavailable on %s: %s: %s", where, type(error).__name__, _first_line(error))
    else:
        log.error("unhandled error on %s", where, exc_info=error)
    return transient


def _first_line(error: BaseException) -> str:
    return str(error).strip().split("\n", 1)[0][:300]


def init_app(app: Flask) -> None:
    """Register the handlers that turn every error into problem+json."""

    @app.errorhandler(ApiError)
    def handle_api_error(error: ApiError):
        return problem_response(error.status, error.title, error.detail, type_=error.type, errors=error.errors,
                                headers=error.headers, extensions=error.extensions)

    @app.errorhandler(HTTPException)
    def handle_http_exception(error: HTTPException):
        headers = dict(error.get_headers())
        headers.pop("Content-Type", None)
        detail = error.description or error.name
        if error.code == 404:
            detail = f"No resource at {request.path}. See /v1/openapi.yaml for the operations this API offers."
        elif error.code == 429:
            detail = f"too many requests: {error.description}; retry after the time in Retry-After"
        elif error.code == 405:
            detail = f"{request.method} is not allowed on {request.path}; allowed: {headers.get('Allow', 'none')}."
        elif error.code == 413:
            return problem_response(413, PayloadTooLarge.title, f"the request body is larger than "
                                    f"{request.max_content_length} bytes, the most this operation accepts",
                                    type_=PayloadTooLarge.type, headers=headers)
        return problem_response(error.code or 500, error.name, detail, headers=headers)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        request_id = {"request_id": request_context.request_id.get()}
        if log_unexpected(error, f"{request.method} {request.path}", "rest"):
            return problem_response(503, "Service Unavailable", UNAVAILABLE_DETAIL,
                                    type_="/problems/database-unavailable",
                                    headers={"Retry-After": str(RETRY_AFTER_SECONDS)}, extensions=request_id)
        return problem_response(500, "Internal Server Error", INTERNAL_DETAIL, extensions=request_id)
