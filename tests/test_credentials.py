"""Open Badges 3.0 credentials for completed units: issued in the transaction that completes the enrolment, valid
against the official schema, verifiable by anyone from the API's public documents alone, revoked through the status
list when the enrolment stops being complete, and issued anew when it completes again."""

import base64
import copy
import gzip
import json
from pathlib import Path

import jsonschema
import pytest

from api.services.credentials import proofs
from tests.tracking_helpers import criteria_of, enrol, make_learner, post

SCHEMAS = Path(__file__).parent / "fixtures" / "openbadges"
CREDENTIAL_SCHEMA = json.loads((SCHEMAS / "ob_v3p0_achievementcredential_schema.json").read_text())
PROFILE_SCHEMA = json.loads((SCHEMAS / "ob_v3p0_profile_schema.json").read_text())


def sign_off(client, auth, enrolment_id, criteria, outcome="met", reason=None):
    body = {"decisions": [{"criterion_id": c, "outcome": outcome, "feedback": "seen",
                           **({"reason": reason} if reason else {})} for c in criteria]}
    return post(client, auth, "assessor_a", f"/v1/enrolments/{enrolment_id}/decisions/batch", body)["items"]


def credentials_of(client, auth, learner_id, caller="centre_admin_a") -> list[dict]:
    """The learner's credentials, each checked against 1EdTech's AchievementCredential schema."""
    answer = client.get(f"/v1/learners/{learner_id}/credentials", headers=auth(caller))
    assert answer.status_code == 200, answer.get_json()
    for item in answer.get_json()["items"]:
        jsonschema.Draft201909Validator(CREDENTIAL_SCHEMA).validate(item["credential"])
    return answer.get_json()["items"]


