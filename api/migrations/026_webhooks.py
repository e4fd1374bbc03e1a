"""Webhooks (issue: integration kit): endpoints that receive the feed's events, signed as Standard Webhooks, and the
log of every delivery attempt."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class WebhookEndpoint(pw.Model):
        id = pw.UUIDField(primary_key=True)
        centre = pw.ForeignKeyField(column_name="centre_id", field="id", model=migrator.orm["centre"], null=True,
                                    on_delete="RESTRICT")
        owner = pw.ForeignKeyField(column_name="owner_id", field="id", model=migrator.orm["awarding_body"],
                                   null=True, on_delete="RESTRICT")
        url = pw.CharField(max_length=2000)
        description = pw.CharField(max_length=500, null=True)
        types = pw.TextField(null=True)
        secret = pw.CharField(max_length=100)
        previous_secret = pw.CharField(max_length=100, null=True)
        previous_secret_until = pw.DateTimeField(null=True)
        status = pw.CharField(max_length=16)
        disabled_reason = pw.CharField(max_length=300, null=True)
        position = pw.BigIntegerField()
        attempt = pw.IntegerField()
        failing_since = pw.DateTimeField(null=True)
        next_attempt_at = pw.DateTimeField()
        lease_owner = pw.CharField(max_length=64, null=True)
        lease_until = pw.DateTimeField(null=True)
        created_by = pw.CharField(max_length=80)
        created_at = pw.DateTimeField()
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "webhook_endpoint"
            indexes = [(("status", "next_attempt_at"), False)]

    @migrator.create_model
    class WebhookAttempt(pw.Model):
        id = pw.UUIDField(primary_key=True)
        endpoint = pw.ForeignKeyField(column_name="endpoint_id", field="id", model=migrator.orm["webhook_endpoint"],
                                      on_delete="CASCADE", index=False)
        seq = pw.BigIntegerField()
        message_id = pw.CharField(max_length=64)
        attempt = pw.IntegerField()
        attempted_at = pw.DateTimeField()
        outcome = pw.CharField(max_length=16)
        status_code = pw.IntegerField(null=True)
        error = pw.CharField(max_length=500, null=True)
        duration_ms = pw.IntegerField(null=True)

        class Meta:
            table_name = "webhook_attempt"
            indexes = [(("endpoint", "seq", "attempt"), True), (("endpoint", "attempted_at"), False)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("webhook_attempt")
    migrator.remove_model("webhook_endpoint")
