"""A large import file checked in several processes (api.services.import_chunks) is reported exactly as one process
reports it: same rows counted, same problems on the same row numbers, whatever the cuts fall on (quoted line ends,
CRLF, blank lines, a BOM, repeats across chunks), and a CSV whose quotes the cuts cannot follow is read again in
one process rather than misread."""

import io

import pytest

from api.errors import ValidationFailed
from api.models import Learner
from api.services.imports import chunks as import_chunks
from api.services.imports import learner_import
from api.services.imports.checked_rows import CheckedRows
from api.services.imports.checking import References
from tests.test_learner_import import admin_a, counts  # noqa: F401 - admin_a is a fixture
from tests.tracking_helpers import valid_uln

HEADER = "uln,given_name,family_name,email,date_of_birth,external_system,external_id,unit_code,start_date"


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    """Chunks of a few hundred bytes, so a test file of a few hundred rows is cut dozens of times."""
    monkeypatch.setattr(import_chunks, "MIN_CHUNK", 300)


def no_database_problems(rows: list) -> list:
    return []


def report(principal, identities, data: bytes, file_format: str, processes: int, **options):
    job = learner_import.run_import(principal, identities.centres["A"].id, io.BytesIO(data), file_format,
                                    processes=processes, **options)
    return counts(job), [(p["row"], p["field"], p["message"]) for p in learner_import.problems_of(job, limit=10_000)]


def messy_csv(rows: int = 240) -> bytes:
    """Good rows, with every few rows something a person gets wrong, quoted fields (commas, line ends inside),
    CRLF line ends, blank lines, and ULNs and external ids repeated far apart."""
    lines = [HEADER]
    for n in range(rows):
        uln = valid_uln(3000 + n)
        given, family = f"Given{n}", f"Family{n}"
        if n % 7 == 1:
            family = f'"{family}, Jr"'
        if n % 11 == 2:
            given = f'"Line one\nline two {n}"'  # a record over two lines
        line = f"{uln},{given},{family},g{n}@example.test,2001-01-{1 + n % 28:02d},mis,M{n},B13,2026-09-01"
        if n % 13 == 3:
            line = line.replace(uln, "1234567890")  # bad check digit
        if n % 17 == 4:
            line = line.replace(",B13,", ",NOPE 1,")  # unknown unit
        if n % 19 == 5:
            line = line.replace("2026-09-01", "01/09/2026")  # bad date
        if n % 23 == 6:
            line += ",extra"  # an extra cell
        if n in (200, 201):
            line = line.replace(uln, valid_uln(3000 + n - 190))  # a ULN from far earlier in the file
        if n == 220:
            line = line.replace(f",M{n},", ",M15,")  # an external id from far earlier
        lines.append(line)
        if n % 29 == 7:
            lines.append("")  # a blank line: skipped, but counted
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()


def messy_ndjson(rows: int = 200) -> bytes:
    lines = []
    for n in range(rows):
        uln = valid_uln(4000 + n) if n != 150 else valid_uln(4010)  # row 151 repeats row 11's ULN
        line = (f'{{"uln": "{uln}", "given_name": "Émilie {n}", "family_name": "du Châtelet", '
                f'"unit_code": "B13", "start_date": "2026-09-01"}}')
        if n % 9 == 4:
            line = line.replace('"family_name"', '"shoe_size": "5", "family_name"')  # an unknown field
        if n % 31 == 5:
            line = "[not an object]"
        lines.append(line)
        if n % 37 == 6:
            lines.append("   ")
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize(("data", "file_format"), [(messy_csv(), "csv"), (messy_ndjson(), "ndjson")],
                         ids=["csv", "ndjson"])
def test_several_processes_report_exactly_what_one_does(admin_a, identities, data, file_format):  # noqa: F811
    one = report(admin_a, identities, data, file_format, processes=1, dry_run=True)
    several = report(admin_a, identities, data, file_format, processes=3, dry_run=True)
    assert several == one
    rows_counted, problems = one
    assert rows_counted[0] > 190 and len(problems) > 20  # the files are as messy as intended
    fields = {field for _, field, _ in problems}
    assert {"uln", "_row"} <= fields and ({"unit_code", "start_date", "external_id"} <= fields
                                          if file_format == "csv" else "shoe_size" in fields)


def test_the_file_is_really_cut_and_checked_in_other_processes(identities, tmp_path):
    data = messy_csv()
    with open(tmp_path / "spool", "w+b") as spool:
        spool.write(data)
        spool.flush()
        refs = References.load(identities.centres["A"].id)
        checked = CheckedRows(str(tmp_path))
        reports = import_chunks.reports_in_parallel(spool, "csv", refs, no_database_problems, checked, 3, 50)
        assert reports is not None
        batches = list(reports)
    assert len(checked.segments) > 10  # a segment of valid rows per chunk
    numbers = [number for batch in batches for number, _, _ in batch.problems]
    assert numbers == sorted(numbers) and numbers[-1] > 200  # in file order, counted across chunks


