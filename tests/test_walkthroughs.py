"""Every walkthrough of /docs works as written: each command block runs, in order, against a live server on a fresh
database, and prints what the page says it prints.

For each walkthrough the test starts `qualtrack serve` as `make run` does (development) over a fresh database, reads
the page from that server (so the commands name its real URL), and runs every ``<pre class="run">`` block in one
``bash -euo pipefail`` process from the project root, with QUALTRACK_DATABASE_URL naming the server's database so that
the operator's ``.venv/bin/qualtrack`` steps reach it, as they do in a clone. Then:

- the script exits 0 (a failure names the block that failed and shows what it printed);
- every ``<pre class="output">`` example matches what its block printed, ids, times, tokens, secrets, ETags and
  cursors aside (a line ``...`` in an example stands for any number of lines);
- the end result the walkthrough promises is there (END_RESULTS).
"""

import ast
import json
import os
import re
import subprocess
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.request import urlopen

import pytest

from api.config import PROJECT_ROOT
from api.rest.docs import WALKTHROUGHS
from tests.test_serve import running_server

BLOCK_START = "### walkthrough block {} ###"
BLOCK_SPLIT = re.compile(r"\n### walkthrough block (\S+) ###\n")
SCRIPT_TIMEOUT = 180  # seconds for a whole walkthrough: about 10 on an idle 2-core machine

# What varies from run to run, replaced by a placeholder on both sides before an example is compared.
VOLATILE = (
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<id>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)"), "<time>"),
    (re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+"), "<token>"),
    (re.compile(r"\bqtc_[\w-]+"), "<client id>"),
    (re.compile(r"(client_secret:\s+)\S+"), r"\1<secret>"),
    (re.compile(r'("(?:next_cursor|cursor|endCursor|startCursor)": )"[^"]*"'), r'\1"<cursor>"'),
    (re.compile(r"\b[0-9a-f]{16,64}\b"), "<hex>"),  # ETags and digests
)


@dataclass
class Block:
    """A code block of a walkthrough: ``run`` (commands, with their id) or ``output`` (what block ``of`` prints)."""

    kind: str
    name: str
    text: str


