"""Issuers and their Ed25519 signing keys. An issuer is a centre, or an awarding body that issues the credentials of
its own units and qualifications (an IssuingBody row). An issuer gets its first key when it first
issues a credential; rotating retires the current key (it stays listed on the issuer's profile, so what it signed
stays verifiable) and makes a new one. A private key is stored sealed with AES-GCM under a key derived (HKDF) from
QUALTRACK_ISSUER_KEY_SECRET, or from the JWT secret when that is unset; a key that can no longer be unsealed (the
secret changed) is retired and replaced at its next use, which loses nothing a verifier needs."""

import base64
import logging
import os
import uuid
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from peewee import IntegrityError

from api.db import savepoint, write_transaction
from api.errors import Conflict
from api.ids import new_id
from api.models import AwardingBody, Centre, IssuerKey, IssuingBody
from api.models.base import utcnow
from api.services.common import audit
from api.services.common.access import Principal, require
from api.services.common.app_settings import settings, signing_secret
from api.services.credentials.proofs import SigningKey, public_key_multibase

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Issuer:
    """Who signs a credential and keeps its status lists: a centre, or an awarding body (``body``)."""

    id: uuid.UUID
    name: str
    body: bool = False

    def keys(self):
        """The condition an IssuerKey of this issuer meets."""
        return (IssuerKey.awarding_body == self.id) if self.body else (IssuerKey.centre == self.id)


def centre_issuer(centre: Centre) -> Issuer:
    return Issuer(centre.id, centre.name)


def issuer_for(owner: AwardingBody, centre: Centre) -> Issuer:
    """Who issues a credential for content of ``owner`` to a learner of ``centre``: the body if it issues its own,
    else the centre."""
    issues = IssuingBody.select().where(IssuingBody.awarding_body == owner.id).exists()
    return Issuer(owner.id, owner.name, body=True) if issues else centre_issuer(centre)


def find_issuer(issuer_id: uuid.UUID) -> Issuer | None:
    """The centre, or the awarding body that issues credentials, with this id; None if neither."""
    centre = Centre.get_or_none(Centre.id == issuer_id)
    if centre is not None:
        return centre_issuer(centre)
    body = AwardingBody.get_or_none(AwardingBody.id == issuer_id)
    has_issued = body is not None and (
        IssuingBody.select().where(IssuingBody.awarding_body == body.id).exists()
        or IssuerKey.select().where(IssuerKey.awarding_body == body.id).exists())
    return Issuer(body.id, body.name, body=True) if has_issued else None


def issuer_id(root: str, issuer_uuid: uuid.UUID) -> str:
    """The URL of an issuer's profile, which is also the controller of its keys."""
    return f"{root}/v1/issuers/{issuer_uuid}"


def verification_method(root: str, issuer_uuid: uuid.UUID, public_multibase: str) -> str:
    return f"{issuer_id(root, issuer_uuid)}#{public_multibase}"


def current_key(root: str, issuer: Issuer) -> SigningKey:
    """The issuer's current signing key (made now, inside the caller's transaction, if it has none)."""
    for _ in range(3):
        key = IssuerKey.get_or_none(issuer.keys() & IssuerKey.retired_at.is_null())
        if key is None:
            key = _new_key(issuer)
            if key is None:  # another writer made the issuer's key first: read theirs
                continue
        seed = _unseal(key)
        if seed is not None:
            return SigningKey(seed, verification_method(root, issuer.id, key.public_key_multibase))
        log.warning("the signing key %s of issuer %s cannot be unsealed with this deployment's secret: retired, "
                    "and replaced", key.id, issuer.id)
        IssuerKey.update(retired_at=utcnow()).where(IssuerKey.id == key.id).execute()
    raise RuntimeError(f"no signing key could be made for issuer {issuer.id}")


def rotate(principal: Principal, issuer: Issuer) -> IssuerKey:
    """Retire the issuer's current key (if any; it stays on the issuer's profile, so what it signed stays
    verifiable) and make a new one, audited. Admins only (the command line's operator)."""
    require(principal.is_admin, "issuer keys are rotated by admins")
    with write_transaction():
        retired = [str(k.id) for k in IssuerKey.select(IssuerKey.id).where(
            issuer.keys() & IssuerKey.retired_at.is_null())]
        IssuerKey.update(retired_at=utcnow()).where(issuer.keys() & IssuerKey.retired_at.is_null()).execute()
        key = _new_key(issuer)
        if key is None:
            raise Conflict(f"the key of {issuer.name} was rotated by another writer at the same time: try again")
        audit.record(principal, "issuer_key.rotated", "awarding_body" if issuer.body else "centre", issuer.id,
                     centre_id=None if issuer.body else issuer.id, before={"keys": retired},
                     after={"key": str(key.id), "public_key": key.public_key_multibase})
    return key


def set_body_issuing(principal: Principal, body: AwardingBody, issues: bool) -> None:
    """From now on the awarding body issues (or, with ``issues`` false, no longer issues) the credentials of its
    units and qualifications; credentials issued before keep the issuer that signed them. Audited; admins only."""
    require(principal.is_admin, "who issues credentials is set by admins")
    with write_transaction():
        issued = IssuingBody.select().where(IssuingBody.awarding_body == body.id).exists()
        if issues and not issued:
            IssuingBody.insert(awarding_body=body.id, since=utcnow()).on_conflict_ignore().execute()
        elif not issues:
            IssuingBody.delete().where(IssuingBody.awarding_body == body.id).execute()
        audit.record(principal, "awarding_body.credential_issuer_set", "awarding_body", body.id,
                     before={"issues_credentials": issued}, after={"issues_credentials": issues})


def public_keys(issuer: Issuer) -> list[IssuerKey]:
    """Every key the issuer has signed with, current first, then the newest retired."""
    return list(IssuerKey.select().where(issuer.keys()).order_by(
        IssuerKey.retired_at.is_null(False), IssuerKey.created_at.desc()))


def _new_key(issuer: Issuer) -> IssuerKey | None:
    """A new current key for the issuer; None if another writer's current key got there first."""
    private = Ed25519PrivateKey.generate()
    key_id = new_id()
    try:
        with savepoint():
            return IssuerKey.create(
                id=key_id, centre=None if issuer.body else issuer.id,
                awarding_body=issuer.id if issuer.body else None,
                public_key_multibase=public_key_multibase(private.public_key().public_bytes_raw()),
                sealed_private_key=_seal(key_id, private.private_bytes_raw()))
    except IntegrityError:
        return None


def _cipher() -> AESGCM:
    secret = settings().issuer_key_secret or signing_secret()
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"qualtrack issuer keys v1").derive(
        secret.encode())
    return AESGCM(derived)


def _seal(key_id: uuid.UUID, seed: bytes) -> str:
    nonce = os.urandom(12)
    return base64.urlsafe_b64encode(nonce + _cipher().encrypt(nonce, seed, key_id.bytes)).decode()


def _unseal(key: IssuerKey) -> bytes | None:
    raw = base64.urlsafe_b64decode(key.sealed_private_key)
    try:
        return _cipher().decrypt(raw[:12], raw[12:], key.id.bytes)
    except InvalidTag:
        return None
