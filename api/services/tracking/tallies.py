"""Enrolment tallies: the counts of each enrolment's progress document, kept in ``enrolment_tally`` by every write that
changes them (a decision, countersignature, claim, IQA sample or verdict, a migration), in the same transaction, so a
centre's progress sums stored rows instead of deriving every enrolment's document.

A write that changes some criteria of one enrolment runs inside ``changing``: it locks the enrolment (PostgreSQL: FOR NO
KEY UPDATE, which does not wait on the key-share locks that inserting a decision takes; SQLite's writer holds the whole
database already), derives the states of those criteria before and after the write with progress.criterion_states (the
derivation every progress document uses, one criterion at a time), and adds the difference to the stored counts. So a
write costs the same however many criteria its unit has and however long their histories, and of two writers on one
enrolment the second reads the stored counts after the first commits. A write that changes the whole enrolment (a
migration to another version) stores its whole derived document (``refresh``). Every enrolment has a tally from the
moment it is created (``add_new``: its version's criteria and nothing else), so a centre's roll-up reads the centre's
tallies and nothing else; ``drift`` (``qualtrack check-progress``) compares each stored tally with the whole derivation.
"""

import uuid
from contextlib import contextmanager

import peewee

from api.db import database_proxy, execute, fetch_in, fetch_rows, insert_values, is_sqlite
from api.models import Enrolment, EnrolmentTally
from api.services.credentials import issuing
from api.services.sync import feed
from api.services.tracking import progress_events
from api.services.tracking.progress import COUNT_KEYS, criterion_states, enrolment_complete, progress_for
from api.services.tracking.queries import IN_EFFECT_SQL

ENROLMENT_PLACE_SQL = """
SELECT CAST(e.centre_id AS TEXT), CAST(e.unit_version_id AS TEXT), CAST(e.learner_id AS TEXT), CAST(e.unit_id AS TEXT),
       t.complete
FROM enrolment e LEFT OUTER JOIN enrolment_tally t ON t.enrolment_id = e.id WHERE e.id = {p}"""
# The enrolment's tally and the state of some of its criteria, in one statement. Every row starts with the enrolment's
# centre and unit version and its stored counts (COUNT_KEYS; NULLs if its tally is not of that version), then one of
# the criteria that is in the version, how often it is claimed, and one of its decisions (NULLs if none) with that
# decision's countersignature and IQA sample (progress.criterion_states reads these): of its decisions, only the two
# its state depends on (the newest, and the newest in effect), each found by walking the (enrolment, criterion,
# sequence) index back from the newest, so a write costs the same however long the criterion's history; in the
# order they were made. One row with NULL criterion if none of the criteria is in the version; no row if there is
# no such enrolment.
# Parameters: the enrolment (hex) three times, the criteria (hex) as the IN list, the enrolment again.
TALLY_AND_STATES_SQL = f"""
WITH w AS MATERIALIZED (
  SELECT c.id, c.version_id,
         (SELECT COUNT(*) FROM claim k WHERE k.enrolment_id = {{p}} AND k.criterion_id = c.id) AS claims,
         (SELECT MAX(x.sequence) FROM decision x WHERE x.enrolment_id = {{p}} AND x.criterion_id = c.id) AS newest,
         (SELECT x.sequence FROM decision x LEFT OUTER JOIN countersignature y ON y.decision_id = x.id
          WHERE x.enrolment_id = {{p}} AND x.criterion_id = c.id AND {IN_EFFECT_SQL}
          ORDER BY x.sequence DESC LIMIT 1) AS newest_in_effect
  FROM assessment_criterion c WHERE c.id IN ({{values}}))
SELECT CAST(e.centre_id AS TEXT), CAST(e.unit_version_id AS TEXT), CAST(e.learner_id AS TEXT), CAST(e.unit_id AS TEXT),
       {", ".join(f"t.{k}" for k in COUNT_KEYS)},
       CAST(w.id AS TEXT), w.claims,
       CAST(d.id AS TEXT), d.outcome, d.assessor_status, CAST(s.decision_id AS TEXT), CAST(d.carried_from_id AS TEXT),
       m.id IS NOT NULL, v.verdict
FROM enrolment e
LEFT OUTER JOIN enrolment_tally t ON t.enrolment_id = e.id AND t.unit_version_id = e.unit_version_id
LEFT OUTER JOIN w ON w.version_id = e.unit_version_id
LEFT OUTER JOIN decision d ON d.enrolment_id = e.id AND d.criterion_id = w.id
                          AND d.sequence IN (w.newest, w.newest_in_effect)
LEFT OUTER JOIN countersignature s ON s.decision_id = d.id
LEFT OUTER JOIN iqa_sample m ON m.decision_id = d.id LEFT OUTER JOIN iqa_verdict v ON v.sample_id = m.id
WHERE e.id = {{p}}
ORDER BY d.sequence"""
PLACE_COLUMNS, STATE_START = 4, 4 + len(COUNT_KEYS)
ADD_CHANGES_SQL = (f"UPDATE enrolment_tally SET {', '.join(f'{k} = {{p}}' for k in COUNT_KEYS[1:])}, complete = {{p}} "
                   "WHERE enrolment_id = {p}")
