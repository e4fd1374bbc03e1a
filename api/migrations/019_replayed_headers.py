"""A replayed response (Idempotency-Key) is the first response in full: besides its status, body and Location, the
stored response keeps its ETag (a learner's or an enrolment's version, which the next PATCH needs as If-Match) and
its media type (a GraphQL answer may be application/graphql-response+json). Responses stored before this have
neither and replay as application/json without an ETag, as they did."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql('ALTER TABLE "idempotent_response" ADD COLUMN "etag" VARCHAR(200)')
    migrator.sql('ALTER TABLE "idempotent_response" ADD COLUMN "media_type" VARCHAR(100)')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql('ALTER TABLE "idempotent_response" DROP COLUMN "media_type"')
    migrator.sql('ALTER TABLE "idempotent_response" DROP COLUMN "etag"')
