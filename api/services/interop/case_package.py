"""A CASE framework as it is stored and served: the imported CFPackage in CASE 1.1's shape, every member kept.

``stored(package)`` reads what an exporter sent into what is stored: the document, items, associations, definitions
(item types, concepts, subjects, licences, association groupings) and rubrics, in the order given, with their
identifiers, codes, texts, sequence numbers, languages, dates and links as given, read leniently where exporters
differ from CASE 1.1 (identifiers in upper case, a sequenceNumber as a numeric string, a timestamp without a time
zone, a link given as a bare URI or without a title). Fields that CASE 1.1 does not define are not kept, and are
listed. ``Serving(stored, root, ...)`` is what the provider answers: the stored package with the fields a provider
sets itself, each object's ``uri`` (this provider's address of it) and, in links to members of the framework, their
``uri`` too; ``lastChangeDateTime`` where the exporter gave none. The whole served package is checked against the
official CFPackage schema when it is imported, so every answer the provider gives from it is valid.
"""

import json
import re
import uuid
from datetime import UTC, datetime
from functools import cache

from jsonschema import Draft201909Validator

from api.config import PROJECT_ROOT
from api.errors import ValidationFailed
from api.models.base import content_id

PACKAGE_SCHEMA = PROJECT_ROOT / "schema" / "case" / "case_v1p1_cfpackage-jsonschema1.json"
UUID_IN = re.compile(r"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})")
UUID = re.compile(UUID_IN.pattern.strip("()"))
SEQUENCE = re.compile(r"-?[0-9]{1,9}")  # within the 32-bit integer CASE's schema allows
# The kinds of definition: each is listed in a package's CFDefinitions, and served at /ims/case/v1p1/<kind>.
DEFINITIONS = ("CFItemTypes", "CFConcepts", "CFSubjects", "CFLicenses", "CFAssociationGroupings")
LINKS_TO = {"CFItemTypeURI": "CFItemTypes", "conceptKeywordsURI": "CFConcepts", "subjectURI": "CFSubjects",
            "licenseURI": "CFLicenses", "CFAssociationGroupingURI": "CFAssociationGroupings",
            "originNodeURI": "CFItems", "destinationNodeURI": "CFItems", "CFItemURI": "CFItems",
            "CFDocumentURI": "CFDocuments"}
MEMBER_KEYS = {"CFItems": "CFPckgItem", "CFAssociations": "CFPckgAssociation", "CFRubrics": "CFRubric",
               "CFItemTypes": "CFItemType", "CFConcepts": "CFConcept", "CFSubjects": "CFSubject",
               "CFLicenses": "CFLicense", "CFAssociationGroupings": "CFAssociationGrouping"}
PLACEHOLDER_ROOT = "https://provider.invalid"
# Links CASE 1.0 exporters write on members of a package, which the package itself implies: not listed as dropped.
IMPLIED = {"CFPckgItem": ("CFDocumentURI",), "CFPckgAssociation": ("CFDocumentURI",),
           "CFPckgDocument": ("CFPackageURI",)}
MAX_TEXT = 10_000  # characters, as a unit document's free text
MAX_DEPTH = 32  # levels of JSON from the package down (a rubric level is 6; an extension may hold a little more)
TEXT_LIMITS = {"title": 1_000, "key": 200, "licenseText": 100_000}  # a title is a line; a licence may be long
CONTROL = re.compile("[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]")


@cache
def _schema() -> dict:
    return json.loads(PACKAGE_SCHEMA.read_text(encoding="utf-8"))


@cache
def _validator() -> Draft201909Validator:
    return Draft201909Validator(_schema(), format_checker=Draft201909Validator.FORMAT_CHECKER)


def _properties(definition: str) -> dict[str, dict]:
    return _schema()["$defs"][definition]["properties"]


def _uuid_text(value) -> str | None:
    """A lower-case UUID from a string that is one (or a URI ending in one), else None."""
    found = UUID_IN.findall(value) if isinstance(value, str) else []
    return str(uuid.UUID(found[-1])) if found else None