PLACES_SQL = ("SELECT CAST(id AS TEXT), CAST(centre_id AS TEXT), CAST(unit_version_id AS TEXT) FROM enrolment "
              "WHERE id IN ({values})")
CRITERIA_BY_VERSION_SQL = """
SELECT CAST(version_id AS TEXT), COUNT(*) FROM assessment_criterion WHERE version_id IN ({values})
GROUP BY version_id"""
ENROLMENT_IDS_SQL = "SELECT CAST(id AS TEXT) FROM enrolment"
UNTALLIED_ASSESSED_IDS_SQL = """
SELECT CAST(e.id AS TEXT) FROM enrolment e
WHERE NOT EXISTS (SELECT 1 FROM enrolment_tally t WHERE t.enrolment_id = e.id)
AND (EXISTS (SELECT 1 FROM decision d WHERE d.enrolment_id = e.id) OR EXISTS (SELECT 1 FROM claim c WHERE
     c.enrolment_id = e.id) OR EXISTS (SELECT 1 FROM iqa_sample s WHERE s.enrolment_id = e.id))"""
STORED_SQL = f"""
SELECT CAST(t.enrolment_id AS TEXT), {", ".join(f"t.{k}" for k in COUNT_KEYS)}, t.complete,
       CASE WHEN t.unit_version_id = e.unit_version_id THEN 1 ELSE 0 END
FROM enrolment_tally t JOIN enrolment e ON e.id = t.enrolment_id WHERE t.enrolment_id IN ({{values}})"""
REBUILD_BATCH = 500
TALLIED = (*COUNT_KEYS, "complete", "of_its_version")  # of_its_version: the tally's unit version is the enrolment's


def _locked(enrolment_id: uuid.UUID, read) -> list[tuple]:
    """What ``read()`` returns, read while holding the enrolment row until the transaction ends. On PostgreSQL the lock
    is its own statement: a statement that waited for a row lock sees the locked row as its holder committed it but
    every other row as it was when the statement began, so ``read`` runs after it."""
    if not is_sqlite():
        fetch_rows("SELECT 1 FROM enrolment WHERE id = {p} FOR NO KEY UPDATE", [enrolment_id.hex])
    return read()


