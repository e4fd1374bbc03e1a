"""The errors services raise: each an HTTP status, a stable problem type and a detail a person can act on.

The REST edge turns them (and every werkzeug HTTPException, and anything unexpected) into RFC 9457 problem details
(api.problems); GraphQL maps the same classes to its errors. This module needs no web framework, so services and
the command line import it without loading Flask.
"""


class ApiError(Exception):
    """An expected failure with an HTTP status, a stable problem type and a human-readable detail."""

    status = 400
    title = "Bad Request"
    type = "about:blank"

    def __init__(self, detail: str, *, errors: dict | None = None, headers: dict | None = None,
                 extensions: dict | None = None):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extensions = extensions or {}


class Conflict(ApiError):
    status, title, type = 409, "Conflict", "/problems/conflict"


class InvalidParameter(ApiError):
    status, title, type = 400, "Invalid request parameter", "/problems/invalid-parameter"


class NotFound(ApiError):
    status, title, type = 404, "Not Found", "/problems/not-found"


class UnsupportedMediaType(ApiError):
    status, title, type = 415, "Unsupported Media Type", "/problems/unsupported-media-type"


class ValidationFailed(ApiError):
    status, title, type = 422, "Unprocessable Content", "/problems/validation-failed"