def _is_sequence(value) -> bool:
    """A sequenceNumber as exporters write it: a whole number, or one as a string."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, str) and SEQUENCE.fullmatch(value.strip()) is not None)


def _timestamp(value) -> str | None:
    """A timestamp as given if it is an RFC 3339 date-time; one without a time zone (as CASE 1.0 exporters write
    them) or with a space for the T, in UTC; None if it is not a timestamp."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo and "T" in value and value == value.strip():
        return value
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


class _Reader:
    """Reads one package, noting every field not kept."""

    def __init__(self):
        self.dropped: list[str] = []

    def member(self, record, definition: str, path: str) -> dict:
        if not isinstance(record, dict):
            raise ValidationFailed(f"the CASE package is not usable: {path}: not an object", errors={path: [
                "not an object"]})
        known = _properties(definition)
        kept = {}
        for key, value in record.items():
            if value is None or (value == "" and "format" in known.get(key, {})):
                continue  # exporters write null (or, for a date or a URI, "") for a field they do not give
            if key not in known:
                if key not in IMPLIED.get(definition, ()):
                    self.dropped.append(f"{path}.{key}")
                continue
            if key == "sequenceNumber" and not _is_sequence(value):
                self.dropped.append(f"{path}.{key}")  # not a number: read as last, as case_import reads it
                continue
            kept[key] = self.value(key, value, known[key], f"{path}.{key}")
        if isinstance(kept.get("identifier"), str) and (identifier := _uuid_text(kept["identifier"])):
            kept["identifier"] = identifier
        return kept

    def value(self, key: str, value, schema: dict, path: str):
        if schema.get("type") == "string" and isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)  # a code or number written as a JSON number
        if key == "sequenceNumber" and isinstance(value, str):
            return int(value.strip())
        if key in ("lastChangeDateTime",):
            return _timestamp(value) or value
        if key in LINKS_TO:
            return [self.link(v) for v in value] if isinstance(value, list) else self.link(value)
        if key in ("CFRubricCriteria", "CFRubricCriterionLevels") and isinstance(value, list):
            child = "CFRubricCriterion" if key == "CFRubricCriteria" else "CFRubricCriterionLevel"
            return [self.member(v, child, f"{path}[{i}]") for i, v in enumerate(value)]
        return value

    @staticmethod
    def link(value):
        """A link object from a link object (its identifier lower case if it is a UUID, else as given) or a bare URI
        (identified by the UUID it ends in, else by itself)."""
        if isinstance(value, str):
            return {"identifier": _uuid_text(value) or value, "uri": value}
        if isinstance(value, dict) and isinstance(value.get("identifier"), str):
            identifier = value["identifier"]
            return {**value, "identifier": str(uuid.UUID(identifier)) if UUID.fullmatch(identifier) else identifier}
        return value


def stored(package: dict) -> tuple[dict, list[str]]:
    """(the package as stored, the JSON paths of the fields not kept). ``package`` has passed case_import's checks
    (a CFDocument with a UUID identifier, unique identifiers, isChildOf ends that hold)."""
    reader = _Reader()
    result = {"CFDocument": reader.member(package["CFDocument"], "CFPckgDocument", "$.CFDocument")}
    for key in ("CFItems", "CFAssociations", "CFRubrics"):
        result[key] = [reader.member(record, MEMBER_KEYS[key], f"$.{key}[{i}]")
                       for i, record in enumerate(package.get(key) or [])]
    for index, association in enumerate(result["CFAssociations"]):
        if "identifier" not in association:  # CASE requires one; the same package always gets the same
            association["identifier"] = minted_identifier(result["CFDocument"].get("identifier"), index, association)
    definitions = package.get("CFDefinitions") or {}
    if not isinstance(definitions, dict):
        raise ValidationFailed("the CASE package is not usable: $.CFDefinitions: not an object",
                               errors={"$.CFDefinitions": ["not an object"]})
    result["CFDefinitions"] = {key: [reader.member(record, MEMBER_KEYS[key], f"$.CFDefinitions.{key}[{i}]")
                                     for i, record in enumerate(definitions.get(key) or [])]
                               for key in DEFINITIONS if definitions.get(key)}
    reader.dropped += [f"$.CFDefinitions.{key}" for key in definitions if key not in DEFINITIONS]
    reader.dropped += [f"$.{key}" for key in package if key not in (*result, "CFDefinitions")]
    return result, reader.dropped


