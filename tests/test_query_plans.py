"""No request an integrator makes often needs to read a whole tracking table: each is run, the statements it sends
are captured, and each statement is planned again with whole-table reads priced out of the planner's choice
(PostgreSQL: enable_seqscan = off). A sequential scan that remains, or an index scan with no condition and no LIMIT
above it, is a read that no index can narrow; at a national size that read is millions of rows. SQLite is checked
the same way from its own plans (``SCAN table`` with no index and no LIMIT). bench/scale.py checks the planner's own
choice at 10% of a national deployment."""

import json
import re
import urllib.parse

import pytest

from api import db
from tests.graphql_helpers import gql
from tests.query_counting import count_work

# Tables that grow with learners, enrolments and assessment: the ones a whole read of would cost millions of rows.
LARGE_TABLES = {"learner", "learner_external_id", "enrolment", "enrolment_staff", "enrolment_tally", "evidence",
                "claim", "decision", "countersignature", "iqa_sample", "iqa_verdict", "audit_event", "feed_event",
                "idempotent_response", "learner_import_problem", "apprenticeship", "apprenticeship_unit",
                "otj_activity", "ksb_evidence", "ksb_claim", "ksb_decision", "ksb_countersignature", "ksb_iqa_sample",
                "ksb_iqa_verdict"}
PLANNED = re.compile(r"^\s*(SELECT|WITH|INSERT|UPDATE|DELETE)\b", re.I)
ENROLMENT_TREE = """query ($id: UUID!) { enrolment(id: $id) { id status progress { met criteria }
  evidence { id title } decisions { id outcome } iqaSamples { id } } }"""


def _requests(ids: dict) -> dict:
    """Each hot request, by name: (method, path, body or GraphQL variables)."""
    centre, learner, enrolment = ids["centre_a"], ids["learner"], ids["enrolment"]
    apprenticeship = ids["apprenticeship"]
    since = urllib.parse.quote("2026-01-01T00:00:00Z")
    return {
        "unit read": ("GET", f"/v1/units/{ids['B13']}", None),
        "unit list": ("GET", "/v1/units?status=published&limit=50", None),
        "learner list": ("GET", f"/v1/learners?centre_id={centre}&limit=50", None),
        "learner list by name": ("GET", f"/v1/learners?centre_id={centre}&sort=name&limit=50", None),
        "learner list of every centre": ("GET", "/v1/learners?limit=50", None),
        "learner delta sync": ("GET", f"/v1/learners?sort=updated_at&updated_since={since}&limit=50", None),
        "enrolment delta sync": ("GET", f"/v1/enrolments?sort=updated_at&updated_since={since}&limit=50", None),
        "enrolments of a learner": ("GET", f"/v1/enrolments?learner_id={learner}", None),
        "enrolment progress": ("GET", f"/v1/enrolments/{enrolment}/progress", None),
        "learner progress": ("GET", f"/v1/learners/{learner}/progress", None),
        "centre progress": ("GET", f"/v1/centres/{centre}/progress", None),
        "qualification progress": ("GET", f"/v1/learners/{learner}/qualifications/{ids['qualification']}/progress",
                                   None),
        "decisions of an enrolment": ("GET", f"/v1/enrolments/{enrolment}/decisions", None),
        "evidence of an enrolment": ("GET", f"/v1/enrolments/{enrolment}/evidence", None),
        "audit page": ("GET", "/v1/audit?limit=50", None),
        "audit of a record": ("GET", f"/v1/audit?subject_id={enrolment}", None),
        "change feed page": ("GET", "/v1/changes?limit=50", None),
        **{f"{kind} list, {name}": ("GET", f"/v1/{kind}?{query}", None) for kind in ("decisions", "evidence")
           for name, query in (("delta sync", f"sort=updated_at&updated_since={since}&limit=50"),
                               ("delta sync of a centre", f"centre_id={centre}&sort=updated_at&updated_since={since}"
                                                          "&limit=50"),
                               ("of an enrolment", f"enrolment_id={enrolment}"),
                               ("of a learner", f"learner_id={learner}"))},
        "GraphQL enrolment tree": ("GRAPHQL", ENROLMENT_TREE, {"id": enrolment}),
        "apprenticeships of a learner": ("GET", f"/v1/learners/{learner}/apprenticeships", None),
        "apprenticeship progress": ("GET", f"/v1/apprenticeships/{apprenticeship}/progress", None),
        "off-the-job ledger": ("GET", f"/v1/apprenticeships/{apprenticeship}/otj", None),
        "off-the-job activities": ("GET", f"/v1/apprenticeships/{apprenticeship}/otj-activities", None),
        "KSB evidence of a KSB": ("GET", f"/v1/apprenticeships/{apprenticeship}/ksb-evidence?ksb_code=K2", None),
        "KSB decisions": ("GET", f"/v1/apprenticeships/{apprenticeship}/ksb-decisions", None),
        "KSB decision write": ("POST", f"/v1/apprenticeships/{apprenticeship}/ksb-decisions", {
            "ksb_code": "K2", "outcome": "met", "feedback": "seen again", "reason": "a further observation",
            "evidence_ids": [ids["ksb_evidence"]]}),
        "decision write": ("POST", f"/v1/enrolments/{enrolment}/decisions", {
            "criterion_id": ids["b13_criterion"], "outcome": "met", "feedback": "seen again",
            "reason": "a further observation", "evidence_ids": [ids["evidence"]]}),
    }


