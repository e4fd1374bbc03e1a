"""A list's total is counted up to 10,000 and no further: at 10,000 matching items REST says so (body and
X-Total-Count) and GraphQL's totalCount agrees; one more and the total is null, X-Total-Count is absent, and the pages
still read every item. So a page of the audit log of a whole nation costs what a page of a short list does."""

import uuid
from datetime import datetime, timedelta

from api.models import AuditEvent
from api.services.common.pagination import TOTAL_COUNTED_UP_TO
from tests.graphql_helpers import gql

AUDIT_EVENTS = """query ($subject: String!, $after: String) {
  auditEvents(subjectType: "bulk", subjectId: $subject, first: 100, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } } }"""


def _events(subject: str, count: int, first: int = 0) -> None:
    """``count`` audit events about ``subject``, written straight to the table (as many requests would have)."""
    start = datetime(2026, 1, 1)
    rows = [{"id": uuid.uuid4(), "occurred_at": start + timedelta(seconds=n), "actor": "system:test",
             "action": "bulk.tested", "subject_type": "bulk", "subject_id": subject}
            for n in range(first, first + count)]
    for offset in range(0, len(rows), 1000):
        AuditEvent.insert_many(rows[offset:offset + 1000]).execute()


def _rest_total(client, auth, subject: str):
    response = client.get(f"/v1/audit?subject_type=bulk&subject_id={subject}&limit=1", headers=auth("admin"))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["total"], response.headers.get("X-Total-Count")


def _graphql_total(client, auth, subject: str):
    return gql(client, AUDIT_EVENTS, {"subject": subject}, headers=auth("admin"))["data"]["auditEvents"]["totalCount"]


def test_a_total_is_counted_up_to_ten_thousand_and_then_left_out(client, auth):
    subject = f"bulk-{uuid.uuid4().hex[:8]}"
    _events(subject, TOTAL_COUNTED_UP_TO)
    assert _rest_total(client, auth, subject) == (10_000, "10000")
    assert _graphql_total(client, auth, subject) == 10_000
    _events(subject, 1, first=TOTAL_COUNTED_UP_TO)
    assert _rest_total(client, auth, subject) == (None, None)
    assert _graphql_total(client, auth, subject) is None
    seen, cursor = 0, None
    for _ in range(200):  # 10,001 events at 100 a page: 101 pages
        page = client.get(f"/v1/audit?subject_type=bulk&subject_id={subject}&limit=100"
                          + (f"&cursor={cursor}" if cursor else ""), headers=auth("admin")).get_json()
        seen += len(page["items"])
        assert page["total"] is None
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == TOTAL_COUNTED_UP_TO + 1
