"""The unit lifecycle for authors and sync clients: save a draft (a whole unit document), publish it, withdraw it.

- A draft is edited in place; released versions never are. Saving a document identical to the draft (or, with no
  draft, to the latest version) writes nothing and answers with that version: a sync can be re-run safely.
- Publishing checks the draft is complete (outcomes, and criteria under each) and freezes it: its document is
  rendered once more, for its new status, and never again. The previous released version stops being the head;
  enrolments pinned to it keep working.
- Withdrawing keeps every enrolment pinned to the version working; nobody new can enrol on it.
- If-Match (the ETag of the version being changed) makes each call conditional: a stale one is a 412.
Every change appends to the change feed (api.services.sync.feed) and the audit log.
"""

import uuid
from dataclasses import dataclass
from pathlib import Path

from peewee import IntegrityError

from api import db
from api.errors import Conflict, NotFound, ValidationFailed
from api.models import AssessmentCriterion, AwardingBody, LearningOutcome, Unit, UnitVersion
from api.models.base import content_id, utcnow
from api.services.common import audit
from api.services.common.access import Principal, can_write_content, require, require_authenticated, visible_unit
from api.services.common.preconditions import check_if_match
from api.services.content.data_files import ContentFile, check_document, source_hash
from api.services.content.references import check_references
from api.services.content.versions import edit_draft, new_version, render_version
from api.services.sync import feed


@dataclass
class Saved:
    """What a lifecycle call did: the version it leaves as the answer, and whether it created or changed one."""

    version: UnitVersion
    created: bool = False
    changed: bool = True


def _heads(unit_id) -> tuple[UnitVersion | None, UnitVersion | None]:
    heads = {("draft" if v.status == "draft" else "released"): v
             for v in UnitVersion.select().where(UnitVersion.unit == unit_id, UnitVersion.is_head)}
    return heads.get("draft"), heads.get("released")


def _lock(unit: Unit) -> None:
    """Queue this transaction behind any other changing the same unit (PostgreSQL: the unit row, FOR UPDATE, held
    until commit; the heads read after it are current). SQLite needs nothing: one writer holds the whole database."""
    db.for_update(Unit.select(Unit.id).where(Unit.id == unit.id)).get()


def _check_writer(principal: Principal, owner_id) -> None:
    """Forbidden unless the principal may change this body's content."""
    require(can_write_content(principal, owner_id),
            "units are changed by their awarding body's authors and its content:write clients")


def _writable_unit(principal: Principal, unit_id: uuid.UUID) -> Unit:
    """The unit, locked for this transaction, if the principal may change it; NotFound if they cannot see it."""
    require_authenticated(principal)
    unit = visible_unit(principal, unit_id)
    _check_writer(principal, unit.owner_id)
    _lock(unit)
    return unit


def _existing_unit(principal: Principal, unit_id: uuid.UUID) -> Unit | None:
    """The unit a draft is saved to, locked and checked writable; None if there is none, or none the principal may
    see (a hidden unit is answered as a new one: its document is checked, then the owner's write rule refuses it)."""
    try:
        return _writable_unit(principal, unit_id)
    except NotFound:
        return None


def _validated(document, unit_id: uuid.UUID) -> dict:
    """The document checked as a data file would be (schema, numbering, references); ValidationFailed naming every
    problem by JSON path."""
    content = check_document(ContentFile(Path("request body"), document))
    if not content.problems:
        owner, code = document.get("owner"), document.get("code")
        if content.kind != "unit":
            content.problem("$.kind", "must be 'unit'")
        elif content.document["status"] != "draft":
            content.problem("$.status", "must be 'draft': save the draft here, then POST .../publish")
        elif content_id("unit", owner, code) != unit_id:
            content.problem("$.code", f"owner {owner!r} and code {code!r} name another unit than {unit_id}: PUT to "
                                      f"/v1/units/{content_id('unit', owner, code)}/draft")
        else:
            check_references(content, {})
    if content.problems:
        errors: dict[str, list[str]] = {}
        for problem in content.problems:
            errors.setdefault(problem.path, []).append(problem.message)
        raise ValidationFailed(f"the unit document is not valid: {', '.join(sorted(errors))}", errors=errors)
    return document


