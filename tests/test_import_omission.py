"""Learner imports erase nothing by omission (a column the file lacks, or an empty cell, leaves the stored value;
only clear_empty clears), their dry runs count exactly what the real run then does (learners and enrolments), and
NDJSON values have their column's JSON type, with CSV and NDJSON storing the same learners."""

import io
import json

import pytest

from api.models import AuditEvent, Enrolment, Learner
from api.services.common.access import Principal
from api.services.imports import learner_import
from tests.tracking_helpers import valid_uln

FULL = "uln,given_name,family_name,email,date_of_birth,unit_code,start_date"


@pytest.fixture
def admin_a(identities) -> Principal:
    account = identities.accounts["centre_admin_a"]
    return Principal(kind="account", id=account.id, roles=frozenset({"centre_admin"}),
                     centre_ids=frozenset({identities.centres["A"].id}))


def run(principal, identities, text: str, file_format="csv", **options):
    return learner_import.run_import(principal, identities.centres["A"].id, io.BytesIO(text.encode()), file_format,
                                     **options)


def tally(job) -> dict:
    """What a job says it did, in the API's words (dry run or not)."""
    body = learner_import.job_body(job)
    return {"status": body["status"], **body["counts"], "enrolments": body["enrolments"]}


def stored(uln: str) -> tuple:
    learner = Learner.get(Learner.uln == uln)
    born = learner.date_of_birth
    return learner.given_name, learner.email, None if born is None else str(born)


def ulns(count: int, start: int) -> list[str]:
    return [valid_uln(start + n) for n in range(count)]


def full_file(people: list[str]) -> str:
    return "\n".join([FULL, *(f"{uln},Ada{n},Byron,ada{n}@example.test,2001-02-0{1 + n},B13,2026-09-01"
                              for n, uln in enumerate(people))]) + "\n"


def dry_then_real(principal, identities, text: str, file_format="csv", **options):
    """Run a file dry, then for real: the dry run must have counted exactly what the real run did."""
    dry = tally(run(principal, identities, text, file_format, dry_run=True, **options))
    real = tally(run(principal, identities, text, file_format, **options))
    assert dry.pop("status") == "complete"  # the dry run ran; its counts say what the real run then did
    assert dry == {name: value for name, value in real.items() if name != "status"}, (dry, real)
    return real


@pytest.mark.parametrize(("text", "file_format"), [
    ("uln,given_name,family_name\n{0},Ada0,Byron\n{1},Ada1,Byron\n", "csv"),  # the columns are absent
    ("uln,given_name,family_name,email,date_of_birth\n{0},Ada0,Byron,,\n{1},Ada1,Byron, , \n", "csv"),  # empty
    ('{{"uln": "{0}", "given_name": "Ada0", "family_name": "Byron"}}\n'  # keys absent, null, empty
     '{{"uln": "{1}", "given_name": "Ada1", "family_name": "Byron", "email": null, "date_of_birth": ""}}\n', "ndjson"),
])
def test_a_column_left_out_or_left_empty_changes_nothing(admin_a, identities, text, file_format):
    people = ulns(2, 3100)
    dry_then_real(admin_a, identities, full_file(people))
    before = [stored(uln) for uln in people]
    audited = AuditEvent.select().count()
    again = dry_then_real(admin_a, identities, text.format(*people), file_format)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert [stored(uln) for uln in people] == before == [("Ada0", "ada0@example.test", "2001-02-01"),
                                                         ("Ada1", "ada1@example.test", "2001-02-02")]
    assert AuditEvent.select().count() == audited  # nothing written