def minted_identifier(document: str, index: int, association: dict) -> str:
    """The identifier of an association its exporter gave none: derived from its document, place and ends."""
    ends = [str((association.get(k) or {}).get("identifier")) for k in ("originNodeURI", "destinationNodeURI")]
    return str(content_id("case-association", document, index, association.get("associationType"), *ends))


def check_texts(package: dict) -> None:
    """ValidationFailed naming each path of a text that is too long or holds a control character: the limits unit
    documents keep (schema/defs.schema.json), so a framework's texts are stored and served as given or not at all."""
    errors: dict[str, list[str]] = {}

    def walk(value, path: str, key: str, depth: int = 0) -> None:
        if isinstance(value, dict | list) and depth >= MAX_DEPTH:
            errors.setdefault(path, []).append(f"is nested more than {MAX_DEPTH} levels deep")
        elif isinstance(value, dict):
            for name, inner in value.items():
                walk(name, f"{path} (a key)", "key")
                walk(inner, f"{path}.{name}", name, depth + 1)
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                walk(inner, f"{path}[{index}]", key, depth + 1)
        elif isinstance(value, str):
            limit = TEXT_LIMITS.get(key, MAX_TEXT)
            if len(value) > limit:
                errors.setdefault(path, []).append(f"is too long: {len(value)} characters, at most {limit}")
            if CONTROL.search(value):
                errors.setdefault(path, []).append("holds a control character (only tab, line feed and carriage "
                                                   "return are text)")

    walk(package, "$", "")
    if errors:
        shown = dict(list(errors.items())[:50])
        raise ValidationFailed(f"the CASE package is not usable: {', '.join(shown)}", errors=shown)


TOP_LEVEL = ("CFItems", "CFAssociations", "CFRubrics")  # the members a package holds outside CFDefinitions


def members(package: dict):
    """(the provider path a member is served at: its kind, member) for every member of a stored package, document
    excepted."""
    for key in TOP_LEVEL:
        for record in package.get(key, []):
            yield key, record
    for key, records in package.get("CFDefinitions", {}).items():
        for record in records:
            yield key, record


def document_part(package: dict) -> dict:
    """The package's CFDocument with only the members it links to (its licence, subjects...): Serving serves the
    document from this part exactly as from the whole package."""
    linked = set()
    for key, value in package["CFDocument"].items():
        if key in LINKS_TO:
            linked.update(link.get("identifier") for link in (value if isinstance(value, list) else [value])
                          if isinstance(link, dict))
    part: dict = {"CFDocument": package["CFDocument"]}
    for kind, record in members(package):
        if record.get("identifier") in linked:
            holder = part if kind in TOP_LEVEL else part.setdefault("CFDefinitions", {})
            holder.setdefault(kind, []).append(record)
    return part


