"""Safe retries: a POST sent again with the same Idempotency-Key gets the stored response, never a second write."""

import hashlib

from peewee import IntegrityError

from api.errors import ApiError
from api.models import IdempotentResponse

MAX_KEY_LENGTH = 255


class IdempotencyConflict(ApiError):
    status, title, type = 409, "Idempotency key reused", "/problems/idempotency-conflict"


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def replay(subject: str, key: str, fingerprint: str) -> IdempotentResponse | None:
    """The stored response for this key, if any; IdempotencyConflict if the key was used for another request."""
    stored = IdempotentResponse.get_or_none(IdempotentResponse.subject == subject, IdempotentResponse.key == key)
    if stored is not None and stored.request_hash != fingerprint:
        raise IdempotencyConflict(f"Idempotency-Key {key!r} was already used for a different request; use a new key "
                                  "for a new request")
    return stored


def remember(subject: str, key: str, fingerprint: str, status: int, body: str, location: str | None) -> None:
    """Store the response in the same transaction as the write it describes."""
    try:
        IdempotentResponse.create(subject=subject, key=key, request_hash=fingerprint, status=status, body=body,
                                  location=location)
    except IntegrityError:
        raise IdempotencyConflict(f"a request with Idempotency-Key {key!r} is already being processed") from None
