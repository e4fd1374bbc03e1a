"""Webhook endpoints: registered by a centre's admins (the centre's tracking events and published content) or an
awarding body's authors (its content, drafts included, and published content), or their clients with the
``webhooks`` scope; admins manage any. An endpoint is sent the events its owner may see, of the types it chose, from
the moment it is registered, in feed order (api.services.webhooks.delivery). Every write is audited."""

import uuid
from datetime import datetime, timedelta

from api.errors import InvalidParameter, NotFound, ValidationFailed
from api.ids import new_id
from api.models import AwardingBody, WebhookAttempt, WebhookEndpoint
from api.models.base import iso_utc, utcnow
from api.services.common import audit
from api.services.common.access import (
    Principal,
    can_manage_webhooks,
    require,
    require_authenticated,
    visible_centre,
    webhook_owners_condition,
)
from api.services.common.app_settings import settings as app_settings
from api.services.common.pagination import Page, keyset_page
from api.services.sync import feed
from api.services.webhooks import signing, targets

SECRET_GRACE = timedelta(hours=24)  # a rotated secret still signs (beside the new one) for this long
MAX_ENDPOINTS_PER_OWNER = 20


def endpoint_body(endpoint: WebhookEndpoint) -> dict:
    """An endpoint as the API shows it (never its secret: GET .../secret)."""
    return {
        "id": str(endpoint.id), "url": endpoint.url, "description": endpoint.description, "types": endpoint.types,
        "centre_id": str(endpoint.centre_id) if endpoint.centre_id else None,
        "awarding_body": endpoint.owner.slug if endpoint.owner_id else None,
        "status": endpoint.status, "disabled_reason": endpoint.disabled_reason,
        "failing_attempts": endpoint.attempt,
        "failing_since": iso_utc(endpoint.failing_since) if endpoint.failing_since else None,
        "next_attempt_at": iso_utc(endpoint.next_attempt_at) if endpoint.status == "active" else None,
        "previous_secret_expires_at": _grace_end(endpoint),
        "created_at": iso_utc(endpoint.created_at), "updated_at": iso_utc(endpoint.updated_at),
        "href": f"/v1/webhooks/endpoints/{endpoint.id}",
    }


def _grace_end(endpoint: WebhookEndpoint) -> str | None:
    until = endpoint.previous_secret_until
    return iso_utc(until) if endpoint.previous_secret and until and until > utcnow() else None


def attempt_body(attempt: WebhookAttempt) -> dict:
    return {"id": str(attempt.id), "message_id": attempt.message_id, "attempt": attempt.attempt,
            "attempted_at": iso_utc(attempt.attempted_at), "outcome": attempt.outcome,
            "status_code": attempt.status_code, "error": attempt.error, "duration_ms": attempt.duration_ms}


