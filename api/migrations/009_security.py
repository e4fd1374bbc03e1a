"""Fail-closed security: accounts and clients get a token generation (tokens carry it; disabling bumps it, so no token
issued before a disable works again, even after re-enabling); revoked sign-in families (a rotated refresh token used
again revokes every token of its sign-in); and rate-limit counters in the database, shared by every worker and host
(api.ratelimit.DatabaseStorage)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields("account", token_generation=pw.IntegerField(default=0))
    migrator.add_fields("api_client", token_generation=pw.IntegerField(default=0))

    @migrator.create_model
    class RevokedTokenFamily(pw.Model):
        family_id = pw.CharField(max_length=64, primary_key=True)
        subject = pw.CharField(max_length=80)
        expires_at = pw.DateTimeField(index=True)
        revoked_at = pw.DateTimeField()

        class Meta:
            table_name = "revoked_token_family"

    @migrator.create_model
    class RateLimitCounter(pw.Model):
        key = pw.CharField(max_length=255, primary_key=True)
        count = pw.IntegerField()
        expires_at = pw.DoubleField(index=True)

        class Meta:
            table_name = "rate_limit_counter"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("rate_limit_counter")
    migrator.remove_model("revoked_token_family")
    migrator.remove_fields("api_client", "token_generation")
    migrator.remove_fields("account", "token_generation")