class Serving:
    """How this provider (at ``root``) serves the members of one stored package: each object with its ``uri``, links
    to members of the framework with theirs, links given by identifier alone with a URI and every link with a title,
    and a ``lastChangeDateTime`` (``changed_at``) where the exporter gave none. Serving one member costs one pass over
    the package to know its members, not the whole package served."""

    def __init__(self, package: dict, root: str, changed_at: datetime):
        self.package, self.root = package, root.rstrip("/")
        self.when = changed_at.replace(tzinfo=UTC, microsecond=0).isoformat()
        document = package["CFDocument"]
        self.own = {record.get("identifier"): kind for kind, record in members(package)}
        self.own[document["identifier"]] = "CFDocuments"
        self.titles = {record.get("identifier"): _title(record) for _, record in members(package)}
        self.titles[document["identifier"]] = document.get("title")

    def find(self, kind: str, identifier: str) -> dict | None:
        """The stored member ``identifier`` of ``kind`` (a provider path: CFItems, CFAssociations, CFItemTypes...)."""
        return next((record for path, record in members(self.package)
                     if path == kind and record.get("identifier") == identifier), None)

    def member(self, record: dict, kind: str) -> dict:
        result = {**record, "uri": f"{self.root}/ims/case/v1p1/{kind}/{record.get('identifier')}"}
        result.setdefault("lastChangeDateTime", self.when)
        for key, value in record.items():
            if key in LINKS_TO:
                result[key] = [self.link(v) for v in value] if isinstance(value, list) else self.link(value)
            elif key in ("CFRubricCriteria", "CFRubricCriterionLevels") and isinstance(value, list):
                result[key] = [self.member(v, key) if isinstance(v, dict) else v for v in value]
        return result

    def link(self, value):
        if not isinstance(value, dict):
            return value
        identifier = value.get("identifier")
        result = dict(value)
        if identifier in self.own:
            result["uri"] = f"{self.root}/ims/case/v1p1/{self.own[identifier]}/{identifier}"
        elif "uri" not in result and isinstance(identifier, str):  # outside the package, given by identifier alone
            result["uri"] = f"urn:uuid:{identifier}" if UUID.fullmatch(identifier) else identifier
        result.setdefault("title", self.titles.get(identifier) or str(identifier))
        return result

    def document(self) -> dict:
        return self.member(self.package["CFDocument"], "CFDocuments")

    def listed_document(self) -> dict:
        """The CFDocument as served alone and listed: with its CFPackageURI."""
        document = self.document()
        identifier = document["identifier"]
        return {**document, "CFPackageURI": {"title": document.get("title") or identifier, "identifier": identifier,
                                             "uri": f"{self.root}/ims/case/v1p1/CFPackages/{identifier}"}}

    def alone(self, kind: str, identifier: str) -> dict:
        """One member as served alone: items and associations name their CFDocument."""
        record = self.member(self.find(kind, identifier), kind)
        if kind in ("CFItems", "CFAssociations"):
            document = self.document()
            record["CFDocumentURI"] = {"title": document.get("title") or document["identifier"],
                                       "identifier": document["identifier"], "uri": document["uri"]}
        return record

    def item_and_associations(self, identifier: str) -> tuple[dict, list[dict]]:
        """An item as served alone, and every association of the package that it is an end of."""
        ends = ("originNodeURI", "destinationNodeURI")
        mine = [self.member(a, "CFAssociations") for a in self.package.get("CFAssociations", [])
                if identifier in ((a.get(end) or {}).get("identifier") for end in ends)]
        return self.alone("CFItems", identifier), mine

    def whole(self) -> dict:
        """The whole CFPackage."""
        package = self.package
        result = {"CFDocument": self.document()}
        for key in ("CFItems", "CFAssociations"):
            result[key] = [self.member(record, key) for record in package.get(key, [])]
        if package.get("CFDefinitions"):
            result["CFDefinitions"] = {key: [self.member(record, key) for record in records]
                                       for key, records in package["CFDefinitions"].items()}
        if package.get("CFRubrics"):
            result["CFRubrics"] = [self.member(record, "CFRubrics") for record in package["CFRubrics"]]
        return result


def _title(record: dict) -> str | None:
    """How a link names a member: its title, else its code and statement, as CASE tools write them."""
    if record.get("title"):
        return record["title"]
    text = record.get("abbreviatedStatement") or record.get("fullStatement")
    code = record.get("humanCodingScheme")
    if isinstance(text, str):
        return f"{code} {text}"[:200] if isinstance(code, str) and code else text[:200]
    return None


def check_servable(package: dict) -> None:
    """ValidationFailed naming each path where the package, as served, would not be a valid CASE 1.1 CFPackage."""
    errors: dict[str, list[str]] = {}
    for error in _validator().iter_errors(Serving(package, PLACEHOLDER_ROOT, datetime(2000, 1, 1)).whole()):
        path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        errors.setdefault(path, []).append(_plain(error))
        if len(errors) >= 50:
            break
    if errors:
        raise ValidationFailed(f"the CASE package is not a valid CASE 1.1 framework: {', '.join(sorted(errors))}",
                               errors=errors)


def _plain(error) -> str:
    """A schema error in a line: what the official schema expects there."""
    message = error.message
    return message if len(message) <= 300 else message[:297] + "..."
