"""A write that would duplicate a learner (centre and ULN, or centre and external id) or an active enrolment (learner
and unit) is a 409 problem that points at the record already there (existing_id, existing_href, and errors naming
the field), and writes nothing: when the service finds the duplicate first, and when the database refuses the insert
because a concurrent writer committed the same identity after the service looked."""

import uuid

import pytest

from api.models import AuditEvent, Enrolment, Learner
from api.services.tracking import enrolments, learners
from tests.graphql_helpers import gql
from tests.tracking_helpers import fresh_uln, make_learner, valid_uln

PROBLEM = "application/problem+json"
ADMIN_A = "centre_admin_a"


def points_at(response, record: dict, field: str) -> None:
    """``response`` is the 409 problem for a duplicate of ``record`` on ``field``."""
    body = response.get_json()
    assert (response.status_code, response.mimetype) == (409, PROBLEM), body
    assert body["type"] == "/problems/already-exists" and body["title"] == "Conflict"
    assert (body["existing_id"], body["existing_href"]) == (record["id"], record["href"])
    assert list(body["errors"]) == [field] and record["id"] in body["detail"]


def enrolment_on(client, auth, learner_id, unit_id, status=201):
    response = client.post("/v1/enrolments", json={"learner_id": learner_id, "unit_id": unit_id,
                                                   "start_date": "2026-09-01"}, headers=auth(ADMIN_A))
    assert response.status_code == status, response.get_json()
    return response


def set_status(client, auth, enrolment: dict, status: str):
    return client.patch(enrolment["href"], json={"status": status}, headers={**auth(ADMIN_A), "If-Match": "*"})


def test_a_second_learner_with_a_uln_points_at_the_first(client, auth, identities):
    first = make_learner(client, auth, identities, uln=valid_uln(11))
    again = client.post("/v1/learners", json={"centre_id": str(identities.centres["A"].id), "uln": first["uln"],
                                              "given_name": "Other", "family_name": "Person"}, headers=auth(ADMIN_A))
    points_at(again, first, "uln")
    assert client.get(again.get_json()["existing_href"], headers=auth(ADMIN_A)).get_json()["id"] == first["id"]
    assert Learner.select().where(Learner.uln == first["uln"]).count() == 1
    temporary = [make_learner(client, auth, identities, uln="9999999999")["id"] for _ in range(2)]
    assert len(set(temporary)) == 2  # the temporary ULN is the one that repeats


def test_a_new_learner_with_a_used_external_id_points_at_its_holder(client, auth, identities):
    holder = make_learner(client, auth, identities, uln=valid_uln(12), external_ids=[{"system": "mis", "id": "M-1"}])
    again = client.post("/v1/learners", json={
        "centre_id": str(identities.centres["A"].id), "uln": valid_uln(13), "given_name": "B", "family_name": "C",
        "external_ids": [{"system": "lms", "id": "M-1"}, {"system": "mis", "id": "M-1"}]}, headers=auth(ADMIN_A))
    points_at(again, holder, "external_ids[1]")
    assert not Learner.select().where(Learner.uln == valid_uln(13)).exists()


def test_an_update_claiming_a_used_external_id_points_at_its_holder_and_changes_nothing(client, auth, identities):
    holder = make_learner(client, auth, identities, uln=valid_uln(14), external_ids=[{"system": "mis", "id": "M-2"}])
    other = make_learner(client, auth, identities, uln=valid_uln(15), external_ids=[{"system": "mis", "id": "M-3"}])
    claim = client.patch(other["href"], headers={**auth(ADMIN_A), "If-Match": "*"}, json={
        "given_name": "Changed", "external_ids": [{"system": "mis", "id": "M-2"}]})
    points_at(claim, holder, "external_ids[0]")
    after = client.get(other["href"], headers=auth(ADMIN_A)).get_json()
    assert (after["given_name"], after["external_ids"]) == ("Ada", [{"system": "mis", "id": "M-3"}])
    own = client.patch(holder["href"], json={"external_ids": [{"system": "mis", "id": "M-2"}]},
                       headers={**auth(ADMIN_A), "If-Match": "*"})
    assert own.status_code == 200  # keeping one's own external id is no conflict


def test_a_second_active_enrolment_on_a_unit_points_at_the_first(client, auth, identities, unit_ids):
    learner = make_learner(client, auth, identities, uln=valid_uln(16))
    first = enrolment_on(client, auth, learner["id"], unit_ids["B13"]).get_json()
    points_at(enrolment_on(client, auth, learner["id"], unit_ids["B13"], status=409), first, "unit_id")
    assert Enrolment.select().where(Enrolment.learner == learner["id"]).count() == 1
    assert set_status(client, auth, first, "withdrawn").status_code == 200
    enrolment_on(client, auth, learner["id"], unit_ids["B13"])  # once withdrawn, the learner may enrol again


