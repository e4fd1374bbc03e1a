"""eddsa-rdfc-2022 Data Integrity proofs: the signer reproduces 1EdTech's worked Open Badges 3.0 example byte for
byte, and the verifier accepts it and refuses any change to it."""

import copy
import hashlib
import html
import json
import re
from pathlib import Path

import pytest

from api.services.credentials import contexts, proofs

FIXTURES = Path(__file__).parent / "fixtures" / "openbadges"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "openbadges"


def worked_example() -> dict:
    """The key pair, the signed credential and the figures of 1EdTech's linked-data-proof-ob.html."""
    text = html.unescape(re.sub(r"<[^>]+>", "", (FIXTURES / "linked-data-proof-ob.html").read_text()))

    def after(label: str) -> str:
        return re.search(label + r"[^:]*:\s*([0-9a-f]+)", text).group(1)

    signed_part = text[text.index("Signed credential"):]
    signed = json.loads(signed_part[signed_part.index("{"):signed_part.rindex("}") + 1])
    return {"public": bytes.fromhex(after("Public key")), "private": bytes.fromhex(after("Private key")),
            "signed": signed, "document_hash": re.search(r"Document hash \(hex\)\s+([0-9a-f]{64})", text).group(1),
            "proof_hash": re.search(r"Proof hash \(hex\)\s+([0-9a-f]{64})", text).group(1),
            "public_multibase": re.search(r"publicKeyMultibase: '(z\w+)'", text).group(1)}


EXAMPLE = worked_example()
METHOD = EXAMPLE["signed"]["proof"]["verificationMethod"]


def keys(method: str) -> str:
    if method != METHOD:
        raise proofs.ProofError(f"unknown key {method}")
    return EXAMPLE["public_multibase"]


def unsigned() -> dict:
    return {name: value for name, value in copy.deepcopy(EXAMPLE["signed"]).items() if name != "proof"}


def test_the_fixtures_are_the_published_files():
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is not on this machine")
    for path in FIXTURES.iterdir():
        if path.name != "SOURCES.md":
            assert path.read_bytes() == (SHARED / path.name).read_bytes(), path.name


def test_canonical_forms_match_the_published_test_vectors():
    document, proof = unsigned(), dict(EXAMPLE["signed"]["proof"])
    proof.pop("proofValue")
    canonical_document = contexts.canonical_nquads(document)
    canonical_proof = contexts.canonical_nquads({"@context": document["@context"], **proof})
    assert canonical_document == (FIXTURES / "testvector-obv3p0-document-canon.txt").read_text()
    assert canonical_proof == (FIXTURES / "testvector-obv3p0-proof-canon.txt").read_text()
    assert hashlib.sha256(canonical_document.encode()).hexdigest() == EXAMPLE["document_hash"]
    assert hashlib.sha256(canonical_proof.encode()).hexdigest() == EXAMPLE["proof_hash"]


def test_the_signer_reproduces_the_worked_example_byte_for_byte():
    seed = EXAMPLE["private"][:32]
    key = proofs.SigningKey(seed, METHOD)
    assert key.public_key_multibase == EXAMPLE["public_multibase"]
    assert EXAMPLE["private"][32:] == EXAMPLE["public"]
    signed = proofs.sign(unsigned(), key, EXAMPLE["signed"]["proof"]["created"])
    assert signed == EXAMPLE["signed"]
    assert json.dumps(signed["proof"]) == json.dumps(EXAMPLE["signed"]["proof"])  # the same fields, in order


def test_the_verifier_accepts_the_worked_example_after_a_json_round_trip():
    proofs.verify(json.loads(json.dumps(EXAMPLE["signed"])), keys)


@pytest.mark.parametrize("change", [
    lambda c: c.update(name="Teamwork Badge!"),
    lambda c: c.update(validFrom="2010-01-01T00:00:01Z"),
    lambda c: c["credentialSubject"].update(id="did:example:someone-else"),
    lambda c: c["credentialSubject"]["achievement"]["criteria"].update(narrative="Anyone."),
    lambda c: c["issuer"].update(name="Another Corp"),
    lambda c: c.update(awardedDate="2011-01-01T00:00:00Z"),  # an added field
    lambda c: c.update(description="not in the example"),  # a term the OB context defines
    lambda c: c.update(anything="a term no context defines"),  # kept by the VC context's @vocab
    lambda c: c["proof"].update(created="2010-01-01T19:23:25Z"),
    lambda c: c["proof"].update(proofPurpose="authentication"),
    lambda c: c["proof"].update(proofValue=c["proof"]["proofValue"][:-2] + "zz"),
    lambda c: c.update({"@context": [*c["@context"], "https://example.com/unknown-context"]}),
    lambda c: c.pop("proof"),
], ids=["name", "validFrom", "subject", "criteria", "issuer", "added field", "defined term", "undefined term",
        "proof created", "proof purpose", "proofValue", "unknown context", "no proof"])
def test_the_verifier_refuses_any_change(change):
    credential = copy.deepcopy(EXAMPLE["signed"])
    change(credential)
    with pytest.raises(proofs.ProofError):
        proofs.verify(credential, keys)


def test_a_key_the_verifier_does_not_know_is_refused():
    credential = copy.deepcopy(EXAMPLE["signed"])
    credential["proof"]["verificationMethod"] = "https://example.edu/issuers/565049#other"
    with pytest.raises(proofs.ProofError, match="unknown key"):
        proofs.verify(credential, keys)


def test_the_context_loader_never_reaches_the_network():
    with pytest.raises(contexts.UnknownContext):
        contexts.load_context("https://www.w3.org/2018/credentials/v1")
