"""Reading credentials. A credential, its issuer's profile and the issuer's status lists are public by id (a
verifier needs no account); the list of a learner's credentials is for whoever may read the learner's records."""

import json
import uuid

from api.errors import NotFound
from api.models import Credential
from api.models.base import iso_utc, utcnow
from api.services.common.access import Principal, visible_learner, visible_learner_records
from api.services.credentials import documents, keys, proofs
from api.services.credentials.issuing import listed_by, public_root

MAX_LIST = 2**31 - 1  # list numbers are stored as 32-bit integers: a larger one names no list


def credential_body(credential: Credential) -> dict:
    """A credential as the learner's list shows it: its record (what it is for: a unit, through its enrolment, or a
    qualification), and the signed credential itself."""
    unit = credential.enrolment_id is not None
    return {"id": str(credential.id), "href": f"/v1/credentials/{credential.id}",
            "achievement": "unit" if unit else "qualification",
            "enrolment_id": str(credential.enrolment_id) if unit else None,
            "unit_version_id": str(credential.unit_version_id) if unit else None,
            "qualification_id": None if unit else str(credential.qualification_id),
            "issued_at": iso_utc(credential.issued_at),
            "revoked_at": iso_utc(credential.revoked_at) if credential.revoked_at else None,
            "status": "revoked" if credential.revoked_at else "active",
            "credential": json.loads(credential.document)}


def learner_credentials(principal: Principal, learner_id: uuid.UUID) -> list[dict]:
    """Every credential issued to the learner, newest first, revoked ones included."""
    learner = visible_learner(principal, learner_id)
    return credentials_by_learner(principal, [learner.id]).get(str(learner.id), [])


def credentials_by_learner(principal: Principal, learner_ids: list) -> dict[str, list[dict]]:
    """Each learner's credentials that the principal may read, newest first (one query for any number of learners:
    GraphQL's batch loader)."""
    query = visible_learner_records(Credential.select().where(Credential.learner.in_(learner_ids)), principal,
                                    Credential.centre, Credential.learner)
    found: dict[str, list[dict]] = {}
    for credential in query.order_by(Credential.issued_at.desc(), Credential.id.desc()):
        found.setdefault(str(credential.learner_id), []).append(credential_body(credential))
    return found


def credential_document(credential_id: uuid.UUID) -> dict:
    """The signed credential (public)."""
    credential = Credential.get_or_none(Credential.id == credential_id)
    if credential is None:
        raise NotFound(f"no credential {credential_id}")
    return json.loads(credential.document)


def issuer_profile(issuer_uuid: uuid.UUID) -> dict:
    """An issuer's Profile (a centre's, or an awarding body's that issues) with every key it has signed with
    (public)."""
    issuer = keys.find_issuer(issuer_uuid)
    if issuer is None:
        raise NotFound(f"no issuer {issuer_uuid}")
    return documents.issuer_profile(public_root(), issuer, keys.public_keys(issuer))


def status_list(issuer_uuid: uuid.UUID, number: int) -> dict:
    """The issuer's revocation list ``number`` as a BitstringStatusListCredential signed now with its current key
    (public)."""
    issuer = keys.find_issuer(issuer_uuid) if 1 <= number <= MAX_LIST else None
    entries = list(Credential.select(Credential.status_index, Credential.revoked_at).where(
        listed_by(issuer) & (Credential.status_list == number)).tuples()) if issuer else []
    if not entries:
        raise NotFound(f"no status list {number} of issuer {issuer_uuid}")
    revoked = [index for index, revoked_at in entries if revoked_at is not None]
    root, now = public_root(), utcnow()
    document = documents.status_list_credential(root, issuer, number, revoked, now)
    return proofs.sign(document, keys.current_key(root, issuer), documents.xsd_datetime(now))
