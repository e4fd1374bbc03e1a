"""The audit log: every write appends one event (who, what, when, which record, before/after, request id)."""

import uuid
from datetime import datetime

from api import db
from api.ids import new_id
from api.models import AuditEvent
from api.models.base import iso_utc, utcnow
from api.services.common import request_context
from api.services.common.access import Principal, can_read_audit_log, centre_ids_visible, require, require_authenticated
from api.services.common.pagination import Page, keyset_page


def actor_of(principal: Principal) -> str:
    """How the audit log names a caller: ``account:<id>`` or ``client:<id>`` (for a client acting for a person, the
    person: see acting_client_of)."""
    return f"{principal.kind}:{principal.id}"


def acting_client_of(principal: Principal) -> str | None:
    """The client acting for the calling person, as the audit log names it (``client:<id>``), or None."""
    return f"client:{principal.acting_client}" if principal.acting_client else None


def event_row(principal: Principal, action: str, subject_type: str, subject_id, *, centre_id=None, before=None,
              after=None) -> dict:
    """One audit event as a row, for writers that insert many at once (AuditEvent.insert_many)."""
    return {"id": new_id(), "occurred_at": utcnow(), "actor": actor_of(principal),
            "acting_client": acting_client_of(principal), "action": action,
            "subject_type": subject_type, "subject_id": str(subject_id), "centre": centre_id,
            "request_id": request_context.request_id.get(), "before": before, "after": after}


def record(principal: Principal, action: str, subject_type: str, subject_id, *, centre_id=None, before=None,
           after=None) -> None:
    """Append one audit event inside the caller's transaction (so it exists exactly when the write does)."""
    db.insert_rows(AuditEvent, [event_row(principal, action, subject_type, subject_id, centre_id=centre_id,
                                          before=before, after=after)])


def event_body(event: AuditEvent) -> dict:
    return {"id": str(event.id), "occurred_at": iso_utc(event.occurred_at), "actor": event.actor,
            "acting_client": event.acting_client,
            "action": event.action, "subject_type": event.subject_type, "subject_id": event.subject_id,
            "centre_id": str(event.centre_id) if event.centre_id else None, "request_id": event.request_id,
            "before": event.before, "after": event.after}


def list_events(principal: Principal, *, centre_id: uuid.UUID | None, subject_type: str | None,
                subject_id: str | None, since: datetime | None, until: datetime | None, cursor: str | None,
                limit: int) -> Page:
    """Audit events for admins (all) or a centre admin (their centres' events), oldest first; filtered by a centre
    that is not theirs, none."""
    require_authenticated(principal)
    require(can_read_audit_log(principal), "the audit log is for admins and centre admins")
    query = AuditEvent.select()
    visible = centre_ids_visible(principal)
    if visible is not None:  # another centre's id filters to nothing, as every list's filters do
        query = query.where(AuditEvent.centre.in_(list(visible)))
    if centre_id is not None:
        query = query.where(AuditEvent.centre == centre_id)
    if subject_type:
        query = query.where(AuditEvent.subject_type == subject_type)
    if subject_id:
        query = query.where(AuditEvent.subject_id == subject_id)
    if since:
        query = query.where(AuditEvent.occurred_at >= since)
    if until:
        query = query.where(AuditEvent.occurred_at < until)
    page = keyset_page(query, [AuditEvent.occurred_at, AuditEvent.id], cursor, limit,
                       key_of=lambda e: [e.occurred_at.isoformat(), str(e.id)])
    page.items = [event_body(e) for e in page.items]
    return page