def test_reactivating_an_enrolment_points_at_the_active_one_and_changes_nothing(client, auth, identities, unit_ids):
    learner = make_learner(client, auth, identities, uln=valid_uln(17))
    old = enrolment_on(client, auth, learner["id"], unit_ids["B13"]).get_json()
    assert set_status(client, auth, old, "withdrawn").status_code == 200
    current = enrolment_on(client, auth, learner["id"], unit_ids["B13"]).get_json()
    points_at(set_status(client, auth, old, "active"), current, "unit_id")
    assert Enrolment.get_by_id(old["id"]).status == "withdrawn"
    assert set_status(client, auth, old, "completed").status_code == 200  # other changes are no conflict


def test_graphql_answers_a_duplicate_enrolment_with_a_conflict_that_points_at_it(client, auth, identities, unit_ids):
    learner = make_learner(client, auth, identities, uln=valid_uln(18))
    first = enrolment_on(client, auth, learner["id"], unit_ids["B13"]).get_json()
    result = gql(client, "mutation($l: UUID!, $u: UUID!) { enrolLearner(input: {learnerId: $l, unitId: $u, "
                         'startDate: "2026-09-01"}) { __typename ... on Conflict { message httpStatus existingId '
                         "existingHref fields { field messages } } } }",
                 {"l": learner["id"], "u": unit_ids["B13"]}, auth(ADMIN_A))["data"]["enrolLearner"]
    assert result["__typename"] == "Conflict" and result["httpStatus"] == 409 and first["id"] in result["message"]
    assert (result["existingId"], result["existingHref"]) == (first["id"], first["href"])
    assert [f["field"] for f in result["fields"]] == ["unit_id"]


def blind_first_look(monkeypatch, module, name: str) -> list:
    """Make the service's first look for a duplicate find none, as when a concurrent writer commits between that look
    and the insert; the database then refuses the insert. Returns the list of looks made."""
    real, looks = getattr(module, name), []

    def look(*args, **kwargs):
        looks.append(args)
        return None if len(looks) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(module, name, look)
    return looks


def refused_write(client, auth, identities, unit_ids, kind: str):
    """For ``kind``: the record that won, the duplicate's field, the looking function (module, name), and the
    request (method, url, body, headers) that duplicates it."""
    taken = [{"system": "mis", "id": f"W-{uuid.uuid4().hex[:8]}"}]  # each parameter's records are its own
    won = make_learner(client, auth, identities, external_ids=taken)
    headers = {"If-Match": "*"}
    new = {"centre_id": str(identities.centres["A"].id), "uln": fresh_uln(), "given_name": "Late",
           "family_name": "Comer"}
    if kind == "uln":
        return won, "uln", (learners, "learner_duplicate"), ("POST", "/v1/learners", {**new, "uln": won["uln"]}, {})
    if kind == "external id":
        return won, "external_ids[0]", (learners, "learner_duplicate"), (
            "POST", "/v1/learners", {**new, "external_ids": taken}, {})
    if kind == "update":
        other = make_learner(client, auth, identities)
        return won, "external_ids[0]", (learners, "learner_duplicate"), (
            "PATCH", other["href"], {"external_ids": taken}, headers)
    enrol = {"learner_id": won["id"], "unit_id": unit_ids["B13"], "start_date": "2026-09-01"}
    first = enrolment_on(client, auth, won["id"], unit_ids["B13"]).get_json()
    if kind == "enrolment":
        return first, "unit_id", (enrolments, "enrolment_duplicate"), ("POST", "/v1/enrolments", enrol, {})
    assert set_status(client, auth, first, "withdrawn").status_code == 200
    current = enrolment_on(client, auth, won["id"], unit_ids["B13"]).get_json()
    return current, "unit_id", (enrolments, "enrolment_duplicate"), (
        "PATCH", first["href"], {"status": "active"}, headers)


@pytest.mark.parametrize("kind", ["uln", "external id", "update", "enrolment", "reactivation"])
def test_a_duplicate_the_database_refuses_points_at_the_record_that_won(client, auth, identities, unit_ids,
                                                                        monkeypatch, kind):
    won, field, (module, name), (method, url, body, headers) = refused_write(client, auth, identities, unit_ids, kind)
    counts = [model.select().count() for model in (AuditEvent, Learner, Enrolment)]
    looks = blind_first_look(monkeypatch, module, name)
    response = client.open(url, method=method, json=body, headers={**auth(ADMIN_A), **headers})
    points_at(response, won, field)
    assert len(looks) == 2  # looked once, was refused by the database, looked again
    assert [model.select().count() for model in (AuditEvent, Learner, Enrolment)] == counts  # nothing written
