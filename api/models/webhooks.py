"""Webhooks: endpoints that the feed's events are pushed to (Standard Webhooks), and the log of every attempt."""

import peewee

from api.models.accounts import Centre
from api.models.base import BaseModel, JSONTextField, utcnow
from api.models.content import AwardingBody

ENDPOINT_STATUSES = ("active", "disabled")
ATTEMPT_OUTCOMES = ("sending", "delivered", "retrying", "given_up", "disabled")


class WebhookEndpoint(BaseModel):
    """A URL that receives the events its owner (a centre, or an awarding body) may see, of the ``types`` chosen (all
    if null), one at a time in feed order. ``position`` is the ``seq`` of the last event delivered (or given up
    after retrying for days); ``attempt`` counts the tries of the next one. A worker holds the endpoint while it
    delivers (``lease_owner`` until ``lease_until``), so one worker at a time sends its events."""

    id = peewee.UUIDField(primary_key=True)
    centre = peewee.ForeignKeyField(Centre, null=True, on_delete="RESTRICT")
    owner = peewee.ForeignKeyField(AwardingBody, null=True, on_delete="RESTRICT")
    url = peewee.CharField(max_length=2000)
    description = peewee.CharField(max_length=500, null=True)
    types = JSONTextField(null=True)
    secret = peewee.CharField(max_length=100)
    previous_secret = peewee.CharField(max_length=100, null=True)
    previous_secret_until = peewee.DateTimeField(null=True)
    status = peewee.CharField(max_length=16, default="active")
    disabled_reason = peewee.CharField(max_length=300, null=True)
    position = peewee.BigIntegerField(default=0)
    attempt = peewee.IntegerField(default=0)
    failing_since = peewee.DateTimeField(null=True)
    next_attempt_at = peewee.DateTimeField(default=utcnow)
    lease_owner = peewee.CharField(max_length=64, null=True)
    lease_until = peewee.DateTimeField(null=True)
    created_by = peewee.CharField(max_length=80)
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "webhook_endpoint"
        indexes = ((("status", "next_attempt_at"), False),)


class WebhookAttempt(BaseModel):
    """One attempt to deliver one event to one endpoint: written before the request is sent (unique per endpoint,
    event and attempt number, so no attempt is ever sent twice), then completed with its answer."""

    id = peewee.UUIDField(primary_key=True)
    endpoint = peewee.ForeignKeyField(WebhookEndpoint, on_delete="CASCADE", index=False)  # the unique key's first
    seq = peewee.BigIntegerField()
    message_id = peewee.CharField(max_length=64)
    attempt = peewee.IntegerField()
    attempted_at = peewee.DateTimeField(default=utcnow)
    outcome = peewee.CharField(max_length=16, default="sending")
    status_code = peewee.IntegerField(null=True)
    error = peewee.CharField(max_length=500, null=True)
    duration_ms = peewee.IntegerField(null=True)

    class Meta:
        table_name = "webhook_attempt"
        indexes = ((("endpoint", "seq", "attempt"), True), (("endpoint", "attempted_at"), False))


WEBHOOK_MODELS = [WebhookEndpoint, WebhookAttempt]