@contextmanager
def changing(enrolment_id: uuid.UUID, criterion_ids: list[uuid.UUID], actor: str):
    """Around a write, inside its transaction, that changes the records of ``criterion_ids`` of one enrolment and
    nothing else of its progress: afterwards the enrolment's tally counts what it did, and the feed has the events
    the caller adds to the WriteEvents this yields (decision.recorded, ...), then those of the progress it moved
    (criterion met, outcome, enrolment and qualification completed, ...: progress_events), all by ``actor``. If the
    write raises, nothing is stored (and the transaction is the caller's to roll back). An enrolment that became
    complete is issued its credential, and one that stopped being has its credential revoked (credentials.issuing)."""
    wanted = [c.hex for c in criterion_ids]

    def tally_and_states(criteria=wanted):
        return fetch_in(TALLY_AND_STATES_SQL, [enrolment_id.hex] * 3, criteria, [enrolment_id.hex])

    rows = _locked(enrolment_id, tally_and_states) if wanted else []
    events = WriteEvents(_place(enrolment_id, rows[0]) if rows else None, actor)
    yield events
    if rows:
        events += _tally(enrolment_id, rows, actor, tally_and_states)
    issuing.follow(events)
    feed.append(events)


class WriteEvents(list):
    """The feed events of a write inside tallies.changing, in order: the caller adds its own (``add``), the progress
    it moved follows."""

    def __init__(self, place: progress_events.Place | None, actor: str):
        super().__init__()
        self.place, self.actor = place, actor

    def add(self, event_type: str, subject_id) -> None:
        """Add an event of ``event_type`` about ``subject_id`` in the changed enrolment."""
        if self.place is not None:  # None: no such enrolment, nothing written
            self.append(self.place.event(event_type, self.actor, subject_id))


def _tally(enrolment_id: uuid.UUID, rows: list[tuple], actor: str, tally_and_states) -> list[tuple]:
    """Add to the enrolment's stored tally what changed since ``rows`` were read; the events of the progress moved."""
    place = _place(enrolment_id, rows[0])
    stored = rows[0][PLACE_COLUMNS:STATE_START]
    if stored[0] is None:  # no tally of the enrolment's version: store its whole document
        return _store_whole(place, rows[0][1], actor, was_complete=None)
    before = criterion_states([row[STATE_START:] for row in rows])
    after = criterion_states([row[STATE_START:] for row in tally_and_states()])
    was = dict(zip(COUNT_KEYS, (int(value) for value in stored), strict=True))
    counts = dict(was)
    for key in COUNT_KEYS[1:]:
        counts[key] += sum(bool(s[key]) for s in after.values()) - sum(bool(s[key]) for s in before.values())
    _add_changes(enrolment_id, counts)

    def states_of(criteria: list[str]) -> dict:
        return criterion_states([row[STATE_START:] for row in tally_and_states(criteria)])

    return (progress_events.criteria_moved(place, actor, before, after, states_of)
            + progress_events.completion_moved(place, actor, enrolment_complete(was), enrolment_complete(counts)))


def _place(enrolment_id: uuid.UUID, row: tuple) -> progress_events.Place:
    """The enrolment's Place from a row that starts (centre, unit version, learner, unit)."""
    centre, _, learner, unit = row[:PLACE_COLUMNS]
    return progress_events.Place(enrolment_id, _uuid(centre), _uuid(learner), _uuid(unit))


def _add_changes(enrolment_id: uuid.UUID, counts: dict) -> None:
    """Store ``counts`` (COUNT_KEYS) as the enrolment's tally, with whether they make it complete."""
    execute(ADD_CHANGES_SQL, [*(counts[k] for k in COUNT_KEYS[1:]), enrolment_complete(counts), enrolment_id.hex])


def refresh(enrolment_id: uuid.UUID, actor: str) -> list[tuple]:
    """Inside the caller's write transaction, after it has written what changes the enrolment's progress as a whole
    (a migration to another unit version): store the enrolment's tally as its progress document now counts it. The
    events of its completion (and its qualifications') if that moved, for the caller to append to the feed."""
    [row] = _locked(enrolment_id, lambda: fetch_rows(ENROLMENT_PLACE_SQL, [enrolment_id.hex]))
    was_complete = None if row[PLACE_COLUMNS] is None else bool(row[PLACE_COLUMNS])
    return _store_whole(_place(enrolment_id, row), row[1], actor, was_complete)