def test_a_clean_file_checked_in_several_processes_is_written_once(admin_a, identities):  # noqa: F811
    lines = [HEADER] + [f"{valid_uln(5000 + n)},P{n},Q{n},,,mis,P{n},B13,2026-09-01" for n in range(300)]
    data = ("\n".join(lines) + "\n").encode()
    job = report(admin_a, identities, data, "csv", processes=2)
    assert job == ((300, 300, 0, 0, 0), [])
    assert Learner.select().where(Learner.uln.in_([valid_uln(5000 + n) for n in range(300)])).count() == 300
    assert report(admin_a, identities, data, "csv", processes=2) == ((300, 0, 0, 300, 0), [])


def test_a_stray_quote_sends_the_file_back_to_one_process(admin_a, identities, tmp_path):  # noqa: F811
    """O"Brien (a quote inside an unquoted field) is literal to CSV but would mislead the cuts; a quoted line end
    after it must still be read as one record."""
    lines = [HEADER]
    for n in range(200):
        family = 'O"Brien' if n == 3 else (f'"Two\nlines {n}"' if n % 5 == 0 else f"F{n}")
        lines.append(f"{valid_uln(6000 + n)},G{n},{family},,,,,B13,2026-09-01")
    data = ("\n".join(lines) + "\n").encode()
    with open(tmp_path / "spool", "w+b") as spool:
        spool.write(data)
        spool.flush()
        reports = import_chunks.reports_in_parallel(spool, "csv", References.load(identities.centres["A"].id),
                                                    no_database_problems, CheckedRows(str(tmp_path)), 3, 50)
        with pytest.raises(import_chunks.ChunksMisaligned):
            list(reports)
    one = report(admin_a, identities, data, "csv", processes=1, dry_run=True)
    assert report(admin_a, identities, data, "csv", processes=3, dry_run=True) == one
    assert one[0] == (200, 0, 0, 0, 40)  # 200 records; the 40 with a line end in a name are refused for it
    assert {(row, field) for row, field, _ in one[1]} == {(n + 2, "family_name") for n in range(0, 200, 5)}


def test_bytes_that_are_not_utf8_late_in_the_file_refuse_it_whole(admin_a, identities):  # noqa: F811
    data = messy_csv().replace(b"Family230", "Famil\u00e6".encode("latin-1"))
    with pytest.raises(ValidationFailed) as refused:
        report(admin_a, identities, data, "csv", processes=3, dry_run=True)
    assert "_file" in refused.value.errors


def test_a_record_the_csv_module_cannot_read_is_named_by_its_row(admin_a, identities):  # noqa: F811
    lines = messy_csv().decode().split("\r\n")
    lines[230] = f'{valid_uln(7000)},"{"x" * 200_000}",Long'  # over the csv module's field limit
    data = "\r\n".join(lines).encode()
    refusals = []
    for processes in (1, 3):
        with pytest.raises(ValidationFailed) as refused:
            report(admin_a, identities, data, "csv", processes=processes, dry_run=True)
        refusals.append((refused.value.detail, refused.value.errors))
    assert refusals[0] == refusals[1] and refusals[0][1]["_file"][0].startswith("row ")


def test_clear_empty_reaches_the_processes_that_check_the_file(admin_a, identities):  # noqa: F811
    """An empty email cell clears the stored email only when asked, whether the file is checked in one process or
    in several: their dry runs, and the real run, agree."""
    people = [valid_uln(8000 + n) for n in range(300)]
    full = "\n".join([HEADER] + [f"{uln},P{n},Q{n},p{n}@example.test,,,,," for n, uln in enumerate(people)]) + "\n"
    assert report(admin_a, identities, full.encode(), "csv", processes=1)[0] == (300, 300, 0, 0, 0)
    emptied = ("\n".join([HEADER] + [f"{uln},P{n},Q{n},,,,,," for n, uln in enumerate(people)]) + "\n").encode()
    for clear_empty, expected in ((False, (300, 0, 0, 300, 0)), (True, (300, 0, 300, 0, 0))):
        dry = [report(admin_a, identities, emptied, "csv", processes=n, dry_run=True, mode="valid_rows",
                      clear_empty=clear_empty) for n in (1, 3)]
        assert dry == [(expected, []), (expected, [])]
    assert report(admin_a, identities, emptied, "csv", processes=3, clear_empty=True) == ((300, 0, 300, 0, 0), [])
    assert Learner.select().where(Learner.uln.in_(people), Learner.email.is_null(False)).count() == 0
