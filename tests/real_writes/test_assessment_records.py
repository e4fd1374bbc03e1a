"""How assessment records read back, as centres, IQAs and integrations read them: lists filtered, ordered and shaped
as each record reads alone, roll-ups of a learner, a centre and a qualification, qualification enrolments, sampling
plans and samples. Written against mutants that no test noticed (docs/mutation.md); refusals are checked by their whole
detail, as in test_assessment_rules."""

import uuid

import pytest

from api.services import accounts
from tests.conftest import TEST_PASSWORD
from tests.real_writes.test_assessment_rules import decide, decisions_of, refused, submit
from tests.tracking_helpers import bearer, criteria_of, enrol, make_learner, post


@pytest.fixture(scope="module")
def published(app, auth, database):
    """CS 37 to CS 41 published (they are drafts as loaded), in this module's database."""
    from api.models import Unit

    client = app.test_client()
    for code in ("CS 37", "CS 38", "CS 39", "CS 40", "CS 41"):
        response = client.post(f"/v1/units/{Unit.get(Unit.code == code).id}/publish", headers=auth("admin"))
        assert response.status_code == 200, response.get_data(as_text=True)


def _load_qualification(tmp_path, code: str, groups: list, min_credits=None) -> str:
    """A published qualification with ``groups`` (of skills-cfa units by code), loaded as an awarding body would."""
    import yaml

    from api.services.content.loader import load_path
    from tests.conftest import PROJECT_ROOT

    document = yaml.safe_load((PROJECT_ROOT / "tests" / "fixtures" / "qualification.yaml").read_text())
    document |= {"code": code, "title": f"Test qualification {code}", "min_credits": min_credits, "groups": [
        {**group, "units": [{"owner": "skills-cfa", "code": unit} for unit in group["units"]]} for group in groups]}
    path = tmp_path / f"{code.replace('/', '-')}.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    assert load_path(path).ok
    from api.models import Qualification

    return str(Qualification.get(Qualification.code == code).id)


def test_a_qualification_enrolment_makes_each_mandatory_unit_once_in_the_qualification_s_order(
        client, auth, identities, unit_ids, tmp_path, published):
    """Mandatory groups in their order and their units in theirs; units the learner is already on (not withdrawn)
    are kept, a unit in two groups is made once, and another learner's or another qualification's units play no
    part. Refusals say what refused."""
    first, second = sorted(["CS 37", "CS 38"], key=lambda code: unit_ids[code], reverse=True)  # not in id order
    kept, rejoined, elsewhere = "CS 39", "CS 40", "CS 41"
    qualification = _load_qualification(tmp_path, "TEST/0003/1", [
        {"name": "First mandatory", "mandatory": True, "units": [first, kept, second]},
        {"name": "Optional", "min_units": 1, "units": ["CS 34"]},
        {"name": "Second mandatory", "mandatory": True, "units": [first, rejoined]}], min_credits=30)
    _load_qualification(tmp_path, "TEST/0004/1", [{"name": "Other", "mandatory": True, "units": [elsewhere]}])
    learner = make_learner(client, auth, identities)["id"]
    kept_enrolment = enrol(client, auth, identities, learner, unit_ids[kept])
    kept_id = kept_enrolment["id"]
    etag = client.get(kept_enrolment["href"], headers=auth("centre_admin_a")).headers["ETag"]
    assert client.patch(kept_enrolment["href"], json={"status": "completed"},  # completed counts as enrolled
                        headers={**auth("centre_admin_a"), "If-Match": etag}).status_code == 200
    for unit in (rejoined, "CS 34"):  # left: neither counts any more
        withdrawn = enrol(client, auth, identities, learner, unit_ids[unit])
        etag = client.get(withdrawn["href"], headers=auth("centre_admin_a")).headers["ETag"]
        assert client.patch(withdrawn["href"], json={"status": "withdrawn"},
                            headers={**auth("centre_admin_a"), "If-Match": etag}).status_code == 200
    enrol(client, auth, identities, make_learner(client, auth, identities)["id"], unit_ids[second])
    url = f"/v1/learners/{learner}/qualifications/{qualification}/enrolments"
    body = {"start_date": "2026-09-01"}
    refused(client.post(url, json=body, headers=auth("assessor_a")), 403, "only the centre's admins enrol learners")
    unknown = uuid.uuid4()
    refused(client.post(f"/v1/learners/{learner}/qualifications/{unknown}/enrolments", json=body,
                        headers=auth("centre_admin_a")), 404, f"no published qualification {unknown}")
    made = post(client, auth, "centre_admin_a", url, body)["items"]
    assert [e["unit_id"] for e in made] == [unit_ids[first], unit_ids[second], unit_ids[rejoined]]
    enrol(client, auth, identities, make_learner(client, auth, identities)["id"], unit_ids["CS 34"])  # not theirs
    progress = client.get(f"/v1/learners/{learner}/qualifications/{qualification}/progress",
                          headers=auth("centre_admin_a")).get_json()
    assert [(g["name"], [u["unit_id"] for u in g["units"]]) for g in progress["groups"]] == [
        ("First mandatory", [unit_ids[first], unit_ids[kept], unit_ids[second]]),
        ("Optional", [unit_ids["CS 34"]]), ("Second mandatory", [unit_ids[first], unit_ids[rejoined]])]
    assert (progress["qualification_id"], progress["learner_id"]) == (qualification, learner)
    enrolment_of = {unit_ids[kept]: kept_id, unit_ids["CS 34"]: None, **{e["unit_id"]: e["id"] for e in made}}
    assert [[u["enrolment_id"] for u in g["units"]] for g in progress["groups"]] == [
        [enrolment_of[u["unit_id"]] for u in g["units"]] for g in progress["groups"]]  # the active ones
    assert (progress["min_credits"], progress["credits_earned"], progress["achieved"]) == (30, 0, False)
    refused(client.get(f"/v1/learners/{learner}/qualifications/{unknown}/progress", headers=auth("centre_admin_a")),
            404, f"no published qualification {unknown}")


