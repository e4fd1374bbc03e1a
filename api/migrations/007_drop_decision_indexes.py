"""Drop three decision indexes that every decision write paid for (each is one more page to write per commit) and no
query uses: decision(enrolment_id) is the leading column of the unique (enrolment_id, criterion_id, sequence);
decision(supersedes_id) and decision(carried_from_id) point at other decisions, which are never deleted (decisions
are append-only), so no foreign-key check ever looks them up."""

import peewee as pw
from peewee_migrate import Migrator

REDUNDANT = {"decision_enrolment_id": "enrolment_id", "decision_supersedes_id": "supersedes_id",
             "decision_carried_from_id": "carried_from_id"}


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    for name in REDUNDANT:
        migrator.sql(f'DROP INDEX IF EXISTS "{name}"')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    for name, column in REDUNDANT.items():
        migrator.sql(f'CREATE INDEX IF NOT EXISTS "{name}" ON "decision" ("{column}")')
