"""Request-argument parsing and response helpers shared by every REST view."""

from urllib.parse import urlencode

from flask import Response, current_app, request
from marshmallow import Schema, ValidationError

from api.errors import InvalidParameter
from api.services.catalog import Document
from api.services.pagination import Page

JSON = "application/json"
FORBIDDEN_CHARACTERS = {chr(c) for c in range(32) if chr(c) not in "\t"} | {"\x7f"}


def parse_args(schema: Schema) -> dict:
    """Validate the query string against ``schema``: unknown, repeated or malformed parameters are a 400."""
    if not schema.fields and not request.query_string:
        return {}  # an operation without parameters, called without any: nothing to check (~20 µs a write saved)
    errors: dict[str, list[str]] = {}
    raw = {}
    for name, values in request.args.lists():
        if len(values) > 1:
            errors[name] = ["given more than once; give it once"]
        elif any(ch in FORBIDDEN_CHARACTERS for ch in values[0]):
            errors[name] = ["contains control characters"]
        else:
            raw[name] = values[0]
    if not errors:
        try:
            return schema.load(raw)
        except ValidationError as exc:
            for name, messages in exc.normalized_messages().items():
                messages = messages if isinstance(messages, list) else [str(messages)]
                errors[name] = ["unknown parameter" if m == "Unknown field." else m for m in messages]
    allowed = ", ".join(sorted(schema.fields)) or "none"
    raise InvalidParameter(f"invalid query parameters: {', '.join(sorted(errors))} (this operation takes: {allowed})",
                           errors=errors)


def document_response(document: Document, cache_control: str) -> Response:
    """Serve stored document bytes with their ETag; 304 when If-None-Match already has them."""
    headers = {"ETag": document.etag, "Cache-Control": cache_control}
    if document.etag.strip('"') and request.if_none_match.contains_weak(document.etag.strip('"')):
        return Response(status=304, headers=headers)
    return Response(document.body, mimetype=JSON, headers=headers)


def json_response(body, cache_control: str = "no-cache") -> Response:
    """A JSON body; the after-request hook adds an ETag and answers If-None-Match with 304."""
    response = current_app.response_class(current_app.json.dumps(body), mimetype=JSON)
    response.headers["Cache-Control"] = cache_control
    return response


def page_response(page: Page, cache_control: str = "no-cache") -> Response:
    """A list page: ``{"items", "next_cursor", "total"}`` plus X-Total-Count and a Link rel="next" header."""
    response = json_response({"items": page.items, "next_cursor": page.next_cursor, "total": page.total},
                             cache_control)
    response.headers["X-Total-Count"] = str(page.total)
    if page.next_cursor:
        args = {k: v for k, v in request.args.items() if k != "cursor"}
        args["cursor"] = page.next_cursor
        response.headers["Link"] = f'<{request.path}?{urlencode(args)}>; rel="next"'
    return response


def cache_control_for(status: str, max_age: int = 60) -> str:
    """Published content may be cached by anyone; other statuses must be revalidated every time."""
    return f"public, max-age={max_age}" if status == "published" else "no-cache"


def parse_body(schema: Schema, *, partial: bool = False) -> dict:
    """The JSON request body validated by ``schema``: 415 if not JSON, 400 if malformed, 422 naming each bad field."""
    from api.errors import UnsupportedMediaType
    from api.inputs import load_body

    if request.mimetype != "application/json":
        raise UnsupportedMediaType("send the body as application/json")
    body = request.get_json(silent=True)
    if body is None:
        raise InvalidParameter("the body is not valid JSON")
    if not isinstance(body, dict):
        raise InvalidParameter("the body must be a JSON object")
    return load_body(schema, body, partial=partial)


def write_endpoint(view):
    """Run a write in one transaction (nothing half-written), replaying stored responses for a repeated
    Idempotency-Key: the same key and body get the first response again, the same key with another body a 409.
    A Created answer is rendered after the commit (with an Idempotency-Key, before it, to be stored)."""
    from functools import wraps

    from api.auth import current_principal
    from api.db import write_transaction
    from api.services import idempotency
    from api.services.access import require_authenticated
    from api.services.audit import actor_of

    @wraps(view)
    def wrapper(*args, **kwargs):
        require_authenticated(current_principal())  # a 401 comes before any complaint about the body
        key = request.headers.get("Idempotency-Key")
        if key is None:
            with write_transaction():
                result = view(*args, **kwargs)
            return result.response() if isinstance(result, Created) else result
        if not 1 <= len(key) <= idempotency.MAX_KEY_LENGTH or not all("!" <= ch <= "~" for ch in key):
            raise InvalidParameter("Idempotency-Key must be 1 to 255 printable ASCII characters without spaces, "
                                   "e.g. a UUID", errors={"Idempotency-Key": ["malformed"]})
        subject = actor_of(current_principal())
        fingerprint = idempotency.request_fingerprint(request.method, request.full_path, request.get_data())
        with write_transaction():
            stored = idempotency.replay(subject, key, fingerprint)
            if stored is not None:
                response = Response(stored.body, status=stored.status, mimetype=JSON)
                if stored.location:
                    response.headers["Location"] = stored.location
                response.headers["Idempotent-Replayed"] = "true"
                return response
            response = view(*args, **kwargs)
            if isinstance(response, Created):
                response = response.response()
            if 200 <= response.status_code < 300:
                idempotency.remember(subject, key, fingerprint, response.status_code, response.get_data(as_text=True),
                                     response.headers.get("Location"))
            return response

    return wrapper


class Created:
    """A 201 answer with the new resource, its Location (and ETag for versioned records). A write_endpoint view
    returns it as is: the response is rendered after the transaction commits, so no other writer waits while the
    body is serialised (about a tenth of a decision write); elsewhere, call .response()."""

    __slots__ = ("body", "location", "etag")

    def __init__(self, body: dict, location: str, etag: str | None = None):
        self.body, self.location, self.etag = body, location, etag

    def response(self) -> Response:
        response = json_response(self.body, cache_control="no-store")
        response.status_code = 201
        response.headers["Location"] = self.location
        if self.etag:
            response.headers["ETag"] = self.etag
        return response

