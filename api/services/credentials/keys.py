"""Each centre's Ed25519 signing keys. A centre gets its first key when it first issues a credential; rotating
retires the current key (it stays listed on the issuer's profile, so what it signed stays verifiable) and makes a
new one. A private key is stored sealed with AES-GCM under a key derived (HKDF) from QUALTRACK_ISSUER_KEY_SECRET,
or from the JWT secret when that is unset; a key that can no longer be unsealed (the secret changed) is retired and
replaced at its next use, which loses nothing a verifier needs."""

import base64
import logging
import os
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from peewee import IntegrityError

from api.db import savepoint, write_transaction
from api.errors import Conflict
from api.ids import new_id
from api.models import IssuerKey
from api.models.base import utcnow
from api.services.common import audit
from api.services.common.access import Principal, require, visible_centre
from api.services.common.app_settings import settings, signing_secret
from api.services.credentials.proofs import SigningKey, public_key_multibase

log = logging.getLogger(__name__)


def issuer_id(root: str, centre_id: uuid.UUID) -> str:
    """The URL of a centre's issuer profile, which is also the controller of its keys."""
    return f"{root}/v1/issuers/{centre_id}"


def verification_method(root: str, centre_id: uuid.UUID, public_multibase: str) -> str:
    return f"{issuer_id(root, centre_id)}#{public_multibase}"


def current_key(root: str, centre_id: uuid.UUID) -> SigningKey:
    """The centre's current signing key (made now, inside the caller's transaction, if it has none)."""
    for _ in range(3):
        key = IssuerKey.get_or_none((IssuerKey.centre == centre_id) & IssuerKey.retired_at.is_null())
        if key is None:
            key = _new_key(centre_id)
            if key is None:  # another writer made the centre's key first: read theirs
                continue
        seed = _unseal(key)
        if seed is not None:
            return SigningKey(seed, verification_method(root, centre_id, key.public_key_multibase))
        log.warning("the signing key %s of centre %s cannot be unsealed with this deployment's secret: retired, "
                    "and replaced", key.id, centre_id)
        IssuerKey.update(retired_at=utcnow()).where(IssuerKey.id == key.id).execute()
    raise RuntimeError(f"no signing key could be made for centre {centre_id}")


def rotate(principal: Principal, centre_id: uuid.UUID) -> IssuerKey:
    """Retire the centre's current key (if any; it stays on the issuer's profile, so what it signed stays
    verifiable) and make a new one, audited. Admins only (the command line's operator)."""
    require(principal.is_admin, "issuer keys are rotated by admins")
    centre = visible_centre(principal, centre_id)
    with write_transaction():
        retired = [str(k.id) for k in IssuerKey.select(IssuerKey.id).where(
            (IssuerKey.centre == centre.id) & IssuerKey.retired_at.is_null())]
        IssuerKey.update(retired_at=utcnow()).where(
            (IssuerKey.centre == centre.id) & IssuerKey.retired_at.is_null()).execute()
        key = _new_key(centre.id)
        if key is None:
            raise Conflict(f"the key of centre {centre.code} was rotated by another writer at the same time: try again")
        audit.record(principal, "issuer_key.rotated", "centre", centre.id, centre_id=centre.id,
                     before={"keys": retired}, after={"key": str(key.id), "public_key": key.public_key_multibase})
    return key


def public_keys(centre_id: uuid.UUID) -> list[IssuerKey]:
    """Every key the centre has signed with, current first, then the newest retired."""
    return list(IssuerKey.select().where(IssuerKey.centre == centre_id).order_by(
        IssuerKey.retired_at.is_null(False), IssuerKey.created_at.desc()))


def _new_key(centre_id: uuid.UUID) -> IssuerKey | None:
    """A new current key for the centre; None if another writer's current key got there first."""
    private = Ed25519PrivateKey.generate()
    key_id = new_id()
    try:
        with savepoint():
            return IssuerKey.create(
                id=key_id, centre=centre_id,
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
