"""Safe retries: a POST sent again with the same Idempotency-Key gets the stored response, never a second write.

A key belongs to its caller (the subject, as the audit log names it). Requests with the same subject and key take
turns (lock_id names their lock), so a retry sent while the first is still running waits for it and then replays its
stored response; if the first failed, nothing was stored and the retry runs the write itself."""

import hashlib

from peewee import IntegrityError

from api.errors import IdempotencyConflict, InvalidParameter
from api.models import IdempotentResponse

MAX_KEY_LENGTH = 255
LOCK_SPACE = 0x6964  # "id": the top bits of every lock_id, apart from other users of db.hold_until_commit


def checked_key(key: str | None) -> str | None:
    """The Idempotency-Key header's value (None when absent); InvalidParameter (400) when it is malformed."""
    if key is not None and not (1 <= len(key) <= MAX_KEY_LENGTH and all("!" <= ch <= "~" for ch in key)):
        raise InvalidParameter(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters without "
                               "spaces, e.g. a UUID", errors={"Idempotency-Key": ["malformed"]})
    return key


def fingerprint_hasher(method: str, path: str):
    """A hashlib object to feed the request body to; its hexdigest() is the request's fingerprint."""
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n")


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    """What identifies a request for its key: method, path with query string, and body."""
    hasher = fingerprint_hasher(method, path)
    hasher.update(body)
    return hasher.hexdigest()


def lock_id(subject: str, key: str) -> int:
    """The 64-bit lock (db.hold_until_commit, db.held) that requests with this subject and key take in turn."""
    digest = int.from_bytes(hashlib.sha256(f"{subject}\n{key}".encode()).digest()[:6], "big")
    return (LOCK_SPACE << 48) | digest


def stored(subject: str, key: str) -> bool:
    """Whether a response is stored for this key."""
    return IdempotentResponse.select().where(IdempotentResponse.subject == subject,
                                             IdempotentResponse.key == key).exists()


def replay(subject: str, key: str, fingerprint: str) -> IdempotentResponse | None:
    """The stored response for this key, if any; IdempotencyConflict if the key was used for another request."""
    stored = IdempotentResponse.get_or_none(IdempotentResponse.subject == subject, IdempotentResponse.key == key)
    if stored is not None and stored.request_hash != fingerprint:
        raise _reused(key)
    return stored


def remember(subject: str, key: str, fingerprint: str, status: int, body: str, headers: dict) -> None:
    """Store the response (``headers``: its Location, ETag and media type, each or None) in the same transaction as
    the write it describes. Requests with one key take turns (lock_id), so the key is free here unless it was taken
    meanwhile by a request that did not take its turn."""
    try:
        IdempotentResponse.create(subject=subject, key=key, request_hash=fingerprint, status=status, body=body,
                                  location=headers.get("location"), etag=headers.get("etag"),
                                  media_type=headers.get("media_type"))
    except IntegrityError:
        raise _reused(key) from None


def _reused(key: str) -> IdempotencyConflict:
    return IdempotencyConflict(f"Idempotency-Key {key!r} was already used for a different request; use a new key "
                               "for a new request", errors={"Idempotency-Key": ["used for a different request"]})
