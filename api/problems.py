"""RFC 9457 problem details (application/problem+json): one error shape for every REST response that fails.

problem_response builds one; init_app registers the handlers that turn api.errors' ApiError, every werkzeug
HTTPException, a database that is down and anything unexpected into one.
"""

import logging

import peewee
from flask import Flask, json, request
from werkzeug.exceptions import HTTPException

from api.errors import ApiError

PROBLEM_MIMETYPE = "application/problem+json"
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
        return problem_response(error.code or 500, error.name, detail, headers=headers)

    @app.errorhandler(peewee.OperationalError)
    @app.errorhandler(peewee.InterfaceError)
    def handle_database_unavailable(error: Exception):
        log.warning("database unavailable on %s %s: %s", request.method, request.path, type(error).__name__)
        return problem_response(503, "Service Unavailable",
                                "the database is unavailable or busy; the write in progress, if any, was rolled back: "
                                "retry after the time in Retry-After",
                                type_="/problems/database-unavailable", headers={"Retry-After": "2"})

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem_response(500, "Internal Server Error",
                                "The server failed to handle this request; it has been logged.")
