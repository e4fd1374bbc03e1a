"""The JSON-LD documents of Open Badges 3.0 as this service writes them: the AchievementCredential of a unit or of a
qualification, an issuer's Profile (a centre's or an awarding body's, with the Multikeys its credentials name), and a
BitstringStatusListCredential."""

import base64
import gzip
import hashlib
import os
import uuid
from datetime import datetime

from api.models import Enrolment, IssuerKey, Learner, Qualification, UnitVersion
from api.models.tracking import TEMPORARY_ULN
from api.services.credentials.contexts import DATA_INTEGRITY_V2, OB_V3, VC_V2
from api.services.credentials.keys import Issuer, issuer_id, verification_method
from api.services.interop.case import BASE_PATH, home_of

ACHIEVEMENT_TYPE = "ext:QualificationUnit"  # the spec's extension form: OB 3.0 has no term for a unit
# A qualification's type is the size its title names (RQF titles say Award, Certificate or Diploma), else Achievement
QUALIFICATION_SIZES = ("Award", "Certificate", "Diploma")
LIST_LENGTH = 131_072  # bits in a status list: the minimum BitstringStatusList asks for, for group privacy


def xsd_datetime(moment: datetime) -> str:
    """A naive UTC datetime as an XML Schema dateTime, to the second: 2026-12-06T10:00:00Z."""
    return moment.replace(microsecond=0).isoformat() + "Z"


def credential_url(root: str, credential_id: uuid.UUID) -> str:
    return f"{root}/v1/credentials/{credential_id}"


def status_list_url(root: str, issuer_uuid: uuid.UUID, number: int) -> str:
    return f"{root}/v1/issuers/{issuer_uuid}/status/{number}"


def unit_credential(root: str, credential_id: uuid.UUID, enrolment: Enrolment, learner: Learner, issuer: Issuer,
                    version: UnitVersion, outcomes: list, decisions: list, issued_at: datetime, status: tuple) -> dict:
    """The unsigned AchievementCredential of a completed enrolment. ``outcomes``: (number, title) of its version's
    learning outcomes; ``decisions``: (decision id, criterion number) of the latest decision on each criterion,
    where it is met; ``status``: (list number, index) in the issuer's revocation list."""
    unit = version.unit
    _, framework_title = home_of(version)
    case_item = (version.source or {}).get("case_identifier") or str(unit.id)  # as the unit's document names it
    facts = [f"level {version.level}" if version.level is not None else None,
             f"{version.credit_value} credits" if version.credit_value is not None else None]
    achievement = {
        "id": f"{root}/v1/units/{unit.id}/versions/{version.number}",
        "type": ["Achievement"],
        "achievementType": ACHIEVEMENT_TYPE,
        "name": version.title,
        "description": f"Unit {unit.code} of {unit.owner.name}: {version.title}"
                       + (f" ({', '.join(f for f in facts if f)})" if any(facts) else "") + ".",
        "criteria": {"narrative": "Every assessment criterion of each learning outcome met, as the unit sets them:\n"
                                  + "\n".join(f"{number}. {title}" for number, title in outcomes)},
        "humanCode": unit.code,
        "version": str(version.number),
        "alignment": [{"type": ["Alignment"], "targetType": "CFItem", "targetName": version.title,
                       "targetCode": unit.code, "targetFramework": framework_title,
                       "targetUrl": f"{root}{BASE_PATH}/CFItems/{case_item}"}],
    }
    if version.credit_value is not None:
        achievement["creditsAvailable"] = version.credit_value
    if version.level is not None:
        achievement["tag"] = [f"Level {version.level}"]
    subject = {"type": ["AchievementSubject"], "achievement": achievement}
    identity = _identity(learner)
    if identity:
        subject["identifier"] = [identity]
    if version.credit_value is not None:
        subject["creditsEarned"] = version.credit_value
    evidence = [{"id": f"{root}/v1/decisions/{decision_id}", "type": ["Evidence"],
                 "name": f"Assessment criterion {number} met"} for decision_id, number in decisions]
    return _credential(root, credential_id, issuer, f"{unit.code}: {version.title}", subject, evidence, issued_at,
                       status)


