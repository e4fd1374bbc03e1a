"""CASE frameworks kept whole: every framework imported from a CASE package is stored as it came (case_package), with
a lifecycle of its own (draft, published, withdrawn, like units), and a published framework is served by every
/ims/case/v1p1 endpoint from what was stored. Units made from the parts of it that have the unit shape
(case_import) live beside it, linked by CASE identifiers; publishing the framework does not need them complete.

A framework's identity is its CFDocument's identifier, held by one awarding body. Importing a package that differs
from the framework's newest version makes a new draft version (or edits the draft); the same package again changes
nothing. The version served is the newest one that is not a draft, while it is published.
"""

import hashlib
import uuid
from datetime import datetime

from peewee import IntegrityError, fn

from api import db
from api.errors import Conflict, NotFound, ValidationFailed
from api.ids import new_id
from api.models import (
    AssessmentCriterion,
    AwardingBody,
    CaseFramework,
    CaseFrameworkMember,
    CaseFrameworkVersion,
    LearningOutcome,
    Qualification,
    Unit,
    UnitVersion,
)
from api.models.base import iso_utc, utcnow
from api.services.common import audit
from api.services.common.access import Principal, can_write_content, require, require_authenticated
from api.services.interop import case_package, case_standards
from api.services.interop.case import suite_id
from api.services.sync import feed


def _hash(package: dict) -> str:
    """The package's digest, as its stored JSON text would be (JSONTextField: orjson, or json for integers beyond
    64 bits)."""
    return hashlib.sha256(CaseFrameworkVersion.package.db_value(package).encode()).hexdigest()


# A version's columns but its package: what lifecycle and listing need. A row read so has no package; it is read
# (_package) only to serve or compare members, and rows are saved with only= the fields changed.
WITHOUT_PACKAGE = [f for f in CaseFrameworkVersion._meta.sorted_fields if f.name != "package"]


def _newest(framework_id, *, released_only: bool = False) -> CaseFrameworkVersion | None:
    query = CaseFrameworkVersion.select(*WITHOUT_PACKAGE).where(CaseFrameworkVersion.framework == framework_id)
    if released_only:
        query = query.where(CaseFrameworkVersion.status != "draft")
    return query.order_by(CaseFrameworkVersion.number.desc()).first()


def store(principal: Principal, owner: AwardingBody, package: dict, units: list[dict]) -> dict:
    """Inside the caller's transaction: keep ``package`` (as case_package.stored gives it) as the newest version of
    its framework, which names ``units`` ([{unit_id, code}], the units made from it); {identifier, version, status,
    outcome: created | updated | unchanged}."""
    require(can_write_content(principal, owner.id),
            "frameworks are imported by their awarding body's authors and its content:write clients")
    _check_unique_members(package)
    case_package.check_texts(package)
    case_package.check_servable(package)
    identifier = uuid.UUID(package["CFDocument"]["identifier"])
    framework = CaseFramework.get_or_none(CaseFramework.id == identifier)
    if framework is None:
        try:
            with db.savepoint():
                framework = CaseFramework.create(id=identifier, owner=owner.id)
        except IntegrityError:
            raise Conflict(f"framework {identifier} was created by another request just now: retry") from None
    elif framework.owner_id != owner.id:
        holder = AwardingBody.get_by_id(framework.owner_id)
        raise Conflict(f"framework {identifier} (its CFDocument's identifier) is held by {holder.name}: an awarding "
                       "body imports only its own frameworks")
    _check_not_ours(package, owner)
    _check_not_standards(package)
    _lock(framework)
    digest, newest = _hash(package), _newest(framework.id)
    title = str(package["CFDocument"].get("title") or "")
    if newest is not None and newest.package_hash == digest:
        return _outcome(newest, "unchanged")
    if newest is not None and newest.status == "draft":
        newest.package, newest.package_hash, newest.title, newest.updated_at = package, digest, title, utcnow()
        newest.units, newest.document = units, case_package.document_part(package)
        newest.save(only=[CaseFrameworkVersion.package, CaseFrameworkVersion.package_hash, CaseFrameworkVersion.title,
                          CaseFrameworkVersion.updated_at, CaseFrameworkVersion.units, CaseFrameworkVersion.document])
        outcome = "updated"
    else:
        newest = CaseFrameworkVersion.create(
            id=new_id(), framework=framework.id, number=(newest.number + 1) if newest else 1, status="draft",
            title=title, package=package, document=case_package.document_part(package), package_hash=digest,
            units=units)
        outcome = "created"
    _index(newest, package)
    _log(principal, "created" if outcome == "created" else "draft_edited", framework, newest)
    return _outcome(newest, outcome)


