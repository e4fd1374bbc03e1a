"""Provenance names the document content is taken from by its title: ``source.seed`` (a file name) becomes
``source.document`` in every stored unit version, qualification, guidance and standard, and in the rendered documents
served for them (their ETags change with their bytes, published versions included), so a database loaded before the
change serves the new shape.

The five source documents the content was taken from map to their titles; a CASE import's ``CASE package <id>``
becomes the framework's title (its description names the package), as an import now writes it; any other value is
kept as the document's name. ``source_hash`` is recomputed where the whole source is stored (unit versions,
qualifications), so saving the same content again changes nothing; a standard's or guidance's is left, and the next
load of its file renders it afresh. Rolling back restores the old key and values.
"""

import ast
import hashlib
import json
from collections.abc import Callable

import peewee as pw
from peewee_migrate import Migrator

TITLES = {
    "000_f8466d4747cdf51e.txt": "Unit CS 34: Manage customer service operations",
    "001_bc470c1025f5174b.txt":
        "National Occupational Standard: planning, organising and controlling customer service operations",
    "002_91c5a0d7f4db135e.txt": "Skills CFA customer service unit suite CS 37-CS 47, reviewer draft",
    "003_2ed901b2afcafdf3.txt": "OCR Level 4 unit B13: Plan, organise and control customer service operations",
    "004_8340d6be44eb04a0.txt": "Topic synopsis: managing customer service operations",
}
FILES = {title: name for name, title in TITLES.items()}
CASE_PACKAGE = "CASE package "
OLD_CASE_DESCRIPTION = "Imported from the CASE framework "
NEW_CASE_DESCRIPTION = "Imported from CASE package "

Convert = Callable[[dict], dict]


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    if not fake:
        _rewrite(database, _named_by_title)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    if not fake:
        _rewrite(database, _named_by_file)


def _named_by_title(source: dict) -> dict:
    """A ``{seed, description}`` source as ``{document, description}``, keys in the same order."""
    if "seed" not in source:
        return source
    seed, description = source["seed"], source.get("description")
    document, new_description = TITLES.get(seed, seed), description
    if seed.startswith(CASE_PACKAGE) and isinstance(description, str) and description.startswith(OLD_CASE_DESCRIPTION):
        try:
            title = ast.literal_eval(description[len(OLD_CASE_DESCRIPTION):])
        except (ValueError, SyntaxError):
            title = None
        if isinstance(title, str):
            document, new_description = title, NEW_CASE_DESCRIPTION + seed[len(CASE_PACKAGE):]
    return _renamed(source, "seed", "document", document, new_description)


def _named_by_file(source: dict) -> dict:
    """The inverse of _named_by_title."""
    if "document" not in source:
        return source
    document, description = source["document"], source.get("description")
    seed, old_description = FILES.get(document, document), description
    if isinstance(description, str) and description.startswith(NEW_CASE_DESCRIPTION):
        seed = CASE_PACKAGE + description[len(NEW_CASE_DESCRIPTION):]
        old_description = f"{OLD_CASE_DESCRIPTION}{document!r}"
    return _renamed(source, "document", "seed", seed, old_description)


def _renamed(source: dict, old_key: str, new_key: str, value, description) -> dict:
    """``source`` with ``old_key`` renamed ``new_key`` (in its place) holding ``value``, and ``description`` if it
    had one."""
    renamed = {}
    for key, kept in source.items():
        if key == old_key:
            renamed[new_key] = value
        else:
            renamed[key] = description if key == "description" else kept
    return renamed


def _with_source(record: dict, convert: Convert) -> dict:
    """``record`` with its ``source`` converted (a record without one is returned as it is)."""
    source = record.get("source")
    return {**record, "source": convert(source)} if isinstance(source, dict) else record


def _rendered(document: dict) -> tuple[str, str]:
    """Serialised as api.services.content.rendering.dump serialises documents, with the strong ETag of those bytes."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return text, '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


def _stored(value) -> str:
    """JSON as the models store it (api.models.base.JSONTextField): compact, keys sorted."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _source_hash(source: dict) -> str:
    """As api.services.content.data_files.source_hash: the content without its lifecycle status."""
    content = {k: v for k, v in source.items() if k != "status"}
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _converted_document(text: str, convert: Convert) -> dict | None:
    """A rendered document with its source (and its embedded guidance's) converted; None if nothing changed."""
    document = json.loads(text)
    if not isinstance(document, dict):
        return None
    converted = dict(_with_source(document, convert))
    if isinstance(converted.get("guidance"), list):
        converted["guidance"] = [_with_source(g, convert) if isinstance(g, dict) else g
                                 for g in converted["guidance"]]
    return None if converted == document else converted


def _sql(database: pw.Database, sql: str, params=()):
    return database.execute_sql(sql.replace("?", database.param), params)


def _rewrite(database: pw.Database, convert: Convert) -> None:
    for table in ("unit_version", "qualification"):
        rows = _sql(database, f"SELECT id, source, document FROM {table}").fetchall()
        for row_id, source_text, document_text in rows:
            source = json.loads(source_text)
            new_source = _with_source(source, convert)
            if new_source != source:
                _sql(database, f"UPDATE {table} SET source = ?, source_hash = ? WHERE id = ?",
                     (_stored(new_source), _source_hash(new_source), row_id))
            _rewrite_document(database, table, row_id, document_text, convert)
    for row_id, document_text in _sql(database, "SELECT id, document FROM standard").fetchall():
        _rewrite_document(database, "standard", row_id, document_text, convert)
    for row_id, body_text in _sql(database, "SELECT id, body FROM guidance").fetchall():
        body = json.loads(body_text)
        new_body = _with_source(body, convert)
        if new_body != body:
            _sql(database, "UPDATE guidance SET body = ? WHERE id = ?", (_stored(new_body), row_id))


def _rewrite_document(database: pw.Database, table: str, row_id, text: str, convert: Convert) -> None:
    """Store a rendered document again, with its ETag, if converting its sources changed it (an unrendered
    document, "{}", has none and keeps its placeholder ETag)."""
    converted = _converted_document(text, convert)
    if converted is not None:
        document, etag = _rendered(converted)
        _sql(database, f"UPDATE {table} SET document = ?, etag = ? WHERE id = ?", (document, etag, row_id))