def qualification_credential(root: str, credential_id: uuid.UUID, qualification: Qualification, learner: Learner,
                             issuer: Issuer, progress: dict, codes: dict, units: list, issued_at: datetime,
                             status: tuple) -> dict:
    """The unsigned AchievementCredential of a qualification whose rules of combination the learner met.
    ``progress``: progress.qualification_document of the learner; ``codes``: unit id -> unit code of its members;
    ``units``: (credential id, unit code, unit title) of the live credential of each unit that counted."""
    rules = [_group_rule(group, codes) for group in progress["groups"]]
    if progress["min_credits"]:
        rules.append(f"At least {progress['min_credits']} credits in all.")
    size = next((word for word in QUALIFICATION_SIZES if word in qualification.title.split()), "Achievement")
    achievement = {
        "id": f"{root}/v1/qualifications/{qualification.id}",
        "type": ["Achievement"],
        "achievementType": size,
        "name": qualification.title,
        "description": f"Qualification {qualification.code} of {qualification.owner.name}: {qualification.title}"
                       + (f" (level {qualification.level})" if qualification.level is not None else "") + ".",
        "criteria": {"narrative": "The rules of combination met, as the qualification sets them:\n"
                                  + "\n".join(rules)},
        "humanCode": qualification.code,
        "alignment": [{"type": ["Alignment"], "targetType": "ext:CFDocument", "targetName": qualification.title,
                       "targetCode": qualification.code,
                       "targetUrl": f"{root}{BASE_PATH}/CFDocuments/{qualification.id}"}],
    }
    if qualification.level is not None:
        achievement["tag"] = [f"Level {qualification.level}"]
    subject = {"type": ["AchievementSubject"], "achievement": achievement,
               "creditsEarned": progress["credits_earned"]}
    identity = _identity(learner)
    if identity:
        subject["identifier"] = [identity]
    evidence = [{"id": credential_url(root, unit_credential_id), "type": ["Evidence"],
                 "name": f"Unit {code}: {title}"} for unit_credential_id, code, title in units]
    return _credential(root, credential_id, issuer, qualification.title, subject, evidence, issued_at, status)


def _group_rule(group: dict, codes: dict) -> str:
    """One group of a qualification's rules of combination, in words: "Mandatory: every one of B13, CS 34."."""
    members = ", ".join(codes.get(unit["unit_id"], unit["unit_id"]) for unit in group["units"])
    if group["mandatory"]:
        return f"{group['name']}: every one of {members}."
    wanted = [f"at least {group['min_units']} of {members}" if group["min_units"] else None,
              f"at least {group['min_credits']} credits from {members}" if group["min_credits"] else None]
    return f"{group['name']}: {' and '.join(w for w in wanted if w) or f'any of {members}'}."


def _credential(root: str, credential_id: uuid.UUID, issuer: Issuer, name: str, subject: dict, evidence: list,
                issued_at: datetime, status: tuple) -> dict:
    """An unsigned OpenBadgeCredential of ``issuer`` about ``subject``, at ``status`` (list number, index) of the
    issuer's revocation list."""
    list_number, index = status
    status_url = status_list_url(root, issuer.id, list_number)
    return {
        "@context": [VC_V2, OB_V3],
        "id": credential_url(root, credential_id),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer_id(root, issuer.id), "type": ["Profile"], "name": issuer.name},
        "validFrom": xsd_datetime(issued_at),
        "name": name,
        "credentialSubject": subject,
        "evidence": evidence,
        "credentialStatus": {"id": f"{status_url}#{index}", "type": "BitstringStatusListEntry",
                             "statusPurpose": "revocation", "statusListIndex": str(index),
                             "statusListCredential": status_url},
    }


def _identity(learner: Learner) -> dict | None:
    """The learner as a salted SHA-256 of their ULN (or, without a real ULN, of their email), as OB 3.0's
    IdentityObject allows: a verifier who is told the ULN can check it; nobody else learns it."""
    uln = learner.uln
    if uln and uln != TEMPORARY_ULN and uln.isdigit() and len(uln) == 10:
        value, kind = uln, "ext:UniqueLearnerNumber"
    elif learner.email:
        value, kind = learner.email.strip().lower(), "emailAddress"
    else:
        return None
    salt = os.urandom(16).hex()
    return {"type": "IdentityObject", "identityType": kind, "hashed": True, "salt": salt,
            "identityHash": "sha256$" + hashlib.sha256((value + salt).encode()).hexdigest()}


def issuer_profile(root: str, issuer: Issuer, keys: list[IssuerKey]) -> dict:
    """An issuer's Profile: who issues its credentials, and every key they were signed with (Multikeys)."""
    profile_id = issuer_id(root, issuer.id)
    methods = [{"id": verification_method(root, issuer.id, key.public_key_multibase), "type": "Multikey",
                "controller": profile_id, "publicKeyMultibase": key.public_key_multibase} for key in keys]
    return {"@context": [VC_V2, OB_V3, DATA_INTEGRITY_V2], "id": profile_id, "type": ["Profile"],
            "name": issuer.name, "verificationMethod": methods,
            "assertionMethod": [method["id"] for method in methods]}


def status_list_credential(root: str, issuer: Issuer, number: int, revoked: list[int], valid_from: datetime) -> dict:
    """The unsigned BitstringStatusListCredential of an issuer's revocation list ``number``: the bit of each index in
    ``revoked`` set."""
    bits = bytearray(LIST_LENGTH // 8)
    for index in revoked:
        bits[index // 8] |= 0x80 >> (index % 8)  # the first index is the left-most bit
    encoded = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(bits), mtime=0)).decode().rstrip("=")
    url = status_list_url(root, issuer.id, number)
    return {"@context": [VC_V2], "id": url, "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": issuer_id(root, issuer.id), "validFrom": xsd_datetime(valid_from),
            "credentialSubject": {"id": f"{url}#list", "type": "BitstringStatusList", "statusPurpose": "revocation",
                                  "encodedList": encoded}}