def test_clear_empty_clears_only_the_empty_cells_of_present_columns(admin_a, identities):
    people = ulns(3, 3200)
    dry_then_real(admin_a, identities, full_file(people))
    text = "\n".join(["uln,given_name,family_name,email", f"{people[0]},Ada0,Byron,",  # email cleared
                      f"{people[1]},Ada1,Byron,new@example.test", f"{people[2]},Ada2,Byron,ada2@example.test"]) + "\n"
    done = dry_then_real(admin_a, identities, text, clear_empty=True)
    assert (done["updated"], done["unchanged"]) == (2, 1)
    assert [stored(uln) for uln in people] == [("Ada0", None, "2001-02-01"),  # date_of_birth: column absent, kept
                                               ("Ada1", "new@example.test", "2001-02-02"),
                                               ("Ada2", "ada2@example.test", "2001-02-03")]
    changes = [event.after for event in AuditEvent.select().where(AuditEvent.action == "learner.updated")
               .order_by(AuditEvent.occurred_at, AuditEvent.id)]
    assert [after["fields"] for after in changes] == [
        ["email"], ["email"]]  # only the field that changed
    ndjson = f'{{"uln": "{people[1]}", "given_name": "Ada1", "family_name": "Byron", "date_of_birth": null}}\n'
    dry_then_real(admin_a, identities, ndjson, "ndjson", clear_empty=True)
    assert stored(people[1]) == ("Ada1", "new@example.test", None)


def test_dry_runs_count_learners_and_enrolments_as_the_real_run_does(admin_a, identities):
    people = ulns(4, 3300)
    first = dry_then_real(admin_a, identities, full_file(people[:3]))
    assert first == {"status": "complete", "received": 3, "created": 3, "updated": 0, "unchanged": 0, "rejected": 0,
                     "enrolments": {"created": 3, "unchanged": 0}}
    assert Enrolment.select().join(Learner).where(Learner.uln.in_(people)).count() == 3
    mixed = full_file(people).replace("Ada1,", "Augusta,")  # one changed, one new, two as they were
    second = dry_then_real(admin_a, identities, mixed)
    assert (second["created"], second["updated"], second["unchanged"]) == (1, 1, 2)
    assert second["enrolments"] == {"created": 1, "unchanged": 3}
    another_unit = "\n".join([FULL, f"{people[3]},Ada3,Byron,ada3@example.test,2001-02-04,CS 34,2026-09-01",
                                    "1234567890,Bad,Check,,,,"]) + "\n"
    partial = dry_then_real(admin_a, identities, another_unit, mode="valid_rows")
    assert (partial["status"], partial["unchanged"], partial["rejected"], partial["enrolments"]) == (
        "complete", 1, 1, {"created": 1, "unchanged": 0})
    refused = dry_then_real(admin_a, identities, another_unit)  # all_or_nothing: nothing would be written
    assert refused == {"status": "rejected", "received": 2, "created": 0, "updated": 0, "unchanged": 0,
                       "rejected": 1, "enrolments": {"created": 0, "unchanged": 0}}


@pytest.mark.parametrize(("field", "value", "message"), [
    ("given_name", ["x"], "must be a string, not an array"),
    ("family_name", {"a": 1}, "must be a string, not an object"),
    ("email", 7, "must be a string, not the number 7"),
    ("uln", 1234567890, "must be a string, not the number 1234567890"),
    ("date_of_birth", True, "must be a string, not the boolean true"),
    ("version", 1.5, "must be a whole number or a string, not the number 1.5"),
    ("version", False, "must be a whole number or a string, not the boolean false"),
])
def test_an_ndjson_value_of_the_wrong_type_is_a_problem_naming_its_field(admin_a, identities, field, value, message):
    row = {"uln": valid_uln(3400), "given_name": "Nat", "family_name": "Json", "unit_code": "B13",
           "start_date": "2026-09-01", field: value}
    job = run(admin_a, identities, json.dumps(row) + "\n", "ndjson", mode="valid_rows")
    assert (job.received, job.created, job.rejected) == (1, 0, 1)
    assert [(p["row"], p["field"], p["message"]) for p in learner_import.problems_of(job)] == [(1, field, message)]
    assert Learner.select().where(Learner.given_name.contains("[") | Learner.family_name.contains("{")).count() == 0


