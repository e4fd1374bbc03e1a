"""Every error that becomes an HTTP answer: each an HTTP status, a stable problem type and a detail a person can act
on. Services, the REST and GraphQL edges, and the command line raise these; no other module defines one.

The REST edge turns them (and every werkzeug HTTPException, and anything unexpected) into RFC 9457 problem details
(api.problems); GraphQL maps the same classes to its errors. This module needs no web framework, so services and
the command line import it without loading Flask.
"""

import uuid


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


class InvalidParameter(ApiError):
    status, title, type = 400, "Invalid request parameter", "/problems/invalid-parameter"


class InvalidGrant(ApiError):
    """OAuth2 invalid_grant: wrong username or password, or an unusable refresh token."""

    status, title, type = 400, "Invalid grant", "/problems/invalid-grant"


class UnauthorizedClient(ApiError):
    """OAuth2 unauthorized_client: the client may not use this grant (acting for people without the scope)."""

    status, title, type = 400, "Unauthorized client", "/problems/unauthorized-client"


class InvalidRequest(ApiError):
    """OAuth2 invalid_request: a token, refresh or revoke request that is not well formed."""

    status, title, type = 400, "Invalid token request", "/problems/invalid-token-request"


class BadGraphQLRequest(ApiError):
    status, title, type = 400, "Bad GraphQL request", "/problems/bad-graphql-request"


class MethodNotAllowed(ApiError):
    """The operation needs another HTTP method (a GraphQL mutation sent with GET: it needs POST)."""

    status, title, type = 405, "Method Not Allowed", "/problems/method-not-allowed"


class Unauthorized(ApiError):
    status, title, type = 401, "Unauthorized", "/problems/unauthorized"

    def __init__(self, detail: str, *, error: str = "invalid_token"):
        header = 'Bearer realm="qualtrack"' if error == "missing" else f'Bearer realm="qualtrack", error="{error}"'
        super().__init__(detail, headers={"WWW-Authenticate": header})


class InvalidClient(ApiError):
    """OAuth2 invalid_client: unknown client or wrong secret."""

    status, title, type = 401, "Invalid client", "/problems/invalid-client"

    def __init__(self, detail: str):
        super().__init__(detail, headers={"WWW-Authenticate": 'Basic realm="qualtrack"'})


class Forbidden(ApiError):
    status, title, type = 403, "Forbidden", "/problems/forbidden"


class NotFound(ApiError):
    status, title, type = 404, "Not Found", "/problems/not-found"


class Conflict(ApiError):
    status, title, type = 409, "Conflict", "/problems/conflict"


class AlreadyExists(Conflict):
    """409 for a write that would duplicate a record. Problem members: ``existing_id`` and ``existing_href`` name the
    record that exists, ``errors`` the field whose value it already holds."""

    type = "/problems/already-exists"

    def __init__(self, detail: str, *, field: str, reason: str, existing_id, existing_href: str):
        super().__init__(detail, errors={field: [reason]},
                         extensions={"existing_id": str(existing_id), "existing_href": existing_href})
        self.existing_id = uuid.UUID(str(existing_id))
        self.existing_href = existing_href


class IdempotencyConflict(ApiError):
    status, title, type = 409, "Idempotency key reused", "/problems/idempotency-conflict"


class PreconditionFailed(ApiError):
    status, title, type = 412, "Precondition Failed", "/problems/stale-etag"


class PayloadTooLarge(ApiError):
    status, title, type = 413, "Payload Too Large", "/problems/payload-too-large"


class UnsupportedMediaType(ApiError):
    status, title, type = 415, "Unsupported Media Type", "/problems/unsupported-media-type"


class ValidationFailed(ApiError):
    status, title, type = 422, "Unprocessable Content", "/problems/validation-failed"


class ImportRejected(ValidationFailed):
    """The file as a whole cannot be read (encoding, header): nothing is imported."""


class PreconditionRequired(ApiError):
    status, title, type = 428, "Precondition Required", "/problems/if-match-required"


class TooManyRequests(ApiError):
    status, title, type = 429, "Too Many Requests", "/problems/too-many-requests"
