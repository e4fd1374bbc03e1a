"""Tenancy and identity: centres, accounts (people, with roles), API clients (machines, with scopes), the
database-backed token revocation list (single tokens and whole sign-in families), and the shared rate-limit
counters."""

import peewee

from api.models.base import BaseModel, JSONTextField, utcnow
from api.models.content import AwardingBody

ROLES = ("admin", "author", "centre_admin", "assessor", "iqa", "learner")
ASSESSOR_STATUSES = ("qualified", "trainee")
SCOPES = ("content:read", "content:write", "tracking:read", "tracking:write", "import", "webhooks", "act_for_accounts")


class Centre(BaseModel):
    """A tenant: a college, training provider or employer. Learner records never cross centres."""

    id = peewee.UUIDField(primary_key=True)
    code = peewee.CharField(max_length=64, unique=True)
    name = peewee.CharField(max_length=200)
    created_at = peewee.DateTimeField(default=utcnow)


class Account(BaseModel):
    """A person who signs in with email and password. ``roles`` is a list drawn from ROLES."""

    id = peewee.UUIDField(primary_key=True)
    email = peewee.CharField(max_length=254, unique=True)
    display_name = peewee.CharField(max_length=200)
    password_hash = peewee.CharField(max_length=200)
    roles = JSONTextField(default=list)
    awarding_body = peewee.ForeignKeyField(AwardingBody, null=True, on_delete="RESTRICT")
    assessor_status = peewee.CharField(max_length=16, null=True, choices=[(s, s) for s in ASSESSOR_STATUSES])
    learner_id = peewee.UUIDField(null=True)
    is_active = peewee.BooleanField(default=True)
    token_generation = peewee.IntegerField(default=0)  # tokens carry it; a disable bumps it: no older token works
    accepts_delegation = peewee.BooleanField(default=True)  # may a centre's client act for this person
    delegation_generation = peewee.IntegerField(default=0)  # tokens acting for the person carry it; a refusal bumps it
    created_at = peewee.DateTimeField(default=utcnow)


class AccountCentre(BaseModel):
    """Membership of an account in a centre (centre admins, assessors, IQAs, learners)."""

    account = peewee.ForeignKeyField(Account, backref="centre_links", on_delete="CASCADE")
    centre = peewee.ForeignKeyField(Centre, backref="account_links", on_delete="CASCADE")

    class Meta:
        primary_key = peewee.CompositeKey("account", "centre")


class ApiClient(BaseModel):
    """A machine credential (client id + hashed secret) bound to a centre or an awarding body, with scopes."""

    id = peewee.UUIDField(primary_key=True)
    client_id = peewee.CharField(max_length=64, unique=True)
    secret_hash = peewee.CharField(max_length=200)
    name = peewee.CharField(max_length=200)
    centre = peewee.ForeignKeyField(Centre, null=True, on_delete="RESTRICT")
    awarding_body = peewee.ForeignKeyField(AwardingBody, null=True, on_delete="RESTRICT")
    scopes = JSONTextField(default=list)
    is_active = peewee.BooleanField(default=True)
    token_generation = peewee.IntegerField(default=0)  # as Account.token_generation
    created_at = peewee.DateTimeField(default=utcnow)


class RevokedToken(BaseModel):
    """A revoked JWT, by its jti; checked on every authenticated request. Rows may be purged after ``expires_at``."""

    jti = peewee.CharField(max_length=64, primary_key=True)
    token_type = peewee.CharField(max_length=16)
    subject = peewee.CharField(max_length=80)
    expires_at = peewee.DateTimeField(index=True)
    revoked_at = peewee.DateTimeField(default=utcnow)


class RevokedTokenFamily(BaseModel):
    """Every token descended from one sign-in (a password grant and the refresh tokens rotated from it), revoked
    together when a rotated refresh token is used again. Rows may be purged after ``expires_at``."""

    family_id = peewee.CharField(max_length=64, primary_key=True)
    subject = peewee.CharField(max_length=80)
    expires_at = peewee.DateTimeField(index=True)
    revoked_at = peewee.DateTimeField(default=utcnow)


class RateLimitCounter(BaseModel):
    """One fixed-window rate-limit counter (api.ratelimit.DatabaseStorage), shared by every worker and host."""

    key = peewee.CharField(max_length=255, primary_key=True)
    count = peewee.IntegerField()
    expires_at = peewee.DoubleField(index=True)  # seconds since the epoch


ACCOUNT_MODELS = [Centre, Account, AccountCentre, ApiClient, RevokedToken, RevokedTokenFamily, RateLimitCounter]
