"""The feed's indexes on the columns only content events fill (owner, unit version, framework, framework version)
leave out the rows where they are NULL, so appending a tracking event (most of the feed) maintains none of them: a
decision write appends two events, and these four indexes were most of what that cost on SQLite."""

import peewee as pw
from peewee_migrate import Migrator

# (column, the index 004/021 made on it): each becomes a partial index of the rows that have a value
CONTENT_COLUMNS = (("owner_id", "contentchange_owner_id"), ("version_id", "contentchange_version_id"),
                   ("framework_id", "content_change_framework_id"),
                   ("framework_version_id", "content_change_framework_version_id"))


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    for column, old in CONTENT_COLUMNS:
        migrator.sql(f'DROP INDEX IF EXISTS "{old}"')
        migrator.sql(f'CREATE INDEX "feed_event_{column}" ON "feed_event" ("{column}") WHERE "{column}" IS NOT NULL')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    for column, old in CONTENT_COLUMNS:
        migrator.sql(f'DROP INDEX IF EXISTS "feed_event_{column}"')
        migrator.sql(f'CREATE INDEX "{old}" ON "feed_event" ("{column}")')