class BlockReader(HTMLParser):
    """Collects the run and output blocks of a page, in order, as plain text (character references decoded)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self._open: Block | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        kinds = (attributes.get("class") or "").split()
        if tag == "pre" and "run" in kinds:
            self._open = Block("run", attributes["id"], "")
        elif tag == "pre" and "output" in kinds:
            self._open = Block("output", attributes["data-output-of"], "")

    def handle_data(self, data):
        if self._open is not None:
            self._open.text += data

    def handle_endtag(self, tag):
        if tag == "pre" and self._open is not None:
            self.blocks.append(self._open)
            self._open = None


def blocks_of(page: str) -> list[Block]:
    """The run and output blocks of an HTML page, in page order."""
    reader = BlockReader()
    reader.feed(page)
    reader.close()
    return reader.blocks


def masked(text: str) -> str:
    """``text`` with every VOLATILE value replaced by its placeholder."""
    for pattern, placeholder in VOLATILE:
        text = pattern.sub(placeholder, text)
    return text


def example_matches(example: str, printed: str) -> bool:
    """Whether ``printed`` is ``example`` line for line, volatile values and trailing spaces aside, where an example
    line ``...`` stands for any number of lines."""
    pattern = "".join(r"(?:[^\n]*\n)*?" if line.strip() == "..." else re.escape(line.rstrip()) + r"\n"
                      for line in masked(example).strip("\n").splitlines())
    lines = [line.rstrip() for line in masked(printed).strip("\n").splitlines()]
    return re.fullmatch(pattern, "\n".join(lines) + "\n") is not None


def run_walkthrough(base: str, name: str, database_url: str, scratch: Path) -> dict[str, str]:
    """Run every run block of the walkthrough ``name`` as served by ``base``, in one bash process; what each block
    printed (stdout and stderr), by block id. Fails naming the block that failed."""
    with urlopen(f"{base}/docs/walkthroughs/{name}") as response:
        page = response.read().decode()
    blocks = blocks_of(page)
    runs = [block for block in blocks if block.kind == "run"]
    assert runs, f"{name}: no run blocks"
    script = scratch / f"{name}.sh"
    script.write_text("".join(f"printf '\\n%s\\n' '{BLOCK_START.format(block.name)}'\n{block.text}\n"
                              for block in runs), encoding="utf-8")
    env = {**os.environ, "QUALTRACK_DATABASE_URL": database_url, "TMPDIR": str(scratch)}
    env.pop("QUALTRACK_NEW_PASSWORD", None)
    try:
        result = subprocess.run(["bash", "-euo", "pipefail", str(script)], cwd=PROJECT_ROOT, env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                timeout=SCRIPT_TIMEOUT)
        output, failure = result.stdout, (f"failed (exit {result.returncode})" if result.returncode else None)
    except subprocess.TimeoutExpired as timeout:
        output, failure = (timeout.output or b"").decode(errors="replace"), f"did not end in {SCRIPT_TIMEOUT} s"
    parts = BLOCK_SPLIT.split(output)
    printed = dict(zip(parts[1::2], parts[2::2], strict=True))
    if failure:
        failed = parts[-2] if len(parts) > 1 else "(before the first block)"
        source = next((block.text for block in runs if block.name == failed), "")
        pytest.fail(f"{name}: block {failed} {failure}.\n--- the block ---\n{source}\n"
                    f"--- what it printed ---\n{parts[-1]}")
    assert list(printed) == [block.name for block in runs], "a block did not run, or two share an id"
    stale = [f"block {example.name} no longer prints what the page shows.\n--- the page shows ---\n{example.text}\n"
             f"--- it printed ---\n{printed.get(example.name, '(there is no run block of that id)')}"
             for example in blocks if example.kind == "output"
             and not example_matches(example.text, printed.get(example.name, ""))]
    assert not stale, f"{name}: " + "\n\n".join(stale)
    return printed


def json_in(printed: str) -> dict:
    """The JSON document a block printed (the first, when it printed more)."""
    return json.JSONDecoder().raw_decode(printed[printed.index("{"):])[0]


# -- what each walkthrough promises at its end ---------------------------------------------------------------------

def lms_end_result(printed: dict[str, str]) -> None:
    """The assessor's decision counts in the enrolment's progress; the update honoured If-Match; the sync saw both
    learners once each."""
    progress = json_in(printed["lms-progress"])
    assert (progress["unit_code"], progress["claimed"], progress["met"]) == ("B13", 2, 1), progress
    assert json_in(printed["lms-decision"])["outcome"] == "met"
    assert re.findall(r"HTTP (\d+)", printed["lms-update"]) == ["428", "200", "412"]
    synced = re.findall(r"^\S+ \S+ (.+)$", printed["lms-sync"], re.MULTILINE)
    assert sorted(synced) == ["Ada Lovelace", "Alan Turing"], printed["lms-sync"]


def graphql_end_result(printed: dict[str, str]) -> None:
    """The caseload paged through all three learners; the decision without a reason came back as a ValidationError
    naming reason; the enrolment's progress counts criterion 1.1 met once, with both decisions kept."""
    first_page = json_in(printed["graphql-caseload"])["data"]["learners"]
    assert first_page["totalCount"] == 3 and len(first_page["nodes"]) == 2 and first_page["pageInfo"]["hasNextPage"]
    assert "['Vaughan'] hasNextPage: False" in printed["graphql-next-page"]
    failure = json_in(printed["graphql-decide-again"])["data"]["recordDecision"]
    assert (failure["__typename"], [f["field"] for f in failure["fields"]]) == ("ValidationError", ["reason"])
    enrolment = json_in(printed["graphql-progress"])["data"]["enrolment"]
    assert enrolment["progress"]["met"] == 1
    assert [(d["sequence"], d["reason"]) for d in enrolment["decisions"]] == [
        (1, None), (2, "Confirmed with a second observation.")]
    assert printed["graphql-refresh"].strip() == "1"  # the refreshed token works


def awarding_body_end_result(printed: dict[str, str]) -> None:
    """CS 34 version 2, without criterion 1.7, was published and then withdrawn; the feed polled from the kept cursor
    shows only what happened after it."""
    diff = json_in(printed["awarding-body-diff"])
    assert [c["number"] for c in diff["criteria"]["removed"]] == ["1.7"] and diff["to"]["version"] == 2
    assert "published CS 34 version 2 (published)" in printed["awarding-body-changes"]
    assert "HTTP 200, version 2 withdrawn" in printed["awarding-body-withdraw"]
    assert printed["awarding-body-poll"].strip().splitlines()[-1] == "withdrawn CS 34 version 2 (withdrawn)"
    assert "published" not in printed["awarding-body-poll"]


