"""Data Integrity proofs with the eddsa-rdfc-2022 cryptosuite (W3C VC Data Integrity EdDSA Cryptosuites v1.0), and
Ed25519 keys written as Multikeys.

Signing a credential: canonicalise the credential without its proof, and the proof's options with the credential's
``@context``; hash each with SHA-256; sign the proof options' hash followed by the credential's with Ed25519; the
signature, base58-btc encoded as a multibase string (``z...``), is the proof's ``proofValue``. Verifying does the same
from the received credential and checks the signature with the key its ``verificationMethod`` names."""

import copy
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import base58
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from api.services.credentials.contexts import UnknownContext, canonical_nquads

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"
ED25519_PUBLIC_PREFIX = b"\xed\x01"  # multicodec ed25519-pub, as a Multikey's publicKeyMultibase carries it


class ProofError(ValueError):
    """A credential whose proof does not verify; the message says why."""


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 key pair and the verification method (a URL ending in #<publicKeyMultibase>) that names it."""

    seed: bytes  # the 32-byte private key
    verification_method: str

    @property
    def public_key_multibase(self) -> str:
        return public_key_multibase(Ed25519PrivateKey.from_private_bytes(self.seed).public_key().public_bytes_raw())


def public_key_multibase(public_key: bytes) -> str:
    """An Ed25519 public key as a Multikey's publicKeyMultibase (``z6Mk...``)."""
    return "z" + base58.b58encode(ED25519_PUBLIC_PREFIX + public_key).decode()


def public_key_from_multibase(value: str) -> Ed25519PublicKey:
    """The Ed25519 public key of a publicKeyMultibase; ProofError if it is not one."""
    try:
        raw = base58.b58decode(value[1:]) if value.startswith("z") else b""
    except ValueError:
        raw = b""
    if len(raw) != 34 or not raw.startswith(ED25519_PUBLIC_PREFIX):
        raise ProofError("the verification method's publicKeyMultibase is not an Ed25519 Multikey")
    return Ed25519PublicKey.from_public_bytes(raw[2:])


def sign(document: dict, key: SigningKey, created: str, proof_purpose: str = "assertionMethod") -> dict:
    """A copy of ``document`` (a credential without a proof) with an eddsa-rdfc-2022 DataIntegrityProof, ``created``
    being an XML Schema dateTime (``2026-12-06T10:00:00Z``)."""
    options = {"type": PROOF_TYPE, "created": created, "verificationMethod": key.verification_method,
               "cryptosuite": CRYPTOSUITE, "proofPurpose": proof_purpose}
    signature = Ed25519PrivateKey.from_private_bytes(key.seed).sign(_hash_data(document, options))
    return {**copy.deepcopy(document), "proof": {**options, "proofValue": "z" + base58.b58encode(signature).decode()}}


def verify(document: dict, public_key_of: Callable[[str], str], proof_purpose: str = "assertionMethod") -> None:
    """Check a credential's eddsa-rdfc-2022 proof (an object, or a set of them: each must verify); ProofError says
    what is wrong. ``public_key_of(verification method)`` gives the publicKeyMultibase of the key a proof names
    (raising ProofError for one it does not know)."""
    proof_set = document.get("proof") if isinstance(document, dict) else None
    proof_set = [proof_set] if isinstance(proof_set, dict) else proof_set
    if not isinstance(proof_set, list) or not proof_set or not all(isinstance(p, dict) for p in proof_set):
        raise ProofError("the credential has no proof")
    unsecured = {name: value for name, value in document.items() if name != "proof"}
    for proof in proof_set:
        _verify_one(unsecured, proof, public_key_of, proof_purpose)


def _verify_one(unsecured: dict, proof: dict, public_key_of, proof_purpose: str) -> None:
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError(f"the proof is not a {PROOF_TYPE} with the {CRYPTOSUITE} cryptosuite")
    if proof.get("proofPurpose") != proof_purpose:
        raise ProofError(f"the proof's purpose is not {proof_purpose}")
    method, value = proof.get("verificationMethod"), proof.get("proofValue")
    if not isinstance(method, str) or not isinstance(value, str) or not value.startswith("z"):
        raise ProofError("the proof has no verificationMethod, or no base58-btc proofValue")
    try:
        signature = base58.b58decode(value[1:])
    except ValueError as error:
        raise ProofError("the proofValue is not base58-btc") from error
    if "@context" in proof and proof["@context"] != unsecured.get("@context"):
        raise ProofError("the proof's @context differs from the credential's")
    options = {name: value for name, value in proof.items() if name not in ("proofValue", "@context")}
    try:
        data = _hash_data(unsecured, options)
    except (UnknownContext, ValueError) as error:
        raise ProofError(f"the credential cannot be canonicalised: {error}") from error
    try:
        public_key_from_multibase(public_key_of(method)).verify(signature, data)
    except InvalidSignature as error:
        raise ProofError("the signature does not match the credential") from error


def _hash_data(document: dict, options: dict) -> bytes:
    """SHA-256 of the canonical proof options (with the document's @context), then of the canonical document."""
    config = {"@context": document.get("@context"), **options}
    return (hashlib.sha256(canonical_nquads(config).encode()).digest()
            + hashlib.sha256(canonical_nquads(document).encode()).digest())
