"""New record ids: time-ordered UUIDs (version 7, RFC 9562), from uuid-utils.

A random (version 4) id lands on a random page of every index that holds it, so a batch of inserts dirties pages
all over each B-tree and every commit writes them all out again: a bulk import spent most of its time committing.
Ids that grow with time append to the right-hand edge of each index instead, for far less commit work
(bench/learner_import.py). They sort by creation time and reveal it to the millisecond; the records carry their
creation time openly anyway."""

import uuid

import uuid_utils
from uuid_utils.compat import uuid7


def new_id() -> uuid.UUID:
    """A new, unique, time-ordered id (a standard uuid.UUID)."""
    return uuid7()


def new_bulk_id() -> uuid_utils.UUID:
    """The same as new_id, for bulk writers: much cheaper to make, with ``.hex`` and ``str()`` as uuid.UUID has."""
    return uuid_utils.uuid7()


def dashed(hex_id: str) -> str:
    """A 32-digit hex id in the standard dashed form, as str(uuid.UUID(hex_id)) gives it (without checking it)."""
    return f"{hex_id[:8]}-{hex_id[8:12]}-{hex_id[12:16]}-{hex_id[16:20]}-{hex_id[20:]}"
