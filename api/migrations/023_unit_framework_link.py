"""A unit's rendered document names the CASE framework it was imported from: ``case.framework`` ({identifier, title,
uri, href}, or null for a unit authored here), so a unit links to its framework as the framework links to its units.
Every stored unit version's document gains it (their ETags change with their bytes, published versions included).
Rolling back leaves it: an earlier release serves stored documents as they are, and one more field harms no client."""

import hashlib
import json

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    if not fake:
        _rewrite(database, _with_framework)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    pass


def _with_framework(case: dict, source: dict) -> dict:
    framework = source.get("case_document")
    return {**case, "framework": {
        "identifier": framework["identifier"], "title": framework["title"],
        "uri": f"/ims/case/v1p1/CFPackages/{framework['identifier']}",
        "href": f"/v1/frameworks/{framework['identifier']}"} if isinstance(framework, dict) else None}


def _rendered(document: dict) -> tuple[str, str]:
    """Serialised as api.services.content.rendering.dump serialises documents, with the strong ETag of those bytes."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return text, '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


def _rewrite(database: pw.Database, convert) -> None:
    """Each unit version's document with its ``case`` converted (from it and the version's source), and its ETag."""
    rows = database.execute_sql("SELECT id, source, document FROM unit_version").fetchall()
    for row_id, source_text, document_text in rows:
        document = json.loads(document_text)
        if not isinstance(document, dict) or not isinstance(document.get("case"), dict):
            continue
        converted = {**document, "case": convert(document["case"], json.loads(source_text or "{}") or {})}
        if converted != document:
            text, etag = _rendered(converted)
            database.execute_sql(f"UPDATE unit_version SET document = {database.param}, etag = {database.param} "
                                 f"WHERE id = {database.param}", (text, etag, row_id))
