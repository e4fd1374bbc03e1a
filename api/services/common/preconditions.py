"""Conditional updates: a versioned record's strong ETag, and If-Match, which every update of one must send (428
without it, 412 when it names a version that is no longer current), so no update overwrites one it has not seen."""

import hashlib

from api.errors import PreconditionFailed, PreconditionRequired


def etag_of(kind: str, row_id, row_version: int) -> str:
    """A strong ETag that changes with every update of a versioned record."""
    return '"' + hashlib.sha256(f"{kind}:{row_id}:{row_version}".encode()).hexdigest()[:24] + '"'


def check_if_match(if_match: str | None, current: str) -> None:
    """412 if the client's If-Match is stale, 428 if it sent none: updates must say which version they change."""
    if not if_match:
        raise PreconditionRequired("send If-Match with the ETag from your last GET of this record")
    candidates = {tag.strip() for tag in if_match.split(",")}
    if "*" not in candidates and current not in candidates and f"W/{current}" not in candidates:
        raise PreconditionFailed("the record has changed since you read it: GET it again and retry with its ETag")
