"""Per-request facts the services record without knowing about HTTP: the request id for the audit log."""

from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
