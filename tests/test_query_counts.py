"""Queries per request are constant in the size of the unit tree and of the page."""

import pytest

from api.models import UnitVersion
from api.services.content.rendering import render_unit_version
from tests.query_counting import count_work


def queries_for(client, url, headers=None) -> int:
    """The statements a GET runs, besides its token's revocation check (of which there is at most one)."""
    with count_work() as counter:
        assert client.get(url, headers=headers).status_code == 200
    assert counter.revocation_checks <= 1
    return counter.count


def test_unit_read_is_one_query_whatever_the_tree_size(client, auth, unit_ids):
    assert queries_for(client, f"/v1/units/{unit_ids['CS 34']}") == 1  # 28 criteria, range, evidence, guidance
    assert queries_for(client, f"/v1/units/{unit_ids['B13']}") == 1  # 27 criteria, knowledge, mappings
    author = auth("author_skills_cfa")
    empty = queries_for(client, f"/v1/units/{unit_ids['CS 47']}?status=draft", author)  # 0 criteria
    large = queries_for(client, f"/v1/units/{unit_ids['CS 40']}?status=draft", author)  # 25 criteria
    assert empty == large == 1


@pytest.mark.parametrize("path", ["/v1/units?status=published", "/v1/standards", "/v1/qualifications"])
def test_list_is_two_queries_whatever_the_page_size(client, path):
    assert queries_for(client, f"{path}&limit=1" if "?" in path else f"{path}?limit=1") == 2
    assert queries_for(client, f"{path}&limit=500" if "?" in path else f"{path}?limit=500") == 2


def test_criterion_and_outcome_reads_are_one_query(client, unit_ids):
    cs34 = client.get(f"/v1/units/{unit_ids['CS 34']}").get_json()
    outcome = cs34["learning_outcomes"][2]
    assert queries_for(client, f"/v1/learning-outcomes/{outcome['id']}") == 1
    assert queries_for(client, f"/v1/criteria/{outcome['criteria'][5]['id']}") == 1


def test_rendering_a_version_is_constant_in_its_size(database, unit_ids):
    def render_queries(code):
        version = UnitVersion.get(UnitVersion.unit == unit_ids[code])
        with count_work() as counter:
            render_unit_version(version)
        return counter.count

    assert render_queries("CS 47") == render_queries("CS 34") == render_queries("B13")


def test_an_enrolment_s_lists_cost_the_same_with_one_record_as_with_many(client, auth, identities, unit_ids):
    from tests.tracking_helpers import criteria_of, enrol, make_learner, post

    learner = make_learner(client, auth, identities)["id"]
    enrolment = enrol(client, auth, identities, learner, unit_ids["B13"],
                      assessors=("assessor_a", "trainee_assessor_a"))["id"]
    criteria = criteria_of(client, unit_ids["B13"])
    admin = auth("admin")

    def evidence(claimed):
        return post(client, auth, "lms_client_a", f"/v1/enrolments/{enrolment}/evidence", {
            "type": "observation", "title": "Seen", "date": "2026-10-01", "authenticity_declared": True,
            "criterion_ids": claimed})

    def decision(criterion, caller="assessor_a"):
        return post(client, auth, caller, f"/v1/enrolments/{enrolment}/decisions",
                    {"criterion_id": criterion, "outcome": "met", "feedback": "Seen."})

    lists = [f"/v1/enrolments/{enrolment}/evidence", f"/v1/enrolments/{enrolment}/decisions",
             f"/v1/learners/{learner}/progress", f"/v1/enrolments?learner_id={learner}"]
    evidence(criteria[:1])
    decision(criteria[0])
    one = [queries_for(client, url, admin) for url in lists]
    for n in range(1, 4):
        evidence(criteria[n:n + 3])
        signed = decision(criteria[n], caller="trainee_assessor_a")
        post(client, auth, "assessor_a", f"/v1/decisions/{signed['id']}/countersign", None, status=200)
    evidence([])  # claimed against nothing yet
    enrol(client, auth, identities, learner, unit_ids["CS 34"], assessors=(), iqas=())  # no staff yet
    assert [queries_for(client, url, admin) for url in lists] == one
