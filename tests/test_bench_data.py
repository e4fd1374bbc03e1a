"""The bulk data bench/scale.py measures on is data the app could have written. Built small on the backend under test
(bench/scale_data.py writes rows straight into the tables, COPY on PostgreSQL), every table holds what the build says
it wrote, and every enrolment's stored tally is what its records derive. A column the bench's writer does not know
(a NOT NULL one added by a migration) fails here, not an hour into a bench run."""

import importlib.util

from api.models import AuditEvent, Decision, Enrolment, FeedEvent, Learner
from api.services.content.loader import load_path
from api.services.tracking import tallies
from tests.conftest import PROJECT_ROOT, UNITS_DIR, bound_fresh_database


def _scale_data():
    spec = importlib.util.spec_from_file_location("scale_data", PROJECT_ROOT / "bench" / "scale_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_scale_bench_builds_data_the_app_reads_as_its_own(fresh_url, database, tmp_path):
    scale_data = _scale_data()
    with bound_fresh_database(fresh_url, database) as fresh:
        scale_data.unit_clones(UNITS_DIR, 4, tmp_path / "clones")  # as bench/scale.py does, fewer
        assert load_path(tmp_path / "clones").ok
        fresh.close()  # the bench's writer is alone on the database while it builds (SQLite: no journal)
        built = scale_data.build(fresh_url, 0.001)  # 2 centres, 500 learners, 10,000 decisions
        fresh.connect(reuse_if_open=True)
        rows = built["rows"]
        assert rows["centre"] == 2 and rows["learner"] >= 400 and rows["decision"] >= 5_000, rows
        assert (Learner.select().count(), Enrolment.select().count(), Decision.select().count()) == (
            rows["learner"], rows["enrolment"], rows["decision"])
        assert AuditEvent.select().count() == rows["audit_event"]
        assert FeedEvent.select().count() >= rows["feed_event"]  # beside the events of loading the units
        assert tallies.drift() == []
