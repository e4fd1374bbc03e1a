"""Trusted documents: an operator's allow-list of GraphQL operations (QUALTRACK_GRAPHQL_TRUSTED_DOCUMENTS).

With a manifest configured, /graphql runs only the documents it holds. A client sends ``documentId`` (a SHA256 hex
document identifier, ``sha256:`` and 64 lower-case hex digits, as GraphQL over HTTP's persisted documents appendix
defines it) in place of ``query``, or sends the full text of a document the manifest holds. Anything else is answered
with one GraphQL error and runs nothing. Without a manifest, any document runs and ``documentId`` is refused.

The manifest is JSON in either of the forms client build tools write: an object of document id (``sha256:<hex>``, or
the bare hex digest, as GraphQL Code Generator's client preset writes it) to document text, or Apollo's persisted
query manifest (``{"format": "apollo-persisted-query-manifest", "operations": [{"id", "body"}, ...]}``). Every id is
checked against the SHA-256 of its text when the app starts: a manifest that would run another text than its id
names is refused, so the app does not start.
"""

import hashlib
import json
import re
from pathlib import Path

from graphql import GraphQLError

from api.config import ConfigurationError

SHA256_ID = re.compile(r"sha256:[0-9a-f]{64}")
BARE_DIGEST = re.compile(r"[0-9a-f]{64}")


def document_id(text: str) -> str:
    """The SHA256 hex document identifier of ``text``: the hash of its exact UTF-8 bytes (whitespace counts)."""
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


class TrustedDocuments:
    """The documents an operator allows, by id."""

    def __init__(self, documents: dict[str, str]):
        self.documents = documents

    @classmethod
    def load(cls, path: Path) -> "TrustedDocuments":
        """The manifest at ``path``; ConfigurationError if it cannot be read or an id is not its text's hash."""
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise ConfigurationError(f"QUALTRACK_GRAPHQL_TRUSTED_DOCUMENTS: cannot read {path} as JSON: {error}") \
                from None
        documents = {}
        for key, text in _entries(manifest, path):
            identifier = f"sha256:{key}" if BARE_DIGEST.fullmatch(key) else key
            if not SHA256_ID.fullmatch(identifier):
                raise ConfigurationError(f"{path}: {key!r} is not a sha256:<64 lower-case hex digits> document id")
            try:
                digest = document_id(text)
            except UnicodeEncodeError:  # a lone surrogate (JSON allows "\ud800"): no UTF-8 text, no id
                raise ConfigurationError(f"{path}: the document under {key!r} is not valid Unicode") from None
            if digest != identifier:
                raise ConfigurationError(f"{path}: the document under {key!r} has another hash, {digest}: the "
                                         "manifest must hold the exact text clients hash")
            documents[identifier] = text
        return cls(documents)

    def document(self, query: str | None, requested_id: str | None) -> str:
        """The text to run for a request carrying ``query`` or ``documentId`` (exactly one of them); GraphQLError
        for an id the manifest does not hold, or a text it does not hold."""
        if requested_id is not None:
            text = self.documents.get(requested_id)
            if text is None:
                raise GraphQLError(
                    f"no trusted document has the id {requested_id!r}" + (
                        "" if SHA256_ID.fullmatch(requested_id) else
                        " (ids here are sha256: and the 64 lower-case hex digits of the document's SHA-256)"),
                    extensions={"code": "PERSISTED_DOCUMENT_NOT_FOUND"})
            return text
        if document_id(query) not in self.documents:
            raise GraphQLError("this server runs trusted documents only, and this document is not one of them: "
                               "send the documentId of a document your operator has allowed",
                               extensions={"code": "DOCUMENT_NOT_TRUSTED"})
        return query


def _entries(manifest, path: Path) -> list[tuple[str, str]]:
    """(id, text) pairs of a manifest in either accepted form."""
    if isinstance(manifest, dict) and manifest.get("format") == "apollo-persisted-query-manifest":
        operations = manifest.get("operations")
        if not isinstance(operations, list) or not all(
                isinstance(o, dict) and isinstance(o.get("id"), str) and isinstance(o.get("body"), str)
                for o in operations):
            raise ConfigurationError(f"{path}: an Apollo manifest needs operations, each with a string id and body")
        return [(o["id"], o["body"]) for o in operations]
    if not isinstance(manifest, dict) or not all(isinstance(v, str) for v in manifest.values()):
        raise ConfigurationError(f"{path}: the manifest must be a JSON object of document id to document text")
    return list(manifest.items())