def _log(principal: Principal, action: str, framework: CaseFramework, version: CaseFrameworkVersion) -> None:
    """Audit a change of the framework's ``version`` and append it to the change feed (as the last write)."""
    audit.record(principal, f"framework.{action}", "case_framework", framework.id,
                 after={"version": version.number, "status": version.status})
    feed.record_framework(action, version, framework.owner_id, audit.actor_of(principal))


def _outcome(version: CaseFrameworkVersion, outcome: str) -> dict:
    return {"identifier": str(version.framework_id), "version": version.number, "status": version.status,
            "outcome": outcome, "href": f"/v1/frameworks/{version.framework_id}"}


def _lock(framework: CaseFramework) -> None:
    """Hold the framework until the transaction ends, so two imports or lifecycle changes of it take turns."""
    if not db.is_sqlite():
        db.fetch_rows("SELECT 1 FROM case_framework WHERE id = {p} FOR UPDATE", [framework.id.hex])


def _check_unique_members(package: dict) -> None:
    """Two members of one kind with one identifier would be one object to the provider: refused at the second."""
    seen: dict = {}
    errors: dict[str, list[str]] = {}
    for key, records in [("CFRubrics", package.get("CFRubrics", []))] + list(package.get("CFDefinitions", {}).items()):
        for index, record in enumerate(records):
            path = f"$.{key}[{index}]" if key == "CFRubrics" else f"$.CFDefinitions.{key}[{index}]"
            identifier = record.get("identifier")
            if (key, identifier) in seen:
                errors[f"{path}.identifier"] = [f"{identifier} is also the identifier of {seen[(key, identifier)]}"]
            seen[(key, identifier)] = path
    if errors:
        raise ValidationFailed(f"the CASE package is not usable: {', '.join(errors)}", errors=errors)


def _check_not_ours(package: dict, owner: AwardingBody) -> None:
    """Refuse a framework that would stand in for content another body publishes here: a CFDocument identifier
    that is a body's unit suite or a qualification, or an item identifier that is another body's unit, outcome or
    criterion, or an item of another body's framework (the provider serves a framework kept whole before what it
    builds from units, and finds an item by its identifier)."""
    document = package["CFDocument"]["identifier"]
    suites = {suite_id(body): body.name for body in AwardingBody.select()}
    if document in suites or Qualification.get_or_none(Qualification.id == document) is not None:
        raise Conflict(f"{document} is the CASE identifier of {suites.get(document, 'a qualification')} on this "
                       "provider: a framework kept here needs an identifier of its own")
    items = [record["identifier"] for record in package.get("CFItems", [])]
    _check_not_framed(package, owner)
    for start in range(0, len(items), 500):
        batch = [uuid.UUID(i) for i in items[start:start + 500]]
        others = Unit.owner != owner.id
        clash = (Unit.select(Unit.id).where(Unit.id.in_(batch), others).first()
                 or LearningOutcome.select(LearningOutcome.id).join(UnitVersion).join(Unit)
                 .where(LearningOutcome.id.in_(batch), others).first()
                 or AssessmentCriterion.select(AssessmentCriterion.identity).join(UnitVersion).join(Unit)
                 .where(AssessmentCriterion.identity.in_(batch), others).first())
        if clash is not None:
            held = getattr(clash, "identity", None) or clash.id
            raise Conflict(f"CFItem {held} is content another awarding body publishes here: a framework holds "
                           "items of its own")


def _check_not_standards(package: dict) -> None:
    """Refuse a document, item or association identifier that is an apprenticeship standard version's, or one of its
    items or associations (case_standards): the provider finds those first."""
    members = [str(record.get("identifier")) for kind in ("CFItems", "CFAssociations")
               for record in package.get(kind, [])]
    held = case_standards.first_held([package["CFDocument"]["identifier"], *members])
    if held is not None:
        raise Conflict(f"{held} is a CASE identifier of an apprenticeship standard on this provider: a framework kept "
                       "here needs identifiers of its own")


def _check_not_framed(package: dict, owner: AwardingBody) -> None:
    """Refuse items and associations that another body's framework holds: the provider finds them by identifier.
    (Definitions, such as a licence, may be shared.)"""
    for kind in ("CFItems", "CFAssociations"):
        identifiers = [str(record.get("identifier")) for record in package.get(kind, [])]
        for start in range(0, len(identifiers), 500):
            framed = (CaseFrameworkMember.select(CaseFrameworkMember.identifier).join(CaseFrameworkVersion)
                      .join(CaseFramework).where(CaseFrameworkMember.identifier.in_(identifiers[start:start + 500]),
                                                 CaseFrameworkMember.kind == kind, CaseFramework.owner != owner.id)
                      .first())
            if framed is not None:
                raise Conflict(f"{kind[2:-1]} {framed.identifier} belongs to another awarding body's framework "
                               "here: a framework holds members of its own")