def bulk_import_end_result(printed: dict[str, str]) -> None:
    """The refused file wrote nothing and named its two bad rows; the corrected one made three learners, each enrolled
    with the assessor; its retry replayed the same job; running it again changed nothing, and a changed row was
    updated alone."""
    refused = json_in(printed["bulk-import-refused"])
    assert refused["status"] == 422 and sorted(refused["errors"]) == ["row 3: date_of_birth", "row 4: unit_code"]
    imported = json_in(printed["bulk-import-import"])
    assert imported["counts"]["created"] == 3 and imported["enrolments"]["created"] == 3
    assert "the same job" in printed["bulk-import-retry"]
    assert len(re.findall(r"^\d{10} ", printed["bulk-import-check"], re.MULTILINE)) == 3
    assert printed["bulk-import-check"].count("assessors: 1") == 3
    same_file, changed_row = ([ast.literal_eval(counts) for counts in re.findall(r"\{[^}]*\}", line)]
                              for line in printed["bulk-import-rerun"].strip().splitlines())
    assert (same_file[0]["unchanged"], same_file[1]["created"]) == (3, 0)
    assert (changed_row[0]["updated"], changed_row[0]["unchanged"], changed_row[1]["created"]) == (1, 2, 0)


END_RESULTS = {
    "lms": lms_end_result,
    "graphql": graphql_end_result,
    "awarding-body": awarding_body_end_result,
    "bulk-import": bulk_import_end_result,
}


# -- the tests -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(WALKTHROUGHS))
def test_every_command_of_the_walkthrough_runs_and_prints_what_the_page_shows(name, fresh_url, tmp_path):
    assert name in END_RESULTS, f"say in END_RESULTS what the {name} walkthrough must end with"
    with running_server(fresh_url, QUALTRACK_ENV="development") as base:
        printed = run_walkthrough(base, name, fresh_url, tmp_path)
    END_RESULTS[name](printed)


def test_the_guide_links_every_walkthrough(client):
    guide = client.get("/docs").get_data(as_text=True)
    for name in WALKTHROUGHS:
        assert f'href="/docs/walkthroughs/{name}"' in guide, name
        page = client.get(f"/docs/walkthroughs/{name}")
        assert page.status_code == 200 and page.mimetype == "text/html", name
    missing = client.get("/docs/walkthroughs/nothing")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"


@pytest.mark.parametrize(("example", "printed", "matches"), [
    ('{"id": "7a24e6e2-3df1-5569-9060-4a5f4cd60a3d", "met": 1}', '{"id": "01a24265-2239-77ab-a05f-1cefad78a0cd", '
     '"met": 1}\n', True),
    ('{"met": 1}', '{"met": 2}', False),
    ("first\n...\nlast", "first\nsecond\nthird\nlast\n", True),
    ("first\n...\nlast", "first\nlast", True),
    ("first\nlast", "first\nsecond\nlast", False),
    ("first", "first\nmore", False),
])
def test_examples_are_compared_line_for_line_with_volatile_values_aside(example, printed, matches):
    assert example_matches(example, printed) is matches


def served_page(directory: Path, html: str) -> str:
    """A base URL (file://) under which /docs/walkthroughs/example is ``html``."""
    pages = directory / "docs" / "walkthroughs"
    pages.mkdir(parents=True)
    (pages / "example").write_text(html, encoding="utf-8")
    return directory.as_uri()


def test_a_failing_command_is_reported_with_its_block_and_what_it_printed(tmp_path):
    base = served_page(tmp_path, '<pre class="run" id="first">echo one</pre>'
                                 '<pre class="run" id="second">echo two &amp;&amp; false\necho never</pre>'
                                 '<pre class="run" id="third">echo three</pre>')
    with pytest.raises(pytest.fail.Exception) as failure:
        run_walkthrough(base, "example", "sqlite:///unused.db", tmp_path)
    message = str(failure.value)
    assert "example: block second failed (exit 1)" in message
    assert "echo two && false" in message and message.endswith("--- what it printed ---\ntwo\n")


def test_an_example_that_no_longer_matches_is_reported(tmp_path):
    base = served_page(tmp_path, '<pre class="run" id="count">echo 2</pre>'
                                 '<pre class="output" data-output-of="count">1</pre>')
    with pytest.raises(AssertionError, match="block count no longer prints what the page shows"):
        run_walkthrough(base, "example", "sqlite:///unused.db", tmp_path)
