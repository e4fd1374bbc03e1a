"""Issuing and revoking credentials as enrolments become complete and stop being, and as learners meet a
qualification's rules of combination and stop meeting them, inside the transaction of the write that moved them
(tallies.changing and enrolment migration call ``follow`` with the events they append).

One credential is live per enrolment, and per learner and qualification (the database's unique indexes say so), so
issuing is idempotent: whoever already holds a live credential keeps it. Taking an enrolment out of complete (a
superseding decision, IQA sampling, a verdict that does not confirm) revokes its credential, and the credential of
each qualification that no longer holds: the bit at its index in the centre's status list is set. Achieving it
again issues a new credential, at a new index."""

import json
import random
import uuid

from peewee import IntegrityError, fn

from api.db import savepoint
from api.ids import new_id
from api.models import (
    AssessmentCriterion,
    AwardingBody,
    Centre,
    Credential,
    Decision,
    Enrolment,
    Learner,
    LearningOutcome,
    Qualification,
    Unit,
    UnitVersion,
)
from api.models.base import utcnow
from api.services.common.app_settings import settings
from api.services.credentials import documents, keys, proofs
from api.services.sync.feed import TRACKING_COLUMNS
from api.services.tracking.progress import qualification_document
from api.services.tracking.progress_events import learner_units

TYPE, LEARNER, ENROLMENT, SUBJECT = (TRACKING_COLUMNS.index(column)
                                     for column in ("type", "learner_id", "enrolment_id", "subject_id"))
ATTEMPTS = 8  # random indexes tried before giving up (a list is left for a new one once half full)


def public_root() -> str:
    """The URL credentials name this API by: QUALTRACK_PUBLIC_URL, else the request's host."""
    from flask import has_request_context, request

    configured = settings().public_url
    if configured:
        return configured
    return request.host_url.rstrip("/") if has_request_context() else "http://localhost:8000"


def follow(events: list[tuple]) -> None:
    """Issue a credential for each enrolment the events say became complete and each qualification a learner
    achieved, and revoke the live credential of each that stopped being (events as feed.tracking_row makes them, in
    the order they were appended: a unit's credential comes before the qualification's that names it)."""
    for event in events:
        kind = event[TYPE]
        if kind == "enrolment.completed":
            issue(uuid.UUID(event[ENROLMENT]))
        elif kind == "enrolment.uncompleted":
            revoke(uuid.UUID(event[ENROLMENT]))
        elif kind == "qualification.completed":
            issue_qualification(uuid.UUID(event[LEARNER]), uuid.UUID(event[SUBJECT]))
        elif kind == "qualification.uncompleted":
            revoke_qualification(uuid.UUID(event[LEARNER]), uuid.UUID(event[SUBJECT]))


def revoke(enrolment_id: uuid.UUID) -> int:
    """Revoke the enrolment's live credential, if it has one; how many were revoked (0 or 1)."""
    return Credential.update(revoked_at=utcnow()).where(
        (Credential.enrolment == enrolment_id) & Credential.revoked_at.is_null()).execute()


def revoke_qualification(learner_id: uuid.UUID, qualification_id: uuid.UUID) -> int:
    """Revoke the learner's live credential for the qualification, if they hold one; how many (0 or 1)."""
    return Credential.update(revoked_at=utcnow()).where(
        (Credential.learner == learner_id) & (Credential.qualification == qualification_id)
        & Credential.revoked_at.is_null()).execute()


def issue(enrolment_id: uuid.UUID) -> Credential:
    """The enrolment's live credential: the one it holds, or a new one, signed with the current key of its centre, or
    of the unit's awarding body where that issues its own."""
    def live():
        return Credential.get_or_none((Credential.enrolment == enrolment_id) & Credential.revoked_at.is_null())

    found = live()
    if found is not None:
        return found
    enrolment = Enrolment.get_by_id(enrolment_id)
    version = (UnitVersion.select(UnitVersion, Unit, AwardingBody).join(Unit).join(AwardingBody)
               .where(UnitVersion.id == enrolment.unit_version_id).get())
    learner, centre = Learner.get_by_id(enrolment.learner_id), Centre.get_by_id(enrolment.centre_id)
    outcomes = list(LearningOutcome.select(LearningOutcome.number, LearningOutcome.title)
                    .where(LearningOutcome.version == version.id).order_by(LearningOutcome.position).tuples())
    decisions = _decisions_met(enrolment_id)

    issuer = keys.issuer_for(version.unit.owner, centre)

    def document(root, credential_id, issued_at, status):
        return documents.unit_credential(root, credential_id, enrolment, learner, issuer, version, outcomes,
                                         decisions, issued_at, status)

    return _signed_and_stored(issuer, centre, learner, document, live, enrolment=enrolment_id,
                              unit_version=version.id)