def test_a_centre_s_progress_counts_its_own_enrolments_by_assessor(client, auth, identities, unit_ids, published):
    centre, accounts_ = identities.centres["A"], identities.accounts
    url = f"/v1/centres/{centre.id}/progress"

    def read():
        response = client.get(url, headers=auth("centre_admin_a"))
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        return body, {row["assessor_id"]: row for row in body["by_assessor"]}

    before, before_by = read()
    learner = make_learner(client, auth, identities)["id"]
    enrol(client, auth, identities, learner, unit_ids["CS 37"], assessors=("assessor_a", "trainee_assessor_a"))
    other_centre = str(identities.centres["B"].id)
    learner_b = make_learner(client, auth, identities, caller="centre_admin_b", centre_id=other_centre)["id"]
    post(client, auth, "centre_admin_b", "/v1/enrolments", {
        "learner_id": learner_b, "unit_id": unit_ids["CS 37"], "start_date": "2026-09-01",
        "assessor_ids": [str(accounts_["assessor_b"].id)]})
    after, after_by = read()
    criteria = len(criteria_of(client, unit_ids["CS 37"]))
    assert after["centre_id"] == str(centre.id)
    assert (after["enrolments"] - before["enrolments"], after["criteria"] - before["criteria"]) == (1, criteria)
    for name in ("assessor_a", "trainee_assessor_a"):
        account = str(accounts_[name].id)
        was = before_by.get(account, {"enrolments": 0, "criteria": 0})
        assert (after_by[account]["enrolments"] - was["enrolments"],
                after_by[account]["criteria"] - was["criteria"]) == (1, criteria)
    assert str(accounts_["iqa_a"].id) not in after_by and str(accounts_["assessor_b"].id) not in after_by
    refused(client.get(url, headers=auth("centre_admin_b")), 404, f"no centre {centre.id} visible to you")


def client_of_centre_a(app, name: str, scopes: list) -> dict:
    """Request headers for a new API client of centre A with ``scopes``."""
    from api.auth import issue_tokens

    made = accounts.create_client(name, scopes, centre="A")
    with app.test_request_context():
        token = issue_tokens(f"client:{made.client.id}", accounts.client_claims(made.client), with_refresh=False)
    return {"Authorization": f"Bearer {token['access_token']}"}


def test_a_centre_s_progress_is_for_its_tracking_clients_only(app, client, identities):
    url = f"/v1/centres/{identities.centres['A'].id}/progress"
    for scopes, status in ((["tracking:read"], 200), (["tracking:write"], 200), (["content:read"], 404),
                           (["import"], 404)):
        headers = client_of_centre_a(app, f"progress reader {scopes[0]}", scopes)
        assert client.get(url, headers=headers).status_code == status, scopes


def test_a_learner_s_progress_is_of_their_own_enrolments(client, auth, identities, unit_ids, published):
    learner = make_learner(client, auth, identities)["id"]
    mine = [enrol(client, auth, identities, learner, unit_ids[code])["id"] for code in ("CS 37", "CS 38")]
    enrol(client, auth, identities, make_learner(client, auth, identities)["id"], unit_ids["CS 37"])
    body = client.get(f"/v1/learners/{learner}/progress", headers=auth("centre_admin_a")).get_json()
    assert sorted(e["enrolment_id"] for e in body["enrolments"]) == sorted(mine)
    assert (body["learner_id"], body["units"], body["units_complete"]) == (learner, 2, 0)