def visible_endpoint(principal: Principal, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    """The endpoint, if the principal manages it; NotFound as if it did not exist otherwise."""
    require_authenticated(principal)
    endpoint = WebhookEndpoint.get_or_none(WebhookEndpoint.id == endpoint_id)
    if endpoint is None or not can_manage_webhooks(principal, centre_id=endpoint.centre_id,
                                                   owner_id=endpoint.owner_id):
        raise NotFound(f"no webhook endpoint {endpoint_id} visible to you")
    return endpoint


def _owner(principal: Principal, data: dict) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """(centre id, awarding body id) the new endpoint belongs to: the one named, or the caller's only one."""
    centre_id, slug = data.get("centre_id"), data.get("awarding_body")
    if centre_id is not None and slug is not None:
        raise ValidationFailed("an endpoint belongs to a centre or to an awarding body, not both",
                               errors={"awarding_body": ["give centre_id or awarding_body, not both"]})
    if centre_id is None and slug is None:
        owners = [("centre", c) for c in principal.centre_ids] + [("body", b) for b in principal.body_ids]
        if len(owners) != 1:
            raise ValidationFailed("say whose endpoint this is: centre_id or awarding_body",
                                   errors={"centre_id": ["required unless you belong to exactly one centre or body"]})
        kind, owner = owners[0]
        return (owner, None) if kind == "centre" else (None, owner)
    if centre_id is not None:
        return visible_centre(principal, centre_id).id, None
    body = AwardingBody.get_or_none(AwardingBody.slug == slug)
    if body is None:
        raise NotFound(f"no awarding body {slug!r}")
    return None, body.id


def _checked_url(url: str) -> str:
    problem = targets.url_problem(url) or targets.address_problem(url, app_settings().webhook_allow_private)
    if problem:
        raise ValidationFailed(f"url {problem}", errors={"url": [problem]})
    return url


def _checked_types(types: list[str] | None) -> list[str] | None:
    if types is None:
        return None
    try:
        feed.event_types(",".join(types))
    except InvalidParameter as error:
        raise ValidationFailed(error.detail, errors={"types": error.errors["type"]}) from None
    return sorted(set(types))


def create_endpoint(principal: Principal, data: dict) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; it is sent the events from now on. The endpoint and its secret (shown again only by
    GET .../secret)."""
    require_authenticated(principal)
    centre_id, owner_id = _owner(principal, data)
    require(can_manage_webhooks(principal, centre_id=centre_id, owner_id=owner_id),
            "webhooks are registered by the centre's admins, the awarding body's authors, or their clients with the "
            "webhooks scope")
    url, types = _checked_url(data["url"]), _checked_types(data.get("types"))
    mine = WebhookEndpoint.select().where(WebhookEndpoint.centre == centre_id if centre_id
                                          else WebhookEndpoint.owner == owner_id)
    if mine.count() >= MAX_ENDPOINTS_PER_OWNER:
        raise ValidationFailed(f"at most {MAX_ENDPOINTS_PER_OWNER} endpoints each: delete one first",
                               errors={"url": ["too many endpoints"]})
    secret = signing.new_secret()
    now = utcnow()
    endpoint = WebhookEndpoint.create(
        id=new_id(), centre=centre_id, owner=owner_id, url=url, description=data.get("description"), types=types,
        secret=secret, position=feed.last_seq(), next_attempt_at=now, created_by=audit.actor_of(principal),
        created_at=now, updated_at=now)
    audit.record(principal, "webhook.created", "webhook_endpoint", endpoint.id, centre_id=centre_id,
                 after={"url": url, "types": types})
    return endpoint, secret


def list_endpoints(principal: Principal) -> list[dict]:
    """The endpoints the principal manages, oldest first."""
    require_authenticated(principal)
    query = WebhookEndpoint.select()
    condition = webhook_owners_condition(principal, WebhookEndpoint.centre, WebhookEndpoint.owner)
    if condition is not None:
        query = query.where(condition)
    return [endpoint_body(e) for e in query.order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)]


def update_endpoint(principal: Principal, endpoint_id: uuid.UUID, changes: dict) -> WebhookEndpoint:
    """Change the URL, types, description or status. Enabling a disabled endpoint sends what it missed, from
    where it stopped."""
    endpoint = visible_endpoint(principal, endpoint_id)
    before = endpoint_body(endpoint)
    if "url" in changes:
        endpoint.url = _checked_url(changes["url"])
    if "types" in changes:
        endpoint.types = _checked_types(changes["types"])
    if "description" in changes:
        endpoint.description = changes["description"]
    if changes.get("status") == "active" and endpoint.status != "active":
        endpoint.status, endpoint.disabled_reason = "active", None
        endpoint.attempt, endpoint.failing_since, endpoint.next_attempt_at = 0, None, utcnow()
    elif changes.get("status") == "disabled" and endpoint.status != "disabled":
        endpoint.status, endpoint.disabled_reason = "disabled", f"disabled by {audit.actor_of(principal)}"
    endpoint.updated_at = utcnow()
    endpoint.save(only=[WebhookEndpoint.url, WebhookEndpoint.types, WebhookEndpoint.description,
                        WebhookEndpoint.status, WebhookEndpoint.disabled_reason, WebhookEndpoint.attempt,
                        WebhookEndpoint.failing_since, WebhookEndpoint.next_attempt_at, WebhookEndpoint.updated_at])
    audit.record(principal, "webhook.updated", "webhook_endpoint", endpoint.id, centre_id=endpoint.centre_id,
                 before=before, after={**endpoint_body(endpoint), "fields": sorted(changes)})
    return endpoint


def delete_endpoint(principal: Principal, endpoint_id: uuid.UUID) -> None:
    """Delete the endpoint and its delivery log: it is sent nothing more."""
    endpoint = visible_endpoint(principal, endpoint_id)
    WebhookAttempt.delete().where(WebhookAttempt.endpoint == endpoint.id).execute()
    endpoint.delete_instance()
    audit.record(principal, "webhook.deleted", "webhook_endpoint", endpoint.id, centre_id=endpoint.centre_id,
                 before=endpoint_body(endpoint))


def get_secret(principal: Principal, endpoint_id: uuid.UUID) -> dict:
    endpoint = visible_endpoint(principal, endpoint_id)
    return {"secret": endpoint.secret, "previous_secret_expires_at": _grace_end(endpoint)}


def rotate_secret(principal: Principal, endpoint_id: uuid.UUID) -> dict:
    """A new secret. For SECRET_GRACE the old one signs too (both signatures on every message), so the receiver
    can switch without losing a message."""
    endpoint = visible_endpoint(principal, endpoint_id)
    endpoint.previous_secret, endpoint.previous_secret_until = endpoint.secret, utcnow() + SECRET_GRACE
    endpoint.secret, endpoint.updated_at = signing.new_secret(), utcnow()
    endpoint.save(only=[WebhookEndpoint.secret, WebhookEndpoint.previous_secret,
                        WebhookEndpoint.previous_secret_until, WebhookEndpoint.updated_at])
    audit.record(principal, "webhook.secret_rotated", "webhook_endpoint", endpoint.id, centre_id=endpoint.centre_id)
    return {"secret": endpoint.secret, "previous_secret_expires_at": _grace_end(endpoint)}


def recover(principal: Principal, endpoint_id: uuid.UUID, since: datetime) -> WebhookEndpoint:
    """Send again every event from ``since`` on (each with its own webhook-id, as first sent), then what follows."""
    endpoint = visible_endpoint(principal, endpoint_id)
    endpoint.position = min(endpoint.position, feed.seq_before(since))
    endpoint.attempt, endpoint.failing_since, endpoint.next_attempt_at = 0, None, utcnow()
    endpoint.updated_at = utcnow()
    endpoint.save(only=[WebhookEndpoint.position, WebhookEndpoint.attempt, WebhookEndpoint.failing_since,
                        WebhookEndpoint.next_attempt_at, WebhookEndpoint.updated_at])
    audit.record(principal, "webhook.recovered", "webhook_endpoint", endpoint.id, centre_id=endpoint.centre_id,
                 after={"since": iso_utc(since)})
    return endpoint


def list_attempts(principal: Principal, endpoint_id: uuid.UUID, cursor: str | None, limit: int) -> Page:
    """The endpoint's delivery log, oldest first: every attempt, with its answer and how long it took."""
    endpoint = visible_endpoint(principal, endpoint_id)
    query = WebhookAttempt.select().where(WebhookAttempt.endpoint == endpoint.id)
    page = keyset_page(query, [WebhookAttempt.attempted_at, WebhookAttempt.id], cursor, limit,
                       key_of=lambda a: [a.attempted_at.isoformat(), str(a.id)])
    page.items = [attempt_body(a) for a in page.items]
    return page

