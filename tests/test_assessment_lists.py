"""Decisions and evidence across enrolments (GET /v1/decisions, /v1/evidence): each filter, alone and combined,
returns exactly the records it names, for an admin (whose unfiltered list reads the records' own table) as for a
centre's staff (who see only their centre's). (In updated_at order on PostgreSQL a list stops at the sync horizon,
which this test's own open transaction holds back: tests/test_delta_sync.py covers that order.)"""

import pytest

from tests.tracking_helpers import criteria_of, make_learner, post

LISTS = (("/v1/decisions", "decisions"), ("/v1/evidence", "evidence"))


@pytest.fixture
def records(client, auth, identities, content_ids):
    """Two learners at centre A and one at centre B, each with one enrolment on B13, one piece of evidence and one
    decision; returns {learner: (centre id, enrolment id, {"decisions": id, "evidence": id})}."""
    b13 = content_ids["B13"]
    criterion = criteria_of(client, b13)[0]
    made = {}
    for name, centre, admin, assessor in (("a1", "A", "centre_admin_a", "assessor_a"),
                                          ("a2", "A", "centre_admin_a", "assessor_a"),
                                          ("b1", "B", "centre_admin_b", "assessor_b")):
        learner = make_learner(client, auth, identities, caller=admin,
                               centre_id=str(identities.centres[centre].id))["id"]
        enrolment = post(client, auth, admin, "/v1/enrolments", {
            "learner_id": learner, "unit_id": b13, "start_date": "2026-09-01",
            "assessor_ids": [str(identities.accounts[assessor].id)]})["id"]
        evidence = post(client, auth, admin, f"/v1/enrolments/{enrolment}/evidence", {
            "type": "observation", "title": name, "date": "2026-10-01", "authenticity_declared": True,
            "criterion_ids": [criterion]})["id"]
        decision = post(client, auth, assessor, f"/v1/enrolments/{enrolment}/decisions", {
            "criterion_id": criterion, "outcome": "met", "feedback": "f", "evidence_ids": [evidence]})["id"]
        made[learner] = (str(identities.centres[centre].id), enrolment, {"decisions": decision, "evidence": evidence})
    return made


def _ids(client, auth, caller, url) -> list[str]:
    response = client.get(url, headers=auth(caller))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["total"] == len(body["items"])
    return [item["id"] for item in body["items"]]


@pytest.mark.parametrize("caller", ["admin", "centre_admin_a"])
def test_each_filter_returns_exactly_the_records_it_names(client, auth, records, caller):
    for url, kind in LISTS:
        mine = {learner: (centre, enrolment, ids[kind]) for learner, (centre, enrolment, ids) in records.items()}
        visible = [made for made in mine.values() if caller == "admin" or made[0] == next(iter(mine.values()))[0]]
        listed = _ids(client, auth, caller, f"{url}?limit=500")
        assert {record for _, _, record in visible} <= set(listed)
        if caller != "admin":  # staff see their centre's records only
            others = {record for centre, _, record in mine.values() if centre != visible[0][0]}
            assert not others & set(listed)
        for learner, (centre, enrolment, record) in mine.items():
            expected = [record] if (centre, enrolment, record) in visible else []
            assert _ids(client, auth, caller, f"{url}?learner_id={learner}") == expected
            assert _ids(client, auth, caller, f"{url}?enrolment_id={enrolment}") == expected
            assert _ids(client, auth, caller,
                        f"{url}?centre_id={centre}&learner_id={learner}&enrolment_id={enrolment}") \
                == expected
            other_centre = next(c for c, _, _ in mine.values() if c != centre)
            assert _ids(client, auth, caller, f"{url}?centre_id={other_centre}&learner_id={learner}") \
                == []
        for centre in {c for c, _, _ in mine.values()}:
            in_centre = {record for c, _, record in mine.values() if c == centre}
            listed = set(_ids(client, auth, caller, f"{url}?centre_id={centre}&limit=500"))
            if caller == "admin" or centre == visible[0][0]:
                assert listed & {record for _, _, record in mine.values()} == in_centre
            else:
                assert listed == set()
