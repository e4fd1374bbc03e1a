"""Reading and validating data/units files: JSON Schema first (schema/), then the rules a schema cannot express.

Every problem is reported as (file, JSON path, message). A file with any problem is loaded not at all. The schemas
bound every text (length, no control characters) and list, so data files, unit drafts sent to the API and CASE
imports all obey the limits the database holds; a message names the limit, never repeats the offending value.
"""

import hashlib
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry, Resource

from api.config import PROJECT_ROOT

SCHEMA_DIR = PROJECT_ROOT / "schema"
KINDS = ("catalogue", "standard", "unit", "qualification", "guidance")  # also the order files are loaded in
MAX_MESSAGE = 300


@dataclass(frozen=True)
class Problem:
    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.message}"


@dataclass
class ContentFile:
    """One parsed file: its document (None if unparseable) and its problems so far."""

    path: Path
    document: dict | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def kind(self) -> str | None:
        return self.document.get("kind") if isinstance(self.document, dict) else None

    def problem(self, json_path: str, message: str) -> None:
        self.problems.append(Problem(str(self.path), json_path, message))


@cache
def _validators() -> dict[str, Draft202012Validator]:
    registry = Registry()
    schemas = {}
    for path in sorted(SCHEMA_DIR.glob("*.schema.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        registry = registry.with_resource(path.name, Resource.from_contents(contents))
        schemas[path.name.removesuffix(".schema.json")] = contents
    return {
        kind: Draft202012Validator(schemas[kind], registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)
        for kind in KINDS
    }


def read_file(path: Path) -> ContentFile:
    """Parse one YAML file and validate it against the schema its ``kind`` names."""
    content = ContentFile(path)
    try:
        content.document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        content.problem("$", f"not UTF-8 text: {exc}")
        return content
    except yaml.YAMLError as exc:
        content.problem("$", f"not valid YAML: {exc}".replace("\n", " "))
        return content
    return check_document(content)


def check_document(content: ContentFile) -> ContentFile:
    """Validate ``content.document`` against the schema its ``kind`` names, then the numbering rules of units."""
    if not isinstance(content.document, dict):
        content.problem("$", "expected a mapping with a 'kind' key at the top level")
        return content
    kind = content.document.get("kind")
    if kind not in KINDS:
        content.problem("$.kind", f"must be one of {', '.join(KINDS)}; got {kind!r}")
        return content
    for error in sorted(_validators()[kind].iter_errors(content.document), key=lambda e: list(e.absolute_path)):
        content.problem(error.json_path, describe(error))
    if not content.problems and kind == "unit":
        _check_unit_numbering(content)
    return content


def describe(error: ValidationError) -> str:
    """A short message for a schema error: the rule broken, not the value (which may be a megabyte of text)."""
    if error.validator in ("anyOf", "oneOf") and error.context:  # e.g. text or null: say what the text broke
        error = next((e for e in error.context if e.validator != "type"), error.context[0])
    rule, limit = error.validator, error.validator_value
    if rule == "maxLength":
        return f"is too long: {len(error.instance)} characters, at most {limit}"
    if rule == "minLength":
        return "must not be empty"
    if rule == "maxItems":
        return f"has too many items: {len(error.instance)}, at most {limit}"
    if rule == "pattern" and limit.startswith("^[^\\u0000"):
        return "contains a control character (only tab, line feed and carriage return are allowed in text)"
    if rule == "pattern" and limit == "\\S":
        return "must not be blank"
    message = error.message
    return message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE] + "…"


def _check_unit_numbering(content: ContentFile) -> None:
    """Outcome numbers unique; criterion numbers unique and prefixed by their outcome's number."""
    seen_outcomes: set[str] = set()
    seen_criteria: set[str] = set()
    for i, outcome in enumerate(content.document["learning_outcomes"]):
        number = outcome["number"]
        if number in seen_outcomes:
            content.problem(f"$.learning_outcomes[{i}].number", f"duplicate learning outcome number {number!r}")
        seen_outcomes.add(number)
        for j, criterion in enumerate(outcome["criteria"]):
            path = f"$.learning_outcomes[{i}].criteria[{j}].number"
            c_number = criterion["number"]
            if c_number in seen_criteria:
                content.problem(path, f"duplicate assessment criterion number {c_number!r}")
            elif c_number.split(".")[0] != number:
                content.problem(path, f"criterion {c_number!r} is not numbered under its outcome {number!r}")
            seen_criteria.add(c_number)


def source_hash(document: dict) -> str:
    """Hash of a document's content, ignoring its lifecycle status."""
    content = {k: v for k, v in document.items() if k != "status"}
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def discover(root: Path) -> list[Path]:
    """The YAML files to load: ``root`` itself if it is a file, else every *.yaml / *.yml below it, sorted."""
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def read_all(root: Path) -> list[ContentFile]:
    """Parse and schema-check every file under ``root``, in load order (catalogue, standards, units, ...)."""
    files = [read_file(path) for path in discover(root)]
    order = {kind: i for i, kind in enumerate(KINDS)}
    return sorted(files, key=lambda f: (order.get(f.kind, -1), str(f.path)))
