"""The contract itself: openapi.yaml and the JSON Schemas it refers to, served as files."""

from functools import cache

from flask import Blueprint, abort, send_from_directory

from api.config import PROJECT_ROOT
from api.rest.http import json_response

bp = Blueprint("meta", __name__)
SCHEMA_DIR = PROJECT_ROOT / "schema"


@bp.get("/openapi.yaml")
def openapi_document():
    """The OpenAPI 3.1 description of /v1."""
    return send_from_directory(PROJECT_ROOT, "openapi.yaml", mimetype="application/yaml", max_age=60)


@bp.get("/openapi.json")
def openapi_bundled():
    """The contract as one self-contained JSON document (api.openapi_bundle), for tools that cannot follow its
    relative references to schema/*.schema.json."""
    return json_response(_bundled(), cache_control="public, max-age=60")


@cache
def _bundled() -> dict:
    from api.openapi_bundle import bundle

    return bundle()


@bp.get("/schema/<name>")
def json_schema(name):
    """One of the JSON Schemas in schema/ (openapi.yaml $refs them)."""
    if not name.endswith(".schema.json") or not (SCHEMA_DIR / name).is_file():
        abort(404)
    return send_from_directory(SCHEMA_DIR, name, mimetype="application/schema+json", max_age=60)