def path_of(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def public_get(client, url: str):
    """GET a URL a credential names, as a verifier would: no account."""
    answer = client.get(path_of(url))
    assert answer.status_code == 200, (url, answer.get_json())
    return answer.get_json()


def verify(client, credential: dict) -> None:
    """Verify a credential from the API's public documents only: the key its proof names, published on its issuer's
    profile."""
    def public_key_of(method: str) -> str:
        profile = public_get(client, method.split("#", 1)[0])
        for entry in profile["verificationMethod"]:
            if entry["id"] == method and method in profile["assertionMethod"]:
                return entry["publicKeyMultibase"]
        raise proofs.ProofError(f"{method} is not on its issuer's profile")

    proofs.verify(credential, public_key_of)


def revoked(client, credential: dict) -> bool:
    """Whether the credential's bit is set in its (verified) status list."""
    status = credential["credentialStatus"]
    status_list = public_get(client, status["statusListCredential"])
    verify(client, status_list)
    encoded = status_list["credentialSubject"]["encodedList"]
    bits = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    index = int(status["statusListIndex"])
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


@pytest.fixture
def completed(client, auth, identities, content_ids):
    learner = make_learner(client, auth, identities)
    enrolment = enrol(client, auth, identities, learner["id"], content_ids["B13"])
    criteria = criteria_of(client, content_ids["B13"])
    decisions = sign_off(client, auth, enrolment["id"], criteria)
    return {"learner": learner, "enrolment": enrolment, "criteria": criteria, "decisions": decisions}


def test_completing_a_unit_issues_one_valid_credential(client, auth, identities, content_ids, completed):
    [issued] = credentials_of(client, auth, completed["learner"]["id"])
    credential = issued["credential"]
    jsonschema.Draft201909Validator(CREDENTIAL_SCHEMA).validate(credential)
    assert issued["status"] == "active" and issued["enrolment_id"] == completed["enrolment"]["id"]
    assert public_get(client, credential["id"]) == credential
    achievement = credential["credentialSubject"]["achievement"]
    unit = client.get(f"/v1/units/{content_ids['B13']}").get_json()
    assert achievement["name"] == unit["title"] and achievement["humanCode"] == "B13"
    assert achievement["creditsAvailable"] == unit["credit_value"]
    for outcome in unit["learning_outcomes"]:
        assert f"{outcome['number']}. {outcome['title']}" in achievement["criteria"]["narrative"]
    [alignment] = achievement["alignment"]
    assert alignment["targetType"] == "CFItem" and alignment["targetCode"] == "B13"
    assert alignment["targetUrl"].endswith(unit["case"]["uri"])
    assert public_get(client, alignment["targetUrl"])["identifier"] == unit["case"]["identifier"]
    assert sorted(e["id"].rsplit("/", 1)[1] for e in credential["evidence"]) == sorted(
        d["id"] for d in completed["decisions"])
    [identity] = credential["credentialSubject"]["identifier"]
    assert identity["hashed"] is True and identity["identityType"] == "ext:UniqueLearnerNumber"
    text = json.dumps(credential)
    assert completed["learner"]["uln"] not in text and completed["learner"]["family_name"] not in text
    jsonschema.Draft201909Validator(PROFILE_SCHEMA).validate(public_get(client, credential["issuer"]["id"]))
    verify(client, credential)
    assert not revoked(client, credential)
    sign_off(client, auth, completed["enrolment"]["id"], completed["criteria"][:1], reason="again")  # still complete
    assert [c["id"] for c in credentials_of(client, auth, completed["learner"]["id"])] == [issued["id"]]


def test_a_credential_verifies_after_a_json_round_trip_and_not_when_changed(client, auth, completed):
    [issued] = credentials_of(client, auth, completed["learner"]["id"])
    credential = json.loads(json.dumps(issued["credential"]))
    verify(client, credential)
    changes = [
        lambda c: c.update(name=c["name"] + "!"),
        lambda c: c.update(validFrom="2020-01-01T00:00:00Z"),
        lambda c: c["credentialSubject"]["achievement"].update(creditsAvailable=99),
        lambda c: c["credentialSubject"]["identifier"][0].update(salt="00"),
        lambda c: c["evidence"].pop(),
        lambda c: c["credentialStatus"].update(statusListIndex="1"),
        lambda c: c["issuer"].update(name="Another centre"),
        lambda c: c.update(validUntil="2099-01-01T00:00:00Z"),
    ]
    for change in changes:
        altered = copy.deepcopy(credential)
        change(altered)
        with pytest.raises(proofs.ProofError):
            verify(client, altered)


def test_uncompleting_revokes_and_completing_again_issues_anew(client, auth, completed):
    [first] = credentials_of(client, auth, completed["learner"]["id"])
    sign_off(client, auth, completed["enrolment"]["id"], completed["criteria"][:1], outcome="not_yet_met",
             reason="misread")
    [record] = credentials_of(client, auth, completed["learner"]["id"])
    assert record["id"] == first["id"] and record["status"] == "revoked"
    assert revoked(client, first["credential"])
    sign_off(client, auth, completed["enrolment"]["id"], completed["criteria"][:1], reason="seen again")
    second, again = credentials_of(client, auth, completed["learner"]["id"])
    assert again["id"] == first["id"] and second["status"] == "active" and second["id"] != first["id"]
    assert second["credential"]["credentialStatus"] != first["credential"]["credentialStatus"]
    verify(client, second["credential"])
    assert not revoked(client, second["credential"]) and revoked(client, first["credential"])


@pytest.mark.parametrize("verdict", ["confirmed", "not_confirmed"])
def test_iqa_takes_a_credential_back_until_it_confirms(client, auth, completed, verdict):
    """A sampled decision awaits IQA, so the enrolment is not complete (and its credential revoked) until the verdict;
    one that confirms completes it again, with a new credential; one that does not leaves it revoked."""
    [issued] = credentials_of(client, auth, completed["learner"]["id"])
    sample = post(client, auth, "iqa_a", "/v1/iqa/samples", {"decision_id": completed["decisions"][0]["id"]})
    [record] = credentials_of(client, auth, completed["learner"]["id"])
    assert record["id"] == issued["id"] and record["status"] == "revoked" and revoked(client, issued["credential"])
    post(client, auth, "iqa_a", f"/v1/iqa/samples/{sample['id']}/verdict",
         {"verdict": verdict, **({"actions": "observe again"} if verdict == "not_confirmed" else {})}, status=200)
    statuses = [c["status"] for c in credentials_of(client, auth, completed["learner"]["id"])]
    assert statuses == (["active", "revoked"] if verdict == "confirmed" else ["revoked"])


def test_who_may_list_a_learner_s_credentials(client, auth, completed):
    learner = completed["learner"]["id"]
    assert len(credentials_of(client, auth, learner, "assessor_a")) == 1
    for caller in ("centre_admin_b", "assessor_b"):
        assert client.get(f"/v1/learners/{learner}/credentials", headers=auth(caller)).status_code == 404
    assert client.get(f"/v1/learners/{learner}/credentials").status_code == 401


def test_unknown_credentials_issuers_and_lists_are_404(client, identities):
    centre = identities.centres["A"].id
    for path in ("/v1/credentials/00000000-0000-0000-0000-000000000000",
                 "/v1/issuers/00000000-0000-0000-0000-000000000000", f"/v1/issuers/{centre}/status/999"):
        answer = client.get(path)
        assert answer.status_code == 404 and answer.mimetype == "application/problem+json", path


def test_a_rotated_key_keeps_what_it_signed_verifiable(client, auth, identities, content_ids, completed):
    from api.cli.group import operator
    from api.errors import Forbidden
    from api.services.common.access import Principal
    from api.services.credentials import keys

    [before] = credentials_of(client, auth, completed["learner"]["id"])
    old_method = before["credential"]["proof"][0]["verificationMethod"]
    centre = identities.centres["A"].id
    assessor = Principal(kind="account", id=identities.accounts["assessor_a"].id, roles=frozenset({"assessor"}),
                         centre_ids=frozenset({centre}))
    issuer = keys.centre_issuer(identities.centres["A"])
    with pytest.raises(Forbidden):
        keys.rotate(assessor, issuer)
    new_key = keys.rotate(operator(), issuer)
    profile = client.get(f"/v1/issuers/{centre}").get_json()
    assert [m["publicKeyMultibase"] for m in profile["verificationMethod"]][0] == new_key.public_key_multibase
    assert old_method in profile["assertionMethod"]
    verify(client, before["credential"])  # signed with the retired key: still verifiable
    learner = make_learner(client, auth, identities)
    enrolment = enrol(client, auth, identities, learner["id"], content_ids["B13"])
    sign_off(client, auth, enrolment["id"], criteria_of(client, content_ids["B13"]))
    [after] = credentials_of(client, auth, learner["id"])
    assert after["credential"]["proof"][0]["verificationMethod"].endswith("#" + new_key.public_key_multibase)
    verify(client, after["credential"])
    assert not revoked(client, after["credential"])  # the status list is signed with the new key
    rotations = client.get(f"/v1/audit?centre_id={centre}", headers=auth("admin")).get_json()["items"]
    assert any(e["action"] == "issuer_key.rotated" for e in rotations)


def test_meeting_a_qualification_s_rules_issues_its_credential_naming_the_unit_credentials(client, auth, identities,
                                                                                          ids):
    """The test qualification (TEST/0001/1) asks for B13 (mandatory), one unit of its optional group (CS 34) and 10
    credits: its credential comes with the second unit's, once, with the two unit credentials as its evidence; it is
    revoked when B13 stops being complete, and a new one comes when B13 is complete again."""
    learner = make_learner(client, auth, identities)
    b13, cs34 = (enrol(client, auth, identities, learner["id"], ids[code]) for code in ("B13", "CS 34"))
    b13_criteria, cs34_criteria = criteria_of(client, ids["B13"]), criteria_of(client, ids["CS 34"])
    sign_off(client, auth, b13["id"], b13_criteria)
    assert [c["achievement"] for c in credentials_of(client, auth, learner["id"])] == ["unit"]
    sign_off(client, auth, cs34["id"], cs34_criteria)
    qualification, *units = credentials_of(client, auth, learner["id"])
    assert (qualification["achievement"], qualification["qualification_id"]) == ("qualification", ids["qualification"])
    assert qualification["enrolment_id"] is None and qualification["unit_version_id"] is None
    assert sorted(u["enrolment_id"] for u in units) == sorted([b13["id"], cs34["id"]])
    credential = qualification["credential"]
    verify(client, credential)
    assert not revoked(client, credential)
    document = client.get(f"/v1/qualifications/{ids['qualification']}").get_json()
    achievement = credential["credentialSubject"]["achievement"]
    assert (achievement["name"], achievement["humanCode"]) == (document["title"], document["code"])
    assert achievement["achievementType"] == "Diploma" and achievement["tag"] == [f"Level {document['level']}"]
    assert "Mandatory: every one of B13." in achievement["criteria"]["narrative"]
    assert "Optional: at least 1 of CS 34." in achievement["criteria"]["narrative"]
    [alignment] = achievement["alignment"]
    assert alignment["targetType"] == "ext:CFDocument"
    assert public_get(client, alignment["targetUrl"])["identifier"] == ids["qualification"]
    assert sorted(e["id"] for e in credential["evidence"]) == sorted(u["credential"]["id"] for u in units)
    assert credential["credentialSubject"]["creditsEarned"] == sum(
        u["credential"]["credentialSubject"].get("creditsEarned", 0) for u in units)
    sign_off(client, auth, cs34["id"], cs34_criteria[:1], reason="seen again")  # still complete: nothing new
    assert len(credentials_of(client, auth, learner["id"])) == 3

    sign_off(client, auth, b13["id"], b13_criteria[:1], outcome="not_yet_met", reason="misread")
    assert {c["id"]: c["status"] for c in credentials_of(client, auth, learner["id"])}[qualification["id"]] \
        == "revoked"
    assert revoked(client, credential)
    sign_off(client, auth, b13["id"], b13_criteria[:1], reason="seen again")
    now = [c for c in credentials_of(client, auth, learner["id"]) if c["status"] == "active"]
    [again] = [c for c in now if c["achievement"] == "qualification"]
    assert again["id"] != qualification["id"] and not revoked(client, again["credential"])
    assert sorted(e["id"] for e in again["credential"]["evidence"]) == sorted(
        c["credential"]["id"] for c in now if c["achievement"] == "unit")


def test_an_awarding_body_that_issues_signs_its_units_and_qualifications_with_its_own_keys_and_lists(
        client, auth, identities, ids):
    """With OCR issuing, B13 (OCR's) and the test qualification (OCR's) are issued by OCR: its profile, its keys,
    its status list, verifiable and revocable there; CS 34 (Skills CFA's) is still issued by the centre. Credentials
    issued before the change keep their issuer."""
    from api.cli.group import operator
    from api.models import AwardingBody
    from api.services.credentials import keys

    ocr = AwardingBody.get(AwardingBody.slug == "ocr")
    before = make_learner(client, auth, identities)
    earlier = enrol(client, auth, identities, before["id"], ids["B13"])
    sign_off(client, auth, earlier["id"], criteria_of(client, ids["B13"]))
    [centre_issued] = credentials_of(client, auth, before["id"])
    keys.set_body_issuing(operator(), ocr, True)
    learner = make_learner(client, auth, identities)
    b13, cs34 = (enrol(client, auth, identities, learner["id"], ids[code]) for code in ("B13", "CS 34"))
    sign_off(client, auth, b13["id"], criteria_of(client, ids["B13"]))
    sign_off(client, auth, cs34["id"], criteria_of(client, ids["CS 34"]))
    issued = {c["achievement"] + ":" + (c["enrolment_id"] or ""): c["credential"]
              for c in credentials_of(client, auth, learner["id"])}
    body_issuer, centre_issuer = (f"http://localhost/v1/issuers/{ocr.id}",
                                  f"http://localhost/v1/issuers/{identities.centres['A'].id}")
    assert issued[f"unit:{b13['id']}"]["issuer"] == {"id": body_issuer, "type": ["Profile"], "name": ocr.name}
    assert issued["qualification:"]["issuer"]["id"] == body_issuer
    assert issued[f"unit:{cs34['id']}"]["issuer"]["id"] == centre_issuer
    assert centre_issued["credential"]["issuer"]["id"] == centre_issuer
    profile = public_get(client, body_issuer)
    jsonschema.Draft201909Validator(PROFILE_SCHEMA).validate(profile)
    assert profile["name"] == ocr.name and len(profile["verificationMethod"]) == 1
    for credential in issued.values():
        verify(client, credential)
        assert credential["credentialStatus"]["statusListCredential"].startswith(credential["issuer"]["id"] + "/")
        assert not revoked(client, credential)
    verify(client, centre_issued["credential"])
    sign_off(client, auth, b13["id"], criteria_of(client, ids["B13"])[:1], outcome="not_yet_met", reason="misread")
    assert revoked(client, issued[f"unit:{b13['id']}"]) and revoked(client, issued["qualification:"])
    assert not revoked(client, issued[f"unit:{cs34['id']}"]) and not revoked(client, centre_issued["credential"])
    keys.set_body_issuing(operator(), ocr, False)
    assert client.get(f"/v1/issuers/{ocr.id}").status_code == 200  # what it signed stays verifiable