def _index(version: CaseFrameworkVersion, package: dict) -> None:
    CaseFrameworkMember.delete().where(CaseFrameworkMember.version == version.id).execute()
    rows = [{"version": version.id, "kind": kind, "identifier": str(record.get("identifier")), "position": position}
            for position, (kind, record) in enumerate(case_package.members(package))]
    for start in range(0, len(rows), 500):
        CaseFrameworkMember.insert_many(rows[start:start + 500]).execute()


def _visible(principal: Principal, framework_id: uuid.UUID) -> CaseFramework:
    """The framework, if the principal may see it: everyone sees a served framework, and only those who may change
    it one that is not served (NotFound otherwise, as for one that does not exist)."""
    framework = CaseFramework.get_or_none(CaseFramework.id == framework_id)
    if framework is None or not (can_write_content(principal, framework.owner_id) or _served(framework.id)):
        raise NotFound(f"no framework {framework_id} visible to you")
    return framework


def _writable(principal: Principal, framework_id: uuid.UUID) -> CaseFramework:
    """The framework, locked for this transaction, if the principal may change it."""
    require_authenticated(principal)
    framework = _visible(principal, framework_id)
    require(can_write_content(principal, framework.owner_id),
            "frameworks are changed by their awarding body's authors and its content:write clients")
    _lock(framework)
    return framework


def publish(principal: Principal, framework_id: uuid.UUID) -> dict:
    """Publish the framework's draft: from now on it is the version served, and frozen. Publishing with no draft
    while the newest version is published changes nothing."""
    framework = _writable(principal, framework_id)
    newest = _newest(framework.id)
    if newest.status == "published":
        return framework_body(framework, changed=False)
    if newest.status != "draft":
        raise Conflict(f"framework {framework.id} has no draft to publish: import its package again to make one")
    newest.status, newest.published_at, newest.updated_at = "published", utcnow(), utcnow()
    newest.save(only=[CaseFrameworkVersion.status, CaseFrameworkVersion.published_at, CaseFrameworkVersion.updated_at])
    _log(principal, "published", framework, newest)
    return framework_body(framework)


def withdraw(principal: Principal, framework_id: uuid.UUID) -> dict:
    """Withdraw the framework's released version: it is served no more. Withdrawing again changes nothing."""
    framework = _writable(principal, framework_id)
    released = _newest(framework.id, released_only=True)
    if released is None:
        raise Conflict(f"framework {framework.id} has no released version to withdraw")
    if released.status == "published":
        released.status, released.withdrawn_at, released.updated_at = "withdrawn", utcnow(), utcnow()
        released.save(only=[CaseFrameworkVersion.status, CaseFrameworkVersion.withdrawn_at,
                            CaseFrameworkVersion.updated_at])
        _log(principal, "withdrawn", framework, released)
        return framework_body(framework)
    return framework_body(framework, changed=False)


def get_framework(principal: Principal, framework_id: uuid.UUID) -> dict:
    """A framework: its versions, and the one served if any; a framework never published is seen only by those who
    may change it."""
    return framework_body(_visible(principal, framework_id))


def framework_body(framework: CaseFramework, *, changed: bool = True) -> dict:
    """A framework as /v1 shows it: its versions (without their packages), the units made from its newest one."""
    v = CaseFrameworkVersion
    versions = list(v.select(v.number, v.status, v.title, v.created_at, v.updated_at, v.published_at, v.withdrawn_at,
                             v.units).where(v.framework == framework.id).order_by(v.number))
    released = [version for version in versions if version.status != "draft"]
    served = released[-1] if released and released[-1].status == "published" else None
    owner = AwardingBody.get_by_id(framework.owner_id)
    return {
        "id": str(framework.id), "owner": {"slug": owner.slug, "name": owner.name}, "title": versions[-1].title,
        "status": versions[-1].status, "version": versions[-1].number,
        "served_version": served.number if served else None, "changed": changed,
        "units": [{**unit, "href": f"/v1/units/{unit['unit_id']}"} for unit in versions[-1].units or []],
        "versions": [{"number": v.number, "status": v.status, "title": v.title, "created_at": iso_utc(v.created_at),
                      "updated_at": iso_utc(v.updated_at), "published_at": iso_utc(v.published_at),
                      "withdrawn_at": iso_utc(v.withdrawn_at)} for v in versions],
        "case": {"identifier": str(framework.id), "uri": f"/ims/case/v1p1/CFPackages/{framework.id}"},
        "href": f"/v1/frameworks/{framework.id}",
    }


# -- the provider's side -----------------------------------------------------------------------------------------------

