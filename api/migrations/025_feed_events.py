"""The change feed becomes the feed of every event, content and tracking: ``content_change`` is renamed
``feed_event``; the content columns become nullable (a tracking event has no owner, version number, status or etag)
and each event gets its ``type`` (existing entries: ``unit.<action>`` or ``framework.<action>``) and the centre,
learner, enrolment and subject a tracking event names, with indexes for reading the feed by unit, centre, learner
and time in ``seq`` order."""

import peewee as pw
from peewee_migrate import Migrator

NULLABLE = ("owner", "number", "status", "etag")


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.rename_table("content_change", "feed_event")
    migrator.drop_not_null("feed_event", *NULLABLE)
    for name in ("contentchange_unit_id", "content_change_unit_id"):  # (unit_id, seq) replaces it (named as 004
        migrator.sql(f'DROP INDEX IF EXISTS "{name}"')                   # made it, or as a rebuild may have)
    migrator.add_fields(
        "feed_event",
        type=pw.CharField(max_length=40, default=""),
        centre_id=pw.UUIDField(null=True),
        learner_id=pw.UUIDField(null=True),
        enrolment_id=pw.UUIDField(null=True),
        subject_id=pw.CharField(max_length=64, null=True))
    migrator.sql("UPDATE feed_event SET type = CASE WHEN framework_id IS NOT NULL THEN 'framework.' || action "
                 "ELSE 'unit.' || action END")
    migrator.add_index("feed_event", "occurred_at")
    migrator.add_index("feed_event", "unit", "seq")
    migrator.add_index("feed_event", "centre_id", "seq")
    migrator.add_index("feed_event", "learner_id", "seq")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql('DELETE FROM "feed_event" WHERE "owner_id" IS NULL')  # tracking events: the old feed had none
    for name in ("occurred_at", "unit_id_seq", "centre_id_seq", "learner_id_seq"):
        migrator.sql(f'DROP INDEX IF EXISTS "feed_event_{name}"')
    migrator.remove_fields("feed_event", "type", "centre_id", "learner_id", "enrolment_id", "subject_id")
    migrator.add_not_null("feed_event", *NULLABLE)
    migrator.rename_table("feed_event", "content_change")
    migrator.sql('CREATE INDEX "contentchange_unit_id" ON "content_change" ("unit_id")')
