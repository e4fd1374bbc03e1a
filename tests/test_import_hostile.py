"""Hostile import rows are reported, never a server error: NDJSON keys longer than a field name may be, and NUL or
other control characters in keys and values (which PostgreSQL text cannot hold), in every mode and in dry runs."""

import io
import json

import pytest

from api.models import Learner, LearnerImport, LearnerImportProblem
from api.services.common.access import Principal
from api.services.imports import learner_import
from tests.tracking_helpers import valid_uln


@pytest.fixture
def admin_a(identities) -> Principal:
    account = identities.accounts["centre_admin_a"]
    return Principal(kind="account", id=account.id, roles=frozenset({"centre_admin"}),
                     centre_ids=frozenset({identities.centres["A"].id}))


def hostile_rows() -> str:
    base = {"given_name": "H", "family_name": "Ostile"}
    rows = [
        {"uln": valid_uln(9100), **base, "k" * 300: "long key"},
        {"uln": valid_uln(9101), **base, "nul\u0000key": "x"},
        {"uln": valid_uln(9102), **base, "unit_code": "B13", "start_date": "2026-09-01",
         "assessor_email": "as\u0000sessor@example.test"},
        {"uln": valid_uln(9103), **base, "external_system": "mis\u0000", "external_id": "E\u00001"},
        {"uln": valid_uln(9104), **base, "external_system": "mis\u0000", "external_id": "E\u00001"},
        {"uln": valid_uln(9105), **base, "unit_code": "B\u000013", "version": "1\u0000", "start_date": "2026-09-01"},
        {"uln": valid_uln(9106), "given_name": "Fine", "family_name": "Row"},
    ]
    return "".join(json.dumps(row) + "\n" for row in rows)


@pytest.mark.parametrize("mode", ["all_or_nothing", "valid_rows"])
def test_hostile_keys_and_values_are_reported_row_by_row(admin_a, identities, mode):
    data = io.BytesIO(hostile_rows().encode())
    job = learner_import.run_import(admin_a, identities.centres["A"].id, data, "ndjson", mode=mode)
    assert (job.received, job.rejected) == (7, 6)
    assert job.status == ("rejected" if mode == "all_or_nothing" else "complete")
    stored = list(LearnerImportProblem.select().where(LearnerImportProblem.job == job.id)
                  .order_by(LearnerImportProblem.row, LearnerImportProblem.id))
    assert {problem.row for problem in stored} == {1, 2, 3, 4, 5, 6}
    assert all(len(problem.field) <= 64 and "\x00" not in problem.field + problem.message for problem in stored)
    assert stored[0].field.startswith("kkk") and "unknown field" in stored[0].message
    assert Learner.select().where(Learner.uln == valid_uln(9106)).count() == (mode == "valid_rows")
    dry = learner_import.run_import(admin_a, identities.centres["A"].id, io.BytesIO(hostile_rows().encode()),
                                    "ndjson", mode=mode, dry_run=True)
    assert [(p["row"], p["field"], p["message"]) for p in learner_import.problems_of(dry, limit=100)] == [
        (p.row, p.field, p.message) for p in stored]
    assert LearnerImport.select().count() == 1
