"""Shared by every domain: who may see and do what (access), the audit log, keyset pagination, Idempotency-Key,
If-Match preconditions, and the request context the audit log reads."""
