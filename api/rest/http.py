"""Request-argument parsing and response helpers shared by every REST view."""

import uuid
from urllib.parse import urlencode

from flask import Response, current_app, request
from marshmallow import Schema, ValidationError

from api.errors import InvalidParameter
from api.services.common.pagination import Page
from api.services.content.catalog import Document

JSON = "application/json"
FORBIDDEN_CHARACTERS = {chr(c) for c in range(32) if chr(c) not in "\t"} | {"\x7f"}


def parse_id(value: str, what: str) -> uuid.UUID:
    """A path id as a UUID, or InvalidParameter naming what was expected."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidParameter(f"{value!r} is not a valid {what} id: ids are UUIDs such as "
                               "'0b5e3c8e-2f7d-5a41-9c1e-6f1d2a3b4c5d'") from None


def parse_args(schema: Schema) -> dict:
    """Validate the query string against ``schema``: unknown, repeated or malformed parameters are a 400."""
    if not schema.fields and not request.query_string:
        return {}  # an operation without parameters, called without any: nothing to check, and no schema load to pay
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
    """A list page: ``{"items", "next_cursor", "total"}`` plus X-Total-Count (unless the total is not counted: over
    TOTAL_COUNTED_UP_TO) and a Link rel="next" header."""
    response = json_response({"items": page.items, "next_cursor": page.next_cursor, "total": page.total},
                             cache_control)
    if page.total is not None:
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
    """Run a write in one transaction (nothing half-written), honouring an Idempotency-Key (see keyed_write).
    A Created answer is rendered after the commit (with an Idempotency-Key, before it, to be stored)."""
    from functools import wraps

    from api.auth import current_principal
    from api.db import write_transaction
    from api.services.common.access import require_authenticated

    @wraps(view)
    def wrapper(*args, **kwargs):
        require_authenticated(current_principal())  # a 401 comes before any complaint about the body
        key = idempotency_key()
        if key is None:
            with write_transaction():
                result = view(*args, **kwargs)
            return result.response() if isinstance(result, Created) else result
        return keyed_write(key, lambda: _rendered(view(*args, **kwargs)))

    return wrapper


def idempotency_key() -> str | None:
    """This request's Idempotency-Key, None without one; a 400 when it is malformed."""
    from api.services.common import idempotency

    return idempotency.checked_key(request.headers.get("Idempotency-Key"))


class Unstored(Exception):  # noqa: N818 - not an error: an answer that must not be kept
    """Raised by a keyed write's ``run`` with the answer to give: the transaction is rolled back and the answer is
    not stored, so a retry runs the write again."""

    def __init__(self, response: Response):
        super().__init__(response.status)
        self.response = response


def keyed_write(key: str, run) -> Response:
    """``run()``'s response, in one transaction, for a request with Idempotency-Key ``key``: requests with the same
    caller and key take turns; the first one's successful (2xx) response is stored with the write and replayed to
    every retry of the same request (same method, path, query and body), marked Idempotent-Replayed: true; a
    different request with that key is a 409. A failed first request stores nothing, so its retry runs again."""
    from api.db import hold_until_commit, write_transaction
    from api.services.common import idempotency

    subject = _subject()
    fingerprint = idempotency.request_fingerprint(request.method, request.full_path, request.get_data())
    try:
        with write_transaction():
            hold_until_commit(idempotency.lock_id(subject, key))  # on SQLite the lookup below takes the write lock
            stored = idempotency.replay(subject, key, fingerprint)
            if stored is not None:
                return replayed(stored)
            response = run()
            if 200 <= response.status_code < 300:
                idempotency.remember(subject, key, fingerprint, response.status_code,
                                     response.get_data(as_text=True), _replayed_headers(response))
            return response
    except Unstored as unstored:
        return unstored.response


def keyed_run(key: str, body_stream, run) -> Response:
    """For a write that commits several times (a bulk import), honouring Idempotency-Key ``key`` as keyed_write
    does: ``run(stream)`` gets ``body_stream`` to read the body from (it must read it to the end); requests with the
    same caller and key wait for one another until the first has finished and stored its response."""
    from api.db import held, write_transaction
    from api.errors import IdempotencyConflict
    from api.services.common import idempotency

    subject = _subject()
    lock = idempotency.lock_id(subject, key)
    fingerprinted = _Fingerprinted(body_stream, idempotency.fingerprint_hasher(request.method, request.full_path))
    with held(lock):
        if idempotency.stored(subject, key):
            fingerprinted.read_to_end()
            return replayed(idempotency.replay(subject, key, fingerprinted.hexdigest()))
        response = run(fingerprinted)
        if 200 <= response.status_code < 300:
            try:
                with write_transaction():
                    idempotency.remember(subject, key, fingerprinted.hexdigest(), response.status_code,
                                         response.get_data(as_text=True), _replayed_headers(response))
            except IdempotencyConflict:
                pass  # taken meanwhile by a write that did not wait its turn (SQLite): this one happened, unstored
        return response


def _replayed_headers(response: Response) -> dict:
    """What of a response's headers a replay gives again: its Location, ETag and media type."""
    return {"location": response.headers.get("Location"), "etag": response.headers.get("ETag"),
            "media_type": None if response.mimetype == JSON else response.mimetype}


def replayed(stored) -> Response:
    """A stored response, as first given (status, body, Location, ETag, media type), marked Idempotent-Replayed:
    true."""
    response = Response(stored.body, status=stored.status, mimetype=stored.media_type or JSON)
    for name, value in (("Location", stored.location), ("ETag", stored.etag)):
        if value:
            response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    response.headers["Cache-Control"] = "no-store"
    return response


def _subject() -> str:
    """Whose keys these are: the caller, as the audit log names it (a person and the client acting for them are a
    caller of their own, apart from the person calling themselves)."""
    from api.auth import current_principal
    from api.services.common.audit import acting_client_of, actor_of

    principal = current_principal()
    acting = acting_client_of(principal)
    return actor_of(principal) + (f" via {acting}" if acting else "")


def _rendered(result) -> Response:
    return result.response() if isinstance(result, Created) else result


class _Fingerprinted:
    """A readable body stream that hashes what is read from it (for a request's fingerprint)."""

    def __init__(self, stream, hasher):
        self.stream, self.hasher = stream, hasher

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.hasher.update(chunk)
        return chunk

    def read_to_end(self) -> None:
        while self.read(1 << 16):
            pass

    def hexdigest(self) -> str:
        return self.hasher.hexdigest()


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