def _store_whole(place: progress_events.Place, version, actor: str, was_complete: bool | None) -> list[tuple]:
    """Store the enrolment's whole derived tally (``version``: its unit version as read); the events of its completion
    if that moved from ``was_complete`` (None: not known, taken as not complete)."""
    document = progress_for([place.enrolment_id])
    _store(document, {place.enrolment_id: (place.centre_id, _uuid(version))})
    now_complete = document[place.enrolment_id]["complete"]
    return progress_events.completion_moved(place, actor, bool(was_complete), now_complete)


def add_new(enrolments: list[tuple]) -> None:
    """Inside the caller's write transaction: the first tally of each new enrolment, given as (id, centre id,
    unit version id), each as hex or UUID. A new enrolment has no record of assessment, so its document counts its
    version's criteria and nothing else (not complete); every enrolment has a tally from its creation."""
    if not enrolments:
        return
    versions = sorted({_key(version) for _, _, version in enrolments})
    criteria = {_key(version): count for version, count in fetch_in(CRITERIA_BY_VERSION_SQL, [], versions)}
    insert_values(EnrolmentTally, ["enrolment", "centre", "unit_version", *COUNT_KEYS, "complete"],
                  [(_key(e), _key(c), _key(v), criteria.get(_key(v), 0), *[0] * (len(COUNT_KEYS) - 1), False)
                   for e, c, v in enrolments])


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


def rebuild(database: peewee.Database | None = None, *, assessed_untallied_only: bool = False) -> int:
    """Derive and store the tally of every enrolment (``assessed_untallied_only``: of those with a record of
    assessment and no tally), in batches; the number stored. For migration 018 and ``qualtrack check-progress
    --repair``: ``database`` must be the one the models are bound to."""
    if database is not None and database_proxy.obj is not database:
        raise RuntimeError("rebuild() tallies the database the models are bound to: bind it first")
    ids = [uuid.UUID(row[0]) for row in fetch_rows(
        UNTALLIED_ASSESSED_IDS_SQL if assessed_untallied_only else ENROLMENT_IDS_SQL)]
    for start in range(0, len(ids), REBUILD_BATCH):
        batch = ids[start:start + REBUILD_BATCH]
        with database_proxy.atomic():
            places = {uuid.UUID(str(e)): (uuid.UUID(str(c)), uuid.UUID(str(v)))
                      for e, c, v in fetch_in(PLACES_SQL, [], [i.hex for i in batch])}
            _store(progress_for(batch), places)
    return len(ids)


def drift(enrolment_ids: list[uuid.UUID] | None = None) -> list[dict]:
    """Enrolments (of ``enrolment_ids``, or all) whose stored tally differs from what their records derive now:
    [{enrolment_id, stored (None: no tally), derived}]. Empty when every tally is right; for tests and ``qualtrack
    check-progress``."""
    ids = enrolment_ids if enrolment_ids is not None else [e.id for e in Enrolment.select(Enrolment.id)]
    found = []
    for start in range(0, len(ids), REBUILD_BATCH):
        batch = ids[start:start + REBUILD_BATCH]
        documents = progress_for(batch)
        stored = {_key(row[0]): row[1:] for row in fetch_in(STORED_SQL, [], [i.hex for i in batch])}
        for enrolment_id, document in documents.items():
            derived = (*[document[k] for k in COUNT_KEYS], document["complete"], True)
            row = stored.get(enrolment_id.hex)
            kept = (*row[:-2], bool(row[-2]), bool(row[-1])) if row else None
            if kept != derived:
                found.append({"enrolment_id": str(enrolment_id),
                              "stored": None if kept is None else dict(zip(TALLIED, kept, strict=True)),
                              "derived": dict(zip(TALLIED, derived, strict=True))})
    return found


def _key(raw) -> str:
    return str(raw).replace("-", "")


def _uuid(raw) -> uuid.UUID:
    return uuid.UUID(str(raw))
