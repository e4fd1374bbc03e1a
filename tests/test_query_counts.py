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
