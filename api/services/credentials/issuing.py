"""Issuing and revoking credentials as enrolments become complete and stop being, inside the transaction of the
write that moved them (tallies.changing and enrolment migration call ``follow`` with the events they append).

One credential is live per enrolment (the database's unique index says so), so issuing is idempotent: an enrolment
already holding a live credential keeps it. Taking an enrolment out of complete (a superseding decision, IQA
sampling, a verdict that does not confirm) revokes its credential: the bit at its index in the centre's status list
is set. Completing it again issues a new credential, at a new index."""

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
    Unit,
    UnitVersion,
)
from api.models.base import utcnow
from api.services.common.app_settings import settings
from api.services.credentials import documents, keys, proofs
from api.services.sync.feed import TRACKING_COLUMNS

TYPE, ENROLMENT = TRACKING_COLUMNS.index("type"), TRACKING_COLUMNS.index("enrolment_id")
ATTEMPTS = 8  # random indexes tried before giving up (a list is left for a new one once half full)


def public_root() -> str:
    """The URL credentials name this API by: QUALTRACK_PUBLIC_URL, else the request's host."""
    from flask import has_request_context, request

    configured = settings().public_url
    if configured:
        return configured
    return request.host_url.rstrip("/") if has_request_context() else "http://localhost:8000"


def follow(events: list[tuple]) -> None:
    """Issue a credential for each enrolment the events say became complete, and revoke the live credential of each
    that stopped being (events as feed.tracking_row makes them)."""
    for event in events:
        if event[TYPE] == "enrolment.completed":
            issue(uuid.UUID(event[ENROLMENT]))
        elif event[TYPE] == "enrolment.uncompleted":
            revoke(uuid.UUID(event[ENROLMENT]))


def revoke(enrolment_id: uuid.UUID) -> int:
    """Revoke the enrolment's live credential, if it has one; how many were revoked (0 or 1)."""
    return Credential.update(revoked_at=utcnow()).where(
        (Credential.enrolment == enrolment_id) & Credential.revoked_at.is_null()).execute()


def issue(enrolment_id: uuid.UUID) -> Credential:
    """The enrolment's live credential: the one it holds, or a new one, signed with its centre's current key."""
    live = _live(enrolment_id)
    if live is not None:
        return live
    enrolment = Enrolment.get_by_id(enrolment_id)
    version = (UnitVersion.select(UnitVersion, Unit, AwardingBody).join(Unit).join(AwardingBody)
               .where(UnitVersion.id == enrolment.unit_version_id).get())
    learner, centre = Learner.get_by_id(enrolment.learner_id), Centre.get_by_id(enrolment.centre_id)
    root, issued_at = public_root(), utcnow()
    key = keys.current_key(root, centre.id)
    outcomes = list(LearningOutcome.select(LearningOutcome.number, LearningOutcome.title)
                    .where(LearningOutcome.version == version.id).order_by(LearningOutcome.position).tuples())
    decisions = _decisions_met(enrolment_id)
    for _ in range(ATTEMPTS):
        credential_id, status = new_id(), _free_index(centre.id)
        document = documents.unit_credential(root, credential_id, enrolment, learner, centre, version, outcomes,
                                             decisions, issued_at, status)
        signed = proofs.sign(document, key, documents.xsd_datetime(issued_at))
        signed["proof"] = [signed["proof"]]  # a proof set, as the Open Badges schema has it
        try:
            with savepoint():
                return Credential.create(
                    id=credential_id, centre=centre.id, learner=learner.id, enrolment=enrolment_id,
                    unit_version=version.id, document=json.dumps(signed, ensure_ascii=False),
                    status_list=status[0], status_index=status[1], issued_at=issued_at)
        except IntegrityError:  # another writer took the index, or issued this enrolment's credential
            live = _live(enrolment_id)
            if live is not None:
                return live
    raise RuntimeError(f"no free status list index was found for centre {centre.id}")


def _live(enrolment_id: uuid.UUID) -> Credential | None:
    return Credential.get_or_none((Credential.enrolment == enrolment_id) & Credential.revoked_at.is_null())


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


def _free_index(centre_id: uuid.UUID) -> tuple[int, int]:
    """(list number, index) not yet taken in the centre's status lists, chosen at random (so an index tells nothing
    of when a credential was issued) in its newest list, or in a new list once the newest is half full."""
    newest, taken = (Credential.select(Credential.status_list, fn.COUNT(Credential.id))
                     .where(Credential.centre == centre_id).group_by(Credential.status_list)
                     .order_by(Credential.status_list.desc()).tuples().first()) or (1, 0)
    if taken >= documents.LIST_LENGTH // 2:
        newest += 1
    while True:
        index = random.randrange(documents.LIST_LENGTH)
        if not Credential.select().where((Credential.centre == centre_id) & (Credential.status_list == newest)
                                         & (Credential.status_index == index)).exists():
            return newest, index