def save_draft(principal: Principal, unit_id: uuid.UUID, document, if_match: str | None) -> Saved:
    """Make ``document`` the unit's draft: create the unit or a new draft version, edit the draft, or nothing when
    it is already the draft (or, without a draft, the latest version)."""
    unit = _existing_unit(principal, unit_id)
    document = _validated(document, unit_id)
    owner = AwardingBody.get(AwardingBody.slug == document["owner"])
    if unit is None:
        _check_writer(principal, owner.id)
    digest = source_hash(document)
    draft, _released = _heads(unit_id) if unit else (None, None)
    actor = audit.actor_of(principal)
    if draft is not None:
        if if_match:
            check_if_match(if_match, draft.etag)
        if draft.source_hash == digest:
            return Saved(draft, changed=False)
        edit_draft(draft, document, digest)
        render_version(draft)
        _log(principal, "draft_edited", draft, actor)
        return Saved(draft)
    latest = None if unit is None else (UnitVersion.select().where(UnitVersion.unit == unit_id)
                                        .order_by(UnitVersion.number.desc()).first())
    if if_match and latest is not None:
        check_if_match(if_match, latest.etag)
    if latest is not None and latest.source_hash == digest:
        return Saved(latest, changed=False)
    if unit is None:
        try:
            with db.savepoint():
                unit = Unit.create(id=unit_id, owner=owner.id, code=document["code"])
        except IntegrityError:
            raise Conflict(f"unit {document['code']} was created by another request just now: retry") from None
    version = new_version(unit, document, digest, "draft")
    render_version(version)
    _log(principal, "created", version, actor)
    return Saved(version, created=True)


def completeness_problems(version: UnitVersion) -> dict[str, list[str]]:
    """Why a version cannot be published: {JSON path: [reasons]}; empty when it can."""
    outcomes = list(LearningOutcome.select().where(LearningOutcome.version == version.id)
                    .order_by(LearningOutcome.position))
    if not outcomes:
        return {"$.learning_outcomes": ["a unit needs at least one learning outcome"]}
    counts = {o: 0 for o in (x.id for x in outcomes)}
    for (outcome_id,) in AssessmentCriterion.select(AssessmentCriterion.outcome).where(
            AssessmentCriterion.version == version.id).tuples():
        counts[outcome_id] = counts.get(outcome_id, 0) + 1
    return {f"$.learning_outcomes[{i}].criteria": [f"learning outcome {o.number} has no assessment criteria"]
            for i, o in enumerate(outcomes) if not counts.get(o.id)}


def publish(principal: Principal, unit_id: uuid.UUID, if_match: str | None) -> Saved:
    """Publish the unit's draft (complete, frozen from now on). Publishing again with no draft is a no-op."""
    unit = _writable_unit(principal, unit_id)
    draft, released = _heads(unit.id)
    if draft is None:
        if released is not None and released.status == "published":
            return Saved(released, changed=False)
        raise Conflict(f"unit {unit.code} has no draft to publish: PUT a document to /v1/units/{unit.id}/draft")
    if if_match:
        check_if_match(if_match, draft.etag)
    problems = completeness_problems(draft)
    if problems:
        reasons = "; ".join(m for messages in problems.values() for m in messages)
        raise ValidationFailed(f"{unit.code} version {draft.number} cannot be published: {reasons}", errors=problems)
    if released is not None:
        UnitVersion.update(is_head=False).where(UnitVersion.id == released.id).execute()
    draft.status, draft.published_at, draft.withdrawn_at = "published", utcnow(), None
    draft.save()
    render_version(draft)
    _log(principal, "published", draft, audit.actor_of(principal))
    return Saved(draft)


def withdraw(principal: Principal, unit_id: uuid.UUID, if_match: str | None) -> Saved:
    """Withdraw the unit's released version. Enrolments pinned to it keep working; withdrawing again is a no-op."""
    unit = _writable_unit(principal, unit_id)
    _draft, released = _heads(unit.id)
    if released is None:
        raise Conflict(f"unit {unit.code} has no released version to withdraw")
    if released.status == "withdrawn":
        return Saved(released, changed=False)
    if if_match:
        check_if_match(if_match, released.etag)
    released.status, released.withdrawn_at = "withdrawn", utcnow()
    released.save()
    render_version(released)
    _log(principal, "withdrawn", released, audit.actor_of(principal))
    return Saved(released)


def _log(principal: Principal, action: str, version: UnitVersion, actor: str) -> None:
    audit.record(principal, f"unit.{action}", "unit_version", version.id,
                 after={"unit_id": str(version.unit_id), "version": version.number, "status": version.status})
    feed.record(action, version, actor)