def test_an_enrolment_s_decisions_and_evidence_are_listed_as_read_one_by_one_in_the_order_made(
        client, auth, identities, unit_ids, b13):
    first, second = b13["criteria"][:2]
    claimed = submit(client, auth, b13["enrolment"], [first, second])
    other = submit(client, auth, b13["enrolment"], [second])
    elsewhere = enrol(client, auth, identities, make_learner(client, auth, identities)["id"], unit_ids["B13"])
    submit(client, auth, elsewhere["id"], [first])
    made = [decide(client, auth, b13, criterion=first, evidence_ids=[claimed["id"]]),
            decide(client, auth, b13, criterion=first, reason="Seen again.", expected_sequence=1),
            decide(client, auth, b13, caller="trainee_assessor_a", criterion=second)]  # sequences 1, 2, 1
    post(client, auth, "assessor_a", f"/v1/decisions/{made[2]['id']}/countersign", None, status=200)

    def one_by_one(kind, ids):
        return [client.get(f"/v1/{kind}/{i}", headers=auth("admin")).get_json() for i in ids]

    listed = decisions_of(client, auth, b13["enrolment"])
    assert listed == one_by_one("decisions", [d["id"] for d in made])
    assert listed[2]["countersigned_by"] == str(identities.accounts["assessor_a"].id)
    only_first = client.get(f"/v1/enrolments/{b13['enrolment']}/decisions?criterion_id={first}",
                            headers=auth("admin")).get_json()["items"]
    assert [d["id"] for d in only_first] == [made[0]["id"], made[1]["id"]]
    evidence = client.get(f"/v1/enrolments/{b13['enrolment']}/evidence", headers=auth("admin")).get_json()["items"]
    assert evidence == one_by_one("evidence", [claimed["id"], other["id"]])
    assert [len(e["claims"]) for e in evidence] == [2, 1]


def test_enrolments_are_listed_by_each_filter_and_paged_as_read_one_by_one(app, client, auth, identities, unit_ids,
                                                                          published):
    learner = make_learner(client, auth, identities)["id"]
    mine = [enrol(client, auth, identities, learner, unit_ids[code], assessors=("assessor_a", "trainee_assessor_a"))
            for code in ("CS 37", "CS 38", "CS 39")]
    neighbour = enrol(client, auth, identities, make_learner(client, auth, identities)["id"], unit_ids["CS 37"])
    etag = client.get(mine[2]["href"], headers=auth("centre_admin_a")).headers["ETag"]
    mine[2] = client.patch(mine[2]["href"], json={"status": "completed"},
                           headers={**auth("centre_admin_a"), "If-Match": etag}).get_json()

    def listed(query, caller="centre_admin_a"):
        items, url = [], f"/v1/enrolments?limit=2&{query}"
        for _ in range(50):  # far more pages than there are enrolments: a cursor that never ends fails below
            page = client.get(url, headers=auth(caller) if isinstance(caller, str) else caller).get_json()
            items += page["items"]
            if not page["next_cursor"]:
                return items
            url = f"/v1/enrolments?limit=2&{query}&cursor={page['next_cursor']}"
        raise AssertionError(f"{query}: the pages never end")

    assert listed(f"learner_id={learner}") == [client.get(e["href"], headers=auth("admin")).get_json() for e in mine]
    assert [e["id"] for e in listed(f"unit_id={unit_ids['CS 37']}&centre_id={identities.centres['A'].id}")][-2:] \
        == [mine[0]["id"], neighbour["id"]]
    assert [e["id"] for e in listed(f"learner_id={learner}&status=completed")] == [mine[2]["id"]]
    assert listed(f"centre_id={identities.centres['B'].id}") == []
    account = accounts.create_account("listing.learner@example.test", TEST_PASSWORD, roles=["learner"],
                                      centres=["A"], learner_id=learner)
    assert [e["id"] for e in listed("", caller=bearer(app, account))] == [e["id"] for e in mine]  # their own only


def test_a_sampling_plan_records_what_it_was_given_and_refuses_what_it_cannot_plan(client, auth, identities):
    centre, assessor = str(identities.centres["A"].id), str(identities.accounts["assessor_a"].id)
    body = {"centre_id": centre, "assessor_id": assessor, "rate": 0.25}
    refused(client.post("/v1/iqa/plans", json=body, headers=auth("assessor_a")), 403,
            "sampling plans are set by the centre's IQAs or admins")
    refused(client.post("/v1/iqa/plans", json={**body, "assessor_id": str(identities.accounts["iqa_a"].id)},
                        headers=auth("iqa_a")), 422, "not an assessor of this centre",
            {"assessor_id": ["not an assessor here"]})
    plan = post(client, auth, "iqa_a", "/v1/iqa/plans", body)
    assert {k: v for k, v in plan.items() if k not in ("id", "created_at")} == {
        "centre_id": centre, "assessor_id": assessor, "rate": 0.25, "assessor_is_new": False, "effective_rate": 0.25}
    assert plan["created_at"].endswith("Z") and uuid.UUID(plan["id"])


