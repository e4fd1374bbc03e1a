"""Acting for people (issue: integration kit): an account can refuse to let clients act for it, and each refusal
moves its delegation generation on, so no token issued for it before then works again; the audit log names the
client that acted for a person beside the person; and idempotency keys belong to the pair (a person, and the client
acting for them), whose name is longer than one subject's."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields("account", accepts_delegation=pw.BooleanField(default=True),
                        delegation_generation=pw.IntegerField(default=0))
    migrator.add_fields("audit_event", acting_client=pw.CharField(max_length=80, null=True))
    migrator.change_fields("idempotent_response", subject=pw.CharField(max_length=160))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.change_fields("idempotent_response", subject=pw.CharField(max_length=80))
    migrator.remove_fields("audit_event", "acting_client")
    migrator.remove_fields("account", "accepts_delegation", "delegation_generation")
