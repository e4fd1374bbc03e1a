"""Enrolment tallies: the counts of each enrolment's progress document, kept in ``enrolment_tally`` by every write that
changes them (a decision, countersignature, claim, IQA sample or verdict, a migration), in the same transaction, so a
centre's progress sums stored rows instead of deriving every enrolment's document.

A tally is never typed in or updated by arithmetic: ``refresh`` derives the enrolment's document with
progress.progress_for, the one derivation every progress read uses, and stores its counts. On PostgreSQL it first
locks the enrolment row (FOR NO KEY UPDATE, which does not wait on the key-share locks that inserting a decision
takes), so of two writers on one enrolment the second derives after the first commits and sees its record. An
enrolment with no decision, claim or sample has no row; its tally is its version's criteria and nothing else.
"""

import uuid

import peewee

from api.db import database_proxy, fetch_in, fetch_rows, is_sqlite
from api.models import Enrolment, EnrolmentTally
from api.services.tracking.progress import COUNT_KEYS, progress_for

ENROLMENT_PLACE_SQL = "SELECT CAST(centre_id AS TEXT), CAST(unit_version_id AS TEXT) FROM enrolment WHERE id = {p}"
PLACES_SQL = ("SELECT CAST(id AS TEXT), CAST(centre_id AS TEXT), CAST(unit_version_id AS TEXT) FROM enrolment "
              "WHERE id IN ({values})")
ASSESSED_ENROLMENTS_SQL = """
SELECT DISTINCT CAST(enrolment_id AS TEXT) FROM decision UNION SELECT DISTINCT CAST(enrolment_id AS TEXT) FROM claim
UNION SELECT DISTINCT CAST(enrolment_id AS TEXT) FROM iqa_sample"""
STORED_SQL = f"""
SELECT CAST(t.enrolment_id AS TEXT), {", ".join(f"t.{k}" for k in COUNT_KEYS)}, t.complete,
       CASE WHEN t.unit_version_id = e.unit_version_id THEN 1 ELSE 0 END
FROM enrolment_tally t JOIN enrolment e ON e.id = t.enrolment_id WHERE t.enrolment_id IN ({{values}})"""
REBUILD_BATCH = 500
TALLIED = (*COUNT_KEYS, "complete", "of_its_version")  # of_its_version: the tally's unit version is the enrolment's


def refresh(enrolment_id: uuid.UUID) -> None:
    """Inside the caller's write transaction, after it has written what changes the enrolment's progress: store the
    enrolment's tally as its progress document now counts it."""
    [[centre, version]] = fetch_rows(ENROLMENT_PLACE_SQL + ("" if is_sqlite() else " FOR NO KEY UPDATE"),
                                     [enrolment_id.hex])
    _store(progress_for([enrolment_id]), {enrolment_id: (uuid.UUID(str(centre)), uuid.UUID(str(version)))})


def _store(documents: dict, places: dict) -> None:
    """Store the tallies of ``documents`` ({enrolment id: progress document}), each with its enrolment's (centre,
    unit version) from ``places``."""
    rows = [{"enrolment": enrolment_id, "centre": places[enrolment_id][0], "unit_version": places[enrolment_id][1],
             **{k: document[k] for k in COUNT_KEYS}, "complete": document["complete"]}
            for enrolment_id, document in documents.items()]
    if rows:
        (EnrolmentTally.insert_many(rows)
         .on_conflict(conflict_target=[EnrolmentTally.enrolment],
                      preserve=[EnrolmentTally.unit_version, EnrolmentTally.complete,
                                *(getattr(EnrolmentTally, k) for k in COUNT_KEYS)])
         .execute())


def rebuild(database: peewee.Database | None = None) -> int:
    """Derive and store the tally of every enrolment with a record of assessment, in batches; the number stored.
    For migration 013 and ``qualtrack rebuild-tallies``: ``database`` must be the one the models are bound to."""
    if database is not None and database_proxy.obj is not database:
        raise RuntimeError("rebuild() tallies the database the models are bound to: bind it first")
    ids = [uuid.UUID(row[0]) for row in fetch_rows(ASSESSED_ENROLMENTS_SQL)]
    for start in range(0, len(ids), REBUILD_BATCH):
        batch = ids[start:start + REBUILD_BATCH]
        with database_proxy.atomic():
            places = {uuid.UUID(str(e)): (uuid.UUID(str(c)), uuid.UUID(str(v)))
                      for e, c, v in fetch_in(PLACES_SQL, [], [i.hex for i in batch])}
            _store(progress_for(batch), places)
    return len(ids)


def drift(enrolment_ids: list[uuid.UUID] | None = None) -> list[dict]:
    """Enrolments (of ``enrolment_ids``, or all) whose stored tally differs from what their records derive now:
    [{enrolment_id, stored, derived}]. Empty when every tally is right; for tests and ``qualtrack check-tallies``."""
    ids = enrolment_ids if enrolment_ids is not None else [e.id for e in Enrolment.select(Enrolment.id)]
    found = []
    for start in range(0, len(ids), REBUILD_BATCH):
        batch = ids[start:start + REBUILD_BATCH]
        documents = progress_for(batch)
        stored = {_key(row[0]): row[1:] for row in fetch_in(STORED_SQL, [], [i.hex for i in batch])}
        for enrolment_id, document in documents.items():
            derived = (*[document[k] for k in COUNT_KEYS], document["complete"], True)
            row = stored.get(enrolment_id.hex)
            kept = (*row[:-2], bool(row[-2]), bool(row[-1])) if row else _untallied(document)
            if kept != derived:
                found.append({"enrolment_id": str(enrolment_id), "stored": dict(zip(TALLIED, kept, strict=True)),
                              "derived": dict(zip(TALLIED, derived, strict=True))})
    return found


def _untallied(document: dict) -> tuple:
    """What the roll-up counts for an enrolment with no tally row: its version's criteria, nothing else."""
    return (document["criteria"], *[0] * (len(COUNT_KEYS) - 1), False, True)


def _key(raw) -> str:
    return str(raw).replace("-", "")