def _statements(client, auth, method: str, path: str, body) -> list[tuple]:
    """The statements one request sends: [(sql, params)]."""
    headers = auth("admin") if method != "POST" else auth("assessor_a")
    with count_work() as counter:
        if method == "GRAPHQL":
            assert "errors" not in gql(client, path, body, headers=headers)
        else:
            response = client.open(path, method=method, json=body, headers=headers)
            assert response.status_code in (200, 201), response.get_data(as_text=True)
    return [query.msg for query in counter.get_queries() if PLANNED.match(query.msg[0])]


# Nodes that read all of their input before giving a row: a LIMIT above one of them does not stop the read below it.
READ_WHOLE_FIRST = {"Sort", "Aggregate", "Hash", "Materialize", "WindowAgg", "SetOp"}


def _postgres_whole_reads(plan: dict, limited: bool = False) -> list[str]:
    """Nodes of a PostgreSQL JSON plan that read a large table whole (a LIMIT stops an unconditioned index scan,
    unless a sort or the like lies between them)."""
    found = []
    table = plan.get("Relation Name")
    if table in LARGE_TABLES:
        if plan["Node Type"] == "Seq Scan":
            found.append(f"Seq Scan on {table}")
        elif plan["Node Type"] in ("Index Scan", "Index Only Scan") and "Index Cond" not in plan and not limited:
            found.append(f"{plan['Node Type']} of all of {table} ({plan.get('Index Name')})")
    for child in plan.get("Plans", []):
        found += _postgres_whole_reads(child, (limited or plan["Node Type"] == "Limit")
                                       and plan["Node Type"] not in READ_WHOLE_FIRST)
    return found


def _sqlite_whole_reads(sql: str, rows: list) -> list[str]:
    """``SCAN <large table>`` steps of a SQLite query plan (which names a table by its alias), unless the statement
    stops at a LIMIT that no sort of every row comes before (a temporary B-tree for the whole ORDER BY; one for its
    right part only sorts the ties of an index's order)."""
    sorts_first = any(row[-1] == "USE TEMP B-TREE FOR ORDER BY" for row in rows)
    if re.search(r"\bLIMIT\b", sql, re.I) and not sorts_first:
        return []
    tables = {alias or table: table for table, alias in re.findall(
        r'\b(?:FROM|JOIN)\s+"?(\w+)"?(?:\s+(?:AS\s+)?"?(?!ON\b|WHERE\b|LEFT\b|JOIN\b|INNER\b)(\w+)"?)?', sql, re.I)}
    found = []
    for row in rows:
        step = re.match(r"SCAN (\w+)", row[-1])
        if step and tables.get(step.group(1), step.group(1)) in LARGE_TABLES:
            found.append(row[-1])
    return found


def _whole_reads(database, sql: str, params) -> list[str]:
    if db.is_sqlite(database):
        return _sqlite_whole_reads(sql, database.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())
    [[plan]] = database.execute_sql("EXPLAIN (FORMAT JSON) " + sql, params).fetchall()
    plan = plan if isinstance(plan, list) else json.loads(plan)
    return _postgres_whole_reads(plan[0]["Plan"])


@pytest.mark.parametrize("name", list(_requests({k: "" for k in (
    "centre_a", "learner", "enrolment", "B13", "qualification", "b13_criterion", "evidence", "apprenticeship",
    "ksb_evidence")})))
def test_no_hot_request_reads_a_tracking_table_whole(name, client, auth, ids, database):
    method, path, body = _requests(ids)[name]
    statements = _statements(client, auth, method, path, body)
    assert statements, "the request ran no statement"
    if not db.is_sqlite(database):
        database.execute_sql("SET LOCAL enable_seqscan = off")
    try:
        whole = {sql: reads for sql, params in statements if (reads := _whole_reads(database, sql, params))}
    finally:
        if not db.is_sqlite(database):
            database.execute_sql("SET LOCAL enable_seqscan = on")
    assert whole == {}
