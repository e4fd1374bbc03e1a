"""Every enrolment has a tally, from its creation (tallies.add_new), so a centre's roll-up reads the centre's tallies
and nothing else: its totals one range of them, its breakdown by assessor its staff joined to them. (Counting the
enrolments without one by version made PostgreSQL run a subquery per enrolment: 685 ms for a centre of 20,000.)
Here the enrolments that have none get it: derived from their records where they have any (a database upgraded from
before migration 013), and otherwise their version's criteria and nothing else, in one statement. This runs the
tally code of the release that brings it: a later migration that reshapes enrolment_tally must keep that working."""

import peewee as pw
from peewee_migrate import Migrator

COUNTS = ("claimed", "met", "verified", "reopened", "iqa_outstanding", "awaiting_countersignature")
UNTALLIED = """
INSERT INTO enrolment_tally (enrolment_id, centre_id, unit_version_id, criteria, {counts}, complete)
SELECT e.id, e.centre_id, e.unit_version_id,
       (SELECT COUNT(*) FROM assessment_criterion c WHERE c.version_id = e.unit_version_id), {zeros}, {false}
FROM enrolment e WHERE NOT EXISTS (SELECT 1 FROM enrolment_tally t WHERE t.enrolment_id = e.id)"""


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    if fake:
        return
    migrator.run(_derive_assessed)
    false = "0" if isinstance(database, pw.SqliteDatabase) else "FALSE"
    migrator.sql(UNTALLIED.format(counts=", ".join(COUNTS), zeros=", ".join("0" for _ in COUNTS), false=false))


def _derive_assessed():
    from api.services.tracking import tallies
    tallies.rebuild(assessed_untallied_only=True)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    pass  # the rows are what the records derive: an earlier release reads them too