def _served(framework_id) -> CaseFrameworkVersion | None:
    """The version served: the newest that is not a draft, if it is published."""
    released = _newest(framework_id, released_only=True)
    return released if released is not None and released.status == "published" else None


def served_versions() -> list[CaseFrameworkVersion]:
    """The version served of every published framework, by title."""
    newest = (CaseFrameworkVersion.select(CaseFrameworkVersion.framework.alias("framework_id"),
                                          fn.MAX(CaseFrameworkVersion.number).alias("number"))
              .where(CaseFrameworkVersion.status != "draft").group_by(CaseFrameworkVersion.framework))
    served = (CaseFrameworkVersion.select(*WITHOUT_PACKAGE)
              .join(newest, on=((CaseFrameworkVersion.framework == newest.c.framework_id)
                                & (CaseFrameworkVersion.number == newest.c.number)))
              .where(CaseFrameworkVersion.status == "published"))
    return sorted(served, key=lambda v: (v.title, str(v.framework_id)))


def served_version(framework_id: str) -> CaseFrameworkVersion | None:
    try:
        return _served(uuid.UUID(framework_id))
    except ValueError:
        return None


def holding(kind: str, identifier: str) -> CaseFrameworkVersion | None:
    """The served version holding the member ``identifier`` of ``kind`` (a provider path: CFItems, ...), if any."""
    holders = (CaseFrameworkVersion.select(*WITHOUT_PACKAGE).join(
        CaseFrameworkMember, on=(CaseFrameworkMember.version == CaseFrameworkVersion.id))
        .where(CaseFrameworkMember.identifier == identifier, CaseFrameworkMember.kind == kind))
    for version in holders:
        served = _served(version.framework_id)
        if served is not None and served.id == version.id:
            return version
    return None


def changed_at(version: CaseFrameworkVersion) -> datetime:
    return version.published_at or version.updated_at


def _package(version: CaseFrameworkVersion) -> dict:
    """The version's whole package (a version row is read without it)."""
    return (CaseFrameworkVersion.select(CaseFrameworkVersion.package)
            .where(CaseFrameworkVersion.id == version.id).tuples().get()[0])


def _serving(version: CaseFrameworkVersion, root: str) -> case_package.Serving:
    return case_package.Serving(_package(version), root, changed_at(version))


def package_of(version: CaseFrameworkVersion, root: str) -> dict:
    """The CFPackage of a served version, as this provider (at ``root``) serves it."""
    return _serving(version, root).whole()


def document_record(version: CaseFrameworkVersion, root: str) -> dict:
    """The CFDocument of a served version, with its CFPackageURI (served from the version's document part: listing
    the frameworks reads no package)."""
    return case_package.Serving(version.document, root, changed_at(version)).listed_document()


def member_record(version: CaseFrameworkVersion, kind: str, identifier: str, root: str) -> dict:
    """One member of a served version as served alone: items and associations name their CFDocument."""
    return _serving(version, root).alone(kind, identifier)


def item_associations(version: CaseFrameworkVersion, identifier: str, root: str) -> tuple[dict, list[dict]]:
    """A served item (as served alone), and every association of its framework that it is an end of."""
    return _serving(version, root).item_and_associations(identifier)


def diff(principal: Principal, framework_id: uuid.UUID, a: int, b: int) -> dict:
    """What changed from version ``a`` to version ``b`` of a framework, member by member (matched by identifier):
    added, removed, and changed with the names of the fields that differ; the document's changed fields too."""
    framework = _visible(principal, framework_id)
    versions = {v.number: v for v in CaseFrameworkVersion.select().where(
        CaseFrameworkVersion.framework == framework.id, CaseFrameworkVersion.number.in_([a, b]))}
    missing = [n for n in (a, b) if n not in versions]
    if missing:
        raise NotFound(f"framework {framework.id} has no version {missing[0]}")
    old, new = versions[a].package, versions[b].package
    result = {"framework_id": str(framework.id), "from": a, "to": b,
              "document": sorted(_changed_fields(old["CFDocument"], new["CFDocument"]))}
    for kind in KINDS:
        before, after = _by_identifier(old, kind), _by_identifier(new, kind)
        result[kind] = {"added": [i for i in after if i not in before],
                        "removed": [i for i in before if i not in after],
                        "changed": [{"identifier": i, "fields": sorted(_changed_fields(before[i], after[i]))}
                                    for i in after if i in before and before[i] != after[i]]}
    return result


KINDS = ("CFItems", "CFAssociations", *case_package.DEFINITIONS, "CFRubrics")  # the members, by kind


def _by_identifier(package: dict, kind: str) -> dict:
    return {record.get("identifier"): record for path, record in case_package.members(package) if path == kind}


def _changed_fields(before: dict, after: dict) -> set[str]:
    return {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