def test_a_sample_is_read_with_its_own_verdict_and_hidden_from_other_centres(client, auth, b13):
    samples = {}
    for criterion, verdict in ((b13["criteria"][0], {"verdict": "confirmed"}),
                               (b13["criteria"][1], {"verdict": "not_confirmed", "actions": "Observe again."})):
        decision = decide(client, auth, b13, criterion=criterion)
        sample = post(client, auth, "iqa_a", "/v1/iqa/samples", {"decision_id": decision["id"]})["id"]
        samples[sample] = (verdict, post(client, auth, "iqa_a", f"/v1/iqa/samples/{sample}/verdict", verdict,
                                         status=200)["verdict"])
    for sample, (sent, recorded) in samples.items():
        read = client.get(f"/v1/iqa/samples/{sample}", headers=auth("iqa_a")).get_json()
        assert read["verdict"] == recorded and recorded["recorded_at"].endswith("Z")
        assert (recorded["verdict"], recorded["actions"]) == (sent["verdict"], sent.get("actions"))
        refused(client.get(f"/v1/iqa/samples/{sample}", headers=auth("centre_admin_b")), 404,
                f"no IQA sample {sample} visible to you")
    evidence = submit(client, auth, b13["enrolment"], [b13["criteria"][2]])["id"]
    refused(client.get(f"/v1/evidence/{evidence}", headers=auth("centre_admin_b")), 404,
            f"no evidence {evidence} visible to you")
    decision = decide(client, auth, b13, criterion=b13["criteria"][2])["id"]
    refused(client.get(f"/v1/decisions/{decision}", headers=auth("centre_admin_b")), 404,
            f"no decision {decision} visible to you")


def test_only_tracking_clients_of_a_centre_list_its_learners(app, client, auth, identities):
    make_learner(client, auth, identities)
    for scopes, sees in ((["tracking:read"], True), (["tracking:write"], True), (["content:read"], False)):
        page = client.get("/v1/learners", headers=client_of_centre_a(app, f"learner lister {scopes[0]}",
                                                                     scopes)).get_json()
        assert (page["total"] > 0) == sees, scopes


@pytest.mark.parametrize("min_credits, achieved", [(None, True), (5, False)])
def test_a_qualification_is_achieved_when_every_group_stands_and_its_credits_are_earned(
        client, auth, identities, tmp_path, min_credits, achieved):
    """A group with no minimum stands with nothing done; the qualification's own minimum credits still count."""
    qualification = _load_qualification(tmp_path, f"TEST/0005/{min_credits or 0}", [
        {"name": "Any, or none", "units": ["CS 34"]}], min_credits=min_credits)
    learner = make_learner(client, auth, identities)["id"]
    progress = client.get(f"/v1/learners/{learner}/qualifications/{qualification}/progress",
                          headers=auth("centre_admin_a")).get_json()
    assert (progress["groups"][0]["satisfied"], progress["credits_earned"]) == (True, 0)
    assert (progress["min_credits"], progress["achieved"]) == (min_credits, achieved)


def test_enrolments_sync_in_updated_at_order_from_updated_since(client, auth, identities, unit_ids):
    learner = make_learner(client, auth, identities)["id"]
    first, second = (enrol(client, auth, identities, learner, unit_ids[code]) for code in ("B13", "CS 34"))
    etag = client.get(first["href"], headers=auth("centre_admin_a")).headers["ETag"]
    assert client.patch(first["href"], json={"status": "completed"},
                        headers={**auth("centre_admin_a"), "If-Match": etag}).status_code == 200

    def ids(query):
        response = client.get(f"/v1/enrolments?learner_id={learner}&{query}", headers=auth("centre_admin_a"))
        assert response.status_code == 200, response.get_data(as_text=True)
        return [e["id"] for e in response.get_json()["items"]]

    assert ids("") == ids("sort=created_at") == [first["id"], second["id"]]
    assert ids("sort=updated_at") == ids("updated_since=2000-01-01T00:00:00Z") == [second["id"], first["id"]]
    assert ids("updated_since=2000-01-01T00:00:00Z&sort=created_at") == [first["id"], second["id"]]
    assert ids("updated_since=2999-01-01T00:00:00Z") == []