def test_csv_and_ndjson_store_the_same_learners(admin_a, identities):
    csv_people, json_people = ulns(2, 3500), ulns(2, 3600)
    csv_text = "uln,given_name,family_name,email,date_of_birth,unit_code,version,start_date\n" + "".join(
        f"{uln}, Ann{n} ,Lee,a{n}@example.test,2000-01-0{n + 1},B13,1,2026-09-01\n"
        for n, uln in enumerate(csv_people))
    json_text = "".join(json.dumps({"uln": uln, "given_name": f" Ann{n} ", "family_name": "Lee",
                                    "email": f"a{n}@example.test", "date_of_birth": f"2000-01-0{n + 1}",
                                    "unit_code": "B13", "version": 1 if n else "1", "start_date": "2026-09-01"}) + "\n"
                        for n, uln in enumerate(json_people))
    assert tally(run(admin_a, identities, csv_text)) == tally(run(admin_a, identities, json_text, "ndjson"))

    def learners(people):
        return [(*stored(uln), [(e.unit_version_id, str(e.start_date)) for e in Enrolment.select().join(Learner)
                                .where(Learner.uln == uln)]) for uln in people]

    assert learners(csv_people) == learners(json_people)


def test_the_cli_dry_run_exits_as_the_real_run_would(fresh_url, tmp_path):
    """0 when every row would go in, 1 when nothing would (all_or_nothing with a bad row), 3 when some rows would
    be refused and the others imported (valid_rows); a dry run writes nothing, and prints the counts it found."""
    from tests.test_cli import qualtrack

    env = {"QUALTRACK_ENV": "test"}
    for args in (["init-db"], ["load-units"], ["create-centre", "--code", "X1", "--name", "Exit codes"]):
        qualtrack(*args, database_url=fresh_url, env=env)
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(full_file(ulns(2, 3700)), encoding="utf-8")
    bad.write_text(full_file(ulns(2, 3700)) + "1234567890,Bad,Check,,,,\n", encoding="utf-8")

    def exit_status(path, *options):
        result = qualtrack("import-learners", str(path), "--centre", "X1", *options, database_url=fresh_url, env=env,
                           check=False)
        assert "Traceback" not in result.stderr, result.stderr
        return result.returncode, result.stdout

    status, shown = exit_status(good, "--dry-run")
    assert status == 0 and "dry run" in shown and "│        2 │       2 │" in shown  # received 2, created 2
    assert [exit_status(bad, "--dry-run")[0], exit_status(bad, "--dry-run", "--mode", "valid_rows")[0]] == [1, 3]
    assert exit_status(good, "--dry-run", "--mode", "valid_rows")[0] == 0
    assert exit_status(bad, "--mode", "valid_rows")[0] == 3  # the real run: two imported, one refused
    status, shown = exit_status(good, "--dry-run")
    assert status == 0 and "│        2 │       0 │       0 │         2 │" in shown  # now unchanged


def test_the_rest_import_leaves_what_the_file_does_not_give(client, auth, identities):
    people = ulns(2, 3800)
    url = f"/v1/imports/learners?centre_id={identities.centres['A'].id}"
    headers = auth("centre_admin_a")
    made = client.post(url, data=full_file(people), content_type="text/csv", headers=headers)
    assert made.status_code == 201 and made.get_json()["enrolments"] == {"created": 2, "unchanged": 0}
    names_only = "uln,given_name,family_name\n" + "".join(f"{uln},Ada{n},Byron\n" for n, uln in enumerate(people))
    dry = client.post(f"{url}&dry_run=true", data=names_only, content_type="text/csv", headers=headers).get_json()
    again = client.post(url, data=names_only, content_type="text/csv", headers=headers)
    assert again.status_code == 201
    assert dry["counts"] == again.get_json()["counts"] == {"received": 2, "created": 0, "updated": 0, "unchanged": 2,
                                                           "rejected": 0}
    learner = client.get(f"/v1/learners/{Learner.get(Learner.uln == people[0]).id}", headers=headers).get_json()
    assert (learner["email"], learner["date_of_birth"]) == ("ada0@example.test", "2001-02-01")


def test_the_readme_names_every_column_an_import_takes_and_which_are_required():
    """The README's list of columns is the reader's, so an integrator reading it at 2 a.m. gets the file right."""
    import re

    from api.config import PROJECT_ROOT
    from api.services.imports.reading import COLUMNS, REQUIRED

    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    paragraph = readme[readme.index("Columns (CSV header"):]
    paragraph = paragraph[:paragraph.index("\n\n")]
    required, optional = paragraph.split("(required)", 1)
    assert re.findall(r"`(\w+)`", required) == list(REQUIRED)
    assert re.findall(r"`(\w+)`", optional.split(". ", 1)[0]) == [c for c in COLUMNS if c not in REQUIRED]
