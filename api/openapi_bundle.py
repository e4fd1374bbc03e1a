"""openapi.yaml as one self-contained document, for tools that cannot follow its relative file references.

openapi.yaml refers to the JSON Schemas of the data/units file formats by relative reference
(``$ref: schema/defs.schema.json#/$defs/status``, ``$ref: schema/unit.schema.json``), which is valid OpenAPI 3.1 and
resolves on the server too (the contract is served at /v1/openapi.yaml and the schemas at /v1/schema/NAME). Some
tools, client generators in particular, only follow references inside the document. ``bundle()`` returns the
contract with every such reference replaced by a reference to a copy of its target in ``components/schemas``; the
references inside those copies (to their own ``$defs``, or to another file) are rewritten the same way, so the
result has no reference outside itself and validates exactly what the original does.

Naming: a referenced schema becomes ``components/schemas/<Name>``, where Name is the file's stem in PascalCase
followed by the path inside the file without ``$defs`` in PascalCase: ``defs.schema.json#/$defs/status`` ->
``DefsStatus``, ``unit.schema.json#/$defs/learningOutcome`` -> ``UnitLearningOutcome``, and a whole file
``unit.schema.json`` -> ``UnitSchema``. A name already used by the contract is an error, never silently merged.

Only what is referenced is copied (a file's unreferenced ``$defs`` are not), and a copied file root loses its
``$schema`` and ``$defs``: the dialect is the document's (OpenAPI 3.1's, built on JSON Schema 2020-12), and the
``$defs`` it uses are components now. References are resolved against the file that contains them; a schema file
that declares ``$id`` (which would change that base) is refused rather than resolved wrongly. Every external
reference is taken to name a schema (openapi.yaml has no other kind); references inside the document are left as
they are.
"""

import json
import re
from pathlib import Path
from urllib.parse import unquote, urldefrag

import yaml

from api.config import PROJECT_ROOT

OPENAPI_PATH = PROJECT_ROOT / "openapi.yaml"
COMPONENT_PREFIX = "#/components/schemas/"


class BundleError(ValueError):
    """The contract's references cannot be bundled (missing file or target, a name clash, an unsupported $id)."""


def bundle(path: Path = OPENAPI_PATH) -> dict:
    """The OpenAPI document at ``path`` with every external ``$ref`` inlined into ``components/schemas``."""
    path = Path(path).resolve()
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return _Bundler(path, document).run()


def _pascal(text: str) -> str:
    """``learningOutcome`` -> ``LearningOutcome``, ``evidence-type`` -> ``EvidenceType``."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text) if part)


def _pointer_parts(fragment: str) -> list[str]:
    """The tokens of a JSON pointer fragment (``/$defs/a~1b`` -> ``['$defs', 'a/b']``)."""
    if not fragment:
        return []
    if not fragment.startswith("/"):
        raise BundleError(f"only JSON-pointer fragments are supported, not #{fragment}")
    return [unquote(token).replace("~1", "/").replace("~0", "~") for token in fragment[1:].split("/")]


class _Bundler:
    def __init__(self, path: Path, document: dict):
        self.path = path
        self.document = document
        self.schemas = document.setdefault("components", {}).setdefault("schemas", {})
        self.taken = set(self.schemas)
        self.files: dict[Path, dict] = {}
        self.names: dict[tuple[Path, str], str] = {}  # (file, fragment) -> component name

    def run(self) -> dict:
        contract_schemas = list(self.schemas)  # the copies added while rewriting are rewritten as they are added
        for key, value in list(self.document.items()):
            if key != "components":
                self.document[key] = self._rewrite(value, self.path, in_document=True)
        components = self.document["components"]
        for key, value in list(components.items()):
            if key != "schemas":
                components[key] = self._rewrite(value, self.path, in_document=True)
        for name in contract_schemas:
            self.schemas[name] = self._rewrite(self.schemas[name], self.path, in_document=True)
        return self.document

    def _rewrite(self, node, base: Path, *, in_document: bool):
        """A copy of ``node`` whose references are all internal to the bundled document."""
        if isinstance(node, list):
            return [self._rewrite(item, base, in_document=in_document) for item in node]
        if not isinstance(node, dict):
            return node
        out = {key: self._rewrite(value, base, in_document=in_document) for key, value in node.items()}
        ref = node.get("$ref")
        if isinstance(ref, str):
            out["$ref"] = self._target(ref, base, in_document=in_document)
        return out

    def _target(self, ref: str, base: Path, *, in_document: bool) -> str:
        """The internal reference that replaces ``ref`` (found in a file at ``base``)."""
        location, fragment = urldefrag(ref)
        if not location:
            if in_document:
                return ref  # already internal to openapi.yaml
            target_file = base
        elif "://" in location or location.startswith("/"):
            raise BundleError(f"{base.name}: only relative file references can be bundled, not {ref}")
        else:
            target_file = (base.parent / unquote(location)).resolve()
        return COMPONENT_PREFIX + self._component(target_file, fragment)

    def _component(self, file: Path, fragment: str) -> str:
        """The name of the component holding ``file#fragment``, copying it in on first use."""
        key = (file, fragment)
        if key in self.names:
            return self.names[key]
        parts = _pointer_parts(fragment)
        stem = file.name.removesuffix(".json").removesuffix(".schema")
        inner = [p for p in parts if p not in ("$defs", "definitions")]
        name = _pascal(stem) + ("".join(_pascal(p) for p in inner) if inner else "Schema")
        if name in self.taken:
            raise BundleError(f"{file.name}#{fragment} would be components/schemas/{name}, which the contract "
                              f"already uses")
        self.taken.add(name)
        self.names[key] = name  # before recursing, so self- and mutual references terminate
        target = self._load(file)
        for part in parts:
            try:
                target = target[int(part)] if isinstance(target, list) else target[part]
            except (KeyError, IndexError, ValueError):
                raise BundleError(f"{file.name} has nothing at #{fragment}") from None
        schema = self._rewrite(target, file, in_document=False)
        if not parts and isinstance(schema, dict):
            schema.pop("$schema", None)
            schema.pop("$defs", None)
        self.schemas[name] = schema
        return name

    def _load(self, file: Path) -> dict:
        if file not in self.files:
            try:
                text = file.read_text(encoding="utf-8")
            except FileNotFoundError:
                raise BundleError(f"referenced file {file} does not exist") from None
            loaded = json.loads(text) if file.suffix == ".json" else yaml.safe_load(text)
            if isinstance(loaded, dict) and "$id" in loaded:
                raise BundleError(f"{file.name} declares $id; its references would not resolve against its path")
            self.files[file] = loaded
        return self.files[file]


def main() -> None:
    """Print the bundled contract as JSON (``python -m api.openapi_bundle > openapi.json``)."""
    print(json.dumps(bundle(), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