def issue_qualification(learner_id: uuid.UUID, qualification_id: uuid.UUID) -> Credential:
    """The learner's live credential for the qualification: the one they hold, or a new one signed by their centre
    (or the qualification's awarding body, where that issues its own), naming as evidence the live credentials of
    the units that met its rules of combination."""
    def live():
        return Credential.get_or_none((Credential.learner == learner_id) & Credential.revoked_at.is_null()
                                      & (Credential.qualification == qualification_id))

    found = live()
    if found is not None:
        return found
    qualification = (Qualification.select(Qualification, AwardingBody).join(AwardingBody)
                     .where(Qualification.id == qualification_id).get())
    learner = Learner.get_by_id(learner_id)
    centre = Centre.get_by_id(learner.centre_id)
    progress = qualification_document(qualification, learner_units(learner_id))
    completed = [unit["enrolment_id"] for group in progress["groups"] for unit in group["units"] if unit["complete"]]
    members = [uuid.UUID(unit["unit_id"]) for group in progress["groups"] for unit in group["units"]]
    codes = {str(unit_id): code for unit_id, code in Unit.select(Unit.id, Unit.code).where(Unit.id.in_(members))
             .tuples()}
    units = list(Credential.select(Credential.id, Unit.code, UnitVersion.title)
                 .join(UnitVersion, on=Credential.unit_version == UnitVersion.id).join(Unit)
                 .where(Credential.enrolment.in_(completed) & Credential.revoked_at.is_null())
                 .order_by(Unit.code).tuples())

    issuer = keys.issuer_for(qualification.owner, centre)

    def document(root, credential_id, issued_at, status):
        return documents.qualification_credential(root, credential_id, qualification, learner, issuer, progress,
                                                  codes, units, issued_at, status)

    return _signed_and_stored(issuer, centre, learner, document, live, qualification=qualification.id)


def _signed_and_stored(issuer: keys.Issuer, centre: Centre, learner: Learner, document, live,
                       **subject) -> Credential:
    """A new credential to a learner of ``centre``, made by ``document(root, id, issued_at, (list, index))``, signed
    with the issuer's current key and stored with ``subject`` (its enrolment and unit version, or its qualification)
    at a free index of the issuer's status list; if another writer stored the live one meanwhile, that one
    (``live()``)."""
    root, issued_at = public_root(), utcnow()
    key = keys.current_key(root, issuer)
    for _ in range(ATTEMPTS):
        credential_id, status = new_id(), _free_index(issuer)
        signed = proofs.sign(document(root, credential_id, issued_at, status), key,
                             documents.xsd_datetime(issued_at))
        signed["proof"] = [signed["proof"]]  # a proof set, as the Open Badges schema has it
        try:
            with savepoint():
                return Credential.create(
                    id=credential_id, centre=centre.id, learner=learner.id, issued_at=issued_at,
                    issuer_body=issuer.id if issuer.body else None, document=json.dumps(signed, ensure_ascii=False),
                    status_list=status[0], status_index=status[1], **subject)
        except IntegrityError:  # another writer took the index, or issued this credential
            found = live()
            if found is not None:
                return found
    raise RuntimeError(f"no free status list index was found for issuer {issuer.id}")


def listed_by(issuer: keys.Issuer):
    """The condition a credential in the issuer's status lists meets."""
    if issuer.body:
        return Credential.issuer_body == issuer.id
    return (Credential.centre == issuer.id) & Credential.issuer_body.is_null()


def _decisions_met(enrolment_id: uuid.UUID) -> list[tuple[str, str]]:
    """(decision id, criterion number) of the latest decision on each of the enrolment's criteria, where it is met,
    in the unit's order."""
    latest = (Decision.select(Decision.criterion, fn.MAX(Decision.sequence).alias("last"))
              .where(Decision.enrolment == enrolment_id).group_by(Decision.criterion).alias("latest"))
    rows = (Decision.select(Decision.id, AssessmentCriterion.number)
            .join(latest, on=(Decision.criterion == latest.c.criterion_id) & (Decision.sequence == latest.c.last))
            .switch(Decision).join(AssessmentCriterion)
            .where((Decision.enrolment == enrolment_id) & (Decision.outcome == "met"))
            .order_by(AssessmentCriterion.position).tuples())
    return [(str(decision_id), number) for decision_id, number in rows]


def _free_index(issuer: keys.Issuer) -> tuple[int, int]:
    """(list number, index) not yet taken in the issuer's status lists, chosen at random (so an index tells nothing
    of when a credential was issued) in its newest list, or in a new list once the newest is half full."""
    newest, taken = (Credential.select(Credential.status_list, fn.COUNT(Credential.id))
                     .where(listed_by(issuer)).group_by(Credential.status_list)
                     .order_by(Credential.status_list.desc()).tuples().first()) or (1, 0)
    if taken >= documents.LIST_LENGTH // 2:
        newest += 1
    while True:
        index = random.randrange(documents.LIST_LENGTH)
        if not Credential.select().where(listed_by(issuer) & (Credential.status_list == newest)
                                         & (Credential.status_index == index)).exists():
            return newest, index
