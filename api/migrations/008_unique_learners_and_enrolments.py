"""The database enforces identity: one learner per (centre, ULN) (the temporary ULN 9999999999 excepted), and one
active enrolment per (learner, unit).

Duplicates made before these constraints (concurrent creates or imports on PostgreSQL) are resolved first:
- learners sharing a centre and ULN are merged into the earliest created: its enrolments, external ids and linked
  account move to it, and the later rows are removed; each merge is an audit event ``learner.merged`` on the kept
  learner naming the merged id;
- of several active enrolments of one learner on one unit, the earliest created stays active and the others are
  withdrawn (their evidence and decisions are kept with them); each is an audit event
  ``enrolment.withdrawn_as_duplicate`` naming the enrolment kept.
Every merge and withdrawal is also logged (logger ``migrations``), so whoever runs ``qualtrack init-db`` sees them.
"""

import json
import logging
import uuid
from datetime import UTC, datetime

import peewee as pw
from peewee_migrate import Migrator

TEMPORARY_ULN = "9999999999"
ACTOR = "system:migration-008"
log = logging.getLogger("migrations")


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    if not fake:
        _merge_duplicate_learners(database)
        _withdraw_duplicate_enrolments(database)
    migrator.sql(f"CREATE UNIQUE INDEX learner_centre_uln_unique ON learner (centre_id, uln) "
                 f"WHERE uln <> '{TEMPORARY_ULN}'")
    migrator.sql("CREATE UNIQUE INDEX enrolment_one_active_per_unit ON enrolment (learner_id, unit_id) "
                 "WHERE status = 'active'")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql("DROP INDEX IF EXISTS enrolment_one_active_per_unit")
    migrator.sql("DROP INDEX IF EXISTS learner_centre_uln_unique")


def _groups(rows: list[tuple]) -> list[list[tuple]]:
    """Rows (key, id, ...) ordered by key then age, grouped by key: the first of each group is the one kept."""
    groups: dict = {}
    for row in rows:
        groups.setdefault(row[0], []).append(row)
    return [group for group in groups.values() if len(group) > 1]


def _sql(database: pw.Database, sql: str, params=()):
    return database.execute_sql(sql.replace("?", database.param), params)


def _audit(database: pw.Database, action: str, subject_type: str, subject_id, centre_id, before, after) -> None:
    _sql(database, "INSERT INTO audit_event (id, occurred_at, actor, action, subject_type, subject_id, centre_id, "
                   'request_id, "before", "after") VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)',
         (uuid.uuid4().hex, datetime.now(UTC).replace(tzinfo=None), ACTOR, action, subject_type,
          str(uuid.UUID(str(subject_id))), centre_id, json.dumps(before, sort_keys=True),
          json.dumps(after, sort_keys=True)))


def _merge_duplicate_learners(database: pw.Database) -> None:
    rows = _sql(database, "SELECT l.centre_id || ':' || l.uln, l.id, l.centre_id FROM learner l "
                          "WHERE l.uln <> ? AND EXISTS (SELECT 1 FROM learner o WHERE o.centre_id = l.centre_id "
                          "AND o.uln = l.uln AND o.id <> l.id) ORDER BY 1, l.created_at, l.id",
                (TEMPORARY_ULN,)).fetchall()
    for kept, *merged in _groups(rows):
        keep_id, centre_id = kept[1], kept[2]
        for _, merge_id, _ in merged:
            for table in ("enrolment", "learner_external_id", "account"):
                _sql(database, f"UPDATE {table} SET learner_id = ? WHERE learner_id = ?", (keep_id, merge_id))
            _sql(database, "DELETE FROM learner WHERE id = ?", (merge_id,))
            _audit(database, "learner.merged", "learner", keep_id, centre_id,
                   {"merged_learner_id": str(uuid.UUID(str(merge_id)))}, {"id": str(uuid.UUID(str(keep_id)))})
            log.warning("migration 008: learner %s merged into learner %s (same centre and ULN)",
                        uuid.UUID(str(merge_id)), uuid.UUID(str(keep_id)))


def _withdraw_duplicate_enrolments(database: pw.Database) -> None:
    rows = _sql(database, "SELECT e.learner_id || ':' || e.unit_id, e.id, e.centre_id, e.row_version FROM enrolment e "
                          "WHERE e.status = 'active' AND EXISTS (SELECT 1 FROM enrolment o WHERE "
                          "o.learner_id = e.learner_id AND o.unit_id = e.unit_id AND o.status = 'active' "
                          "AND o.id <> e.id) ORDER BY 1, e.created_at, e.id").fetchall()
    for kept, *withdrawn in _groups(rows):
        for _, enrolment_id, centre_id, row_version in withdrawn:
            _sql(database, "UPDATE enrolment SET status = 'withdrawn', row_version = ?, updated_at = ? WHERE id = ?",
                 (row_version + 1, datetime.now(UTC).replace(tzinfo=None), enrolment_id))
            _audit(database, "enrolment.withdrawn_as_duplicate", "enrolment", enrolment_id, centre_id,
                   {"status": "active"},
                   {"status": "withdrawn", "kept_enrolment_id": str(uuid.UUID(str(kept[1])))})
            log.warning("migration 008: enrolment %s withdrawn, a duplicate of active enrolment %s",
                        uuid.UUID(str(enrolment_id)), uuid.UUID(str(kept[1])))
