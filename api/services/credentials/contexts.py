"""The JSON-LD contexts credentials are written in, served from schema/jsonld/ (never the network), and RDF dataset
canonicalisation (RDFC-1.0, which PyLD implements as URDNA2015) with them."""

import json
from functools import cache

from pyld import jsonld

from api.config import PROJECT_ROOT

CONTEXT_DIR = PROJECT_ROOT / "schema" / "jsonld"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
FILES = {
    VC_V2: "w3c_credentials_v2_context.jsonld",
    OB_V3: "ob_v3p0_context-3.0.3.json",
    DATA_INTEGRITY_V2: "w3c_data_integrity_v2_context.jsonld",
}


class UnknownContext(ValueError):
    """A document names a context that is not served from disk (so it cannot be canonicalised here)."""


@cache
def _context(url: str) -> dict:
    return json.loads((CONTEXT_DIR / FILES[url]).read_text(encoding="utf-8"))


def load_context(url: str, options=None) -> dict:
    """PyLD's document loader: a known context from disk; UnknownContext for any other URL."""
    if url not in FILES:
        raise UnknownContext(f"the JSON-LD context {url} is not one this service knows")
    return {"contextUrl": None, "documentUrl": url, "document": _context(url)}


class NotSigned(ValueError):
    """Part of a document would be left out of its RDF dataset, so a signature would not cover it: a property no
    context defines, or a node whose id is not an absolute IRI."""


def canonical_nquads(document: dict) -> str:
    """The document's RDF dataset, canonicalised (RDFC-1.0) and serialised as N-Quads. Every part of the document
    must be in it (as jsonld.js's safe mode asks): NotSigned if a property or a node would be dropped. UnknownContext
    if it names a context not served from disk; ValueError if it is not valid JSON-LD."""
    processor = jsonld.JsonLdProcessor(on_property_dropped=_refuse_dropped)
    try:
        expanded = processor.expand(document, {"documentLoader": load_context, "base": ""})
        _require_absolute_ids(expanded)
        return processor.normalize(expanded, {"algorithm": "URDNA2015", "format": "application/n-quads",
                                              "documentLoader": load_context})
    except jsonld.JsonLdError as error:
        cause = error
        while cause is not None:
            if isinstance(cause, UnknownContext):
                raise cause from error
            if isinstance(cause, NotSigned):
                raise cause from error
            cause = cause.__cause__ or getattr(cause, "cause", None)
        raise ValueError(f"not valid JSON-LD: {error}") from error


def _refuse_dropped(expanded_property) -> None:
    raise NotSigned(f"the property {expanded_property!r} is defined by none of the document's contexts")


def _require_absolute_ids(node) -> None:
    if isinstance(node, list):
        for item in node:
            _require_absolute_ids(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "@id" and isinstance(value, str) and not (value.startswith("_:") or ":" in value):
                raise NotSigned(f"the id {value!r} is not an absolute IRI")
            if key != "@value":
                _require_absolute_ids(value)
