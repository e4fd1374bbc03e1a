"""Build a tracking database at a fraction of a national deployment, with bulk SQL (COPY on PostgreSQL), for
bench/scale.py. Not through the API: at 100% it is about 30 million rows.

100% is NATIONAL: 500,000 learners across 2,000 centres, 1,000,000 enrolments on 500 units, about 10,000,000
decisions, 5,000,000 evidence items with 10,000,000 claims, 2,000,000 audit events and 1,000,000 change-feed
entries. The distributions: centre sizes fall off as 1/rank^0.8 after one large centre (20,000 enrolments at 100%);
a learner has 1 to 3 enrolments on different units; 75% of enrolments are active, 15% completed (every criterion
met), 10% withdrawn; a criterion that is assessed has 1 to 3 decisions (70/20/10%), the earlier ones not yet met.
Every enrolment's tally (enrolment_tally) is written from what was generated for it, as the app would have kept it;
bench/scale.py checks a sample against the app's own derivation.

The fixed centre BENCH (made by the caller through the CLI) is left alone: the records a bench measures are made
there through the API, the same at every size, so that only what surrounds them grows."""

import json
import random
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import yaml

NATIONAL = {"learners": 500_000, "centres": 2_000, "large_centre_enrolments": 20_000, "enrolments": 1_000_000,
            "units": 500, "decisions": 10_000_000, "evidence": 5_000_000, "claims": 10_000_000,
            "audit_events": 2_000_000, "changes": 1_000_000}
SURNAMES = ("Adams", "Allen", "Anderson", "Bailey", "Baker", "Begum", "Bell", "Bennett", "Brown", "Campbell",
            "Carter", "Clark", "Clarke", "Collins", "Cook", "Cooper", "Cox", "Davies", "Davis", "Edwards", "Ellis",
            "Evans", "Green", "Hall", "Harris", "Harrison", "Hill", "Hughes", "Jackson", "James", "Johnson", "Jones",
            "Kelly", "Khan", "King", "Kowalski", "Lee", "Lewis", "Lovelace", "Marshall", "Martin", "Miller",
            "Mitchell", "Moore", "Morgan", "Morris", "Murphy", "Nowak", "O'Brien", "Okafor", "Parker", "Patel",
            "Phillips", "Richardson", "Roberts", "Robinson", "Scott", "Shaw", "Simpson", "Singh", "Smith", "Taylor",
            "Thomas", "Thompson", "Turner", "Walker", "Ward", "Watson", "White", "Williams", "Wilson", "Wood",
            "Wright", "Young")
GIVEN = ("Ada", "Aisha", "Alfie", "Amelia", "Archie", "Aria", "Arthur", "Ava", "Cerys", "Charlie", "Daisy", "Ella",
         "Emily", "Evie", "Ewan", "Florence", "Freddie", "Freya", "George", "Grace", "Harry", "Henry", "Isla", "Ivy",
         "Jack", "Jacob", "James", "Joshua", "Kofi", "Leo", "Lily", "Mia", "Mohammed", "Muhammad", "Niamh", "Noah",
         "Oliver", "Olivia", "Oscar", "Poppy", "Priya", "Rhys", "Rosie", "Sienna", "Sophia", "Theo", "Thomas",
         "William", "Willow", "Zofia")
FEEDBACK = "Observed at work; the witness statement and the record show each step of the criterion."
START = datetime(2024, 9, 1)


def hex_id(kind: int, n: int) -> str:
    """A UUID as 32 hex digits (how both backends accept one), distinct for each (kind, n)."""
    return f"{kind:04x}{n:028x}"


@dataclass
class Version:
    unit_id: str
    version_id: str
    owner_id: str
    criteria: list[str]


class BulkWriter:
    """Rows into tables, fast: executemany in one transaction on SQLite, COPY on PostgreSQL."""

    def __init__(self, database_url: str):
        self.sqlite = database_url.startswith("sqlite:///")
        if self.sqlite:
            self.connection = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
            # No journal while the bench builds (nothing else is connected): in WAL mode every page of the build
            # went through the log first, and a 100% build grew it past 11 GB in 30 minutes
            self.connection.execute("PRAGMA journal_mode = OFF")
            self.connection.execute("PRAGMA synchronous = OFF")
            self.connection.execute("PRAGMA cache_size = -1000000")
            self.connection.execute("BEGIN")
        else:
            import psycopg

            self.connection = psycopg.connect(database_url)

    def query(self, sql: str) -> list[tuple]:
        cursor = self.connection.cursor()
        cursor.execute(sql)
        return cursor.fetchall()

    def write(self, table: str, columns: tuple, rows) -> int:
        """Insert every row of the iterable ``rows`` (tuples in ``columns`` order); the number written."""
        count, chunk = 0, []
        for row in rows:
            chunk.append(row)
            if len(chunk) == 50_000:
                count += self._flush(table, columns, chunk)
                chunk = []
        return count + self._flush(table, columns, chunk)

    def _flush(self, table: str, columns: tuple, chunk: list) -> int:
        if not chunk:
            return 0
        if self.sqlite:
            marks = ", ".join("?" * len(columns))
            self.connection.executemany(f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({marks})', chunk)
            return len(chunk)
        with self.connection.cursor() as cursor, \
                cursor.copy(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN') as copy:
            for row in chunk:
                copy.write_row(row)
        return len(chunk)

    def commit(self) -> None:
        if self.sqlite:
            self.connection.execute("COMMIT")
            self.connection.execute("BEGIN")
        else:
            self.connection.commit()

    def close(self) -> None:
        self.commit()
        if self.sqlite:
            self.connection.execute("COMMIT")
            self.connection.execute("PRAGMA journal_mode = WAL")  # as the app runs it
        else:
            self.connection.autocommit = True
            with self.connection.cursor() as cursor:
                # what autovacuum would have done by the time a real table had grown (since PostgreSQL 13 it
                # vacuums tables that only grow, too): statistics, hint bits and the visibility map. Without the
                # last two, each capped count of a list read and dirtied a new stretch of a cold table, and the
                # sync list of decisions and the audit page grew 1.6-1.7x from 1% to 100% (bench/README.md)
                cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
                for (table,) in cursor.fetchall():  # the bench's schema only, not every schema's
                    cursor.execute(f'VACUUM (ANALYZE) "{table}"')
        self.connection.close()


def unit_clones(units_dir: Path, count: int, target: Path) -> int:
    """YAML files of ``count`` further published units (copies of the published units in ``units_dir`` under new
    codes), so that the database holds as many units as a national deployment; the number written."""
    published = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(units_dir.glob("*.yaml"))]
    published = [d for d in published if d.get("kind") == "unit" and d.get("status") == "published"]
    target.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        document = dict(published[n % len(published)])
        document["code"] = f"SCALE {n:04d}"
        (target / f"scale-{n:04d}.yaml").write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return count


def build(database_url: str, fraction: float, seed: int = 20261203) -> dict:
    """Fill ``database_url`` (migrated, units loaded, centre BENCH made) at ``fraction`` of NATIONAL; what was
    written, by table, with the seconds it took."""
    started = time.perf_counter()
    rng = random.Random(seed)
    out = BulkWriter(database_url)
    versions = _published_versions(out)
    sizes = {k: max(1, round(v * fraction)) for k, v in NATIONAL.items()}
    centres = [hex_id(1, n) for n in range(sizes["centres"])]
    now = START.isoformat(sep=" ")
    counts = {"centre": out.write("centre", ("id", "code", "name", "created_at"),
                                  ((c, f"SCALE-{n}", f"Centre {n}", now) for n, c in enumerate(centres)))}
    assessors = [hex_id(2, n) for n in range(len(centres))]
    counts["account"] = out.write("account", (
        "id", "email", "display_name", "password_hash", "roles", "assessor_status", "is_active", "created_at",
        "token_generation", "accepts_delegation", "delegation_generation"), (
        (a, f"assessor{n}@scale.test", f"Assessor {n}", "!", '["assessor"]', "qualified", 1, now, 0, 1, 0)
        for n, a in enumerate(assessors)))
    out.write("account_centre", ("account_id", "centre_id"), zip(assessors, centres, strict=True))
    plan = _learners_per_centre(sizes, rng)
    counters = {"learner": 0, "enrolment": 0, "enrolment_staff": 0, "decision": 0, "evidence": 0, "claim": 0,
                "enrolment_tally": 0}
    rows = {table: [] for table in counters}
    decision_share = sizes["decisions"] / sizes["enrolments"]  # decisions per enrolment, on average
    evidence_share = sizes["evidence"] / sizes["enrolments"]
    for centre_index, learners in enumerate(plan):
        centre, assessor = centres[centre_index], assessors[centre_index]
        per_learner = 2 if centre_index == 0 else None  # the large centre: 2 enrolments each
        for _ in range(learners):
            _learner_rows(rows, counters, rng, centre, assessor, versions, per_learner, decision_share,
                          evidence_share)
            if len(rows["decision"]) > 200_000:
                _flush(out, rows)
    _flush(out, rows)
    out.commit()
    counts.update(counters)
    counts["audit_event"] = out.write("audit_event", (
        "id", "occurred_at", "actor", "action", "subject_type", "subject_id", "centre_id", "request_id", "before",
        "after"), _audit_rows(rng, sizes["audit_events"], centres, counters["decision"]))
    counts["feed_event"] = out.write("feed_event", (
        "occurred_at", "type", "action", "unit_id", "owner_id", "version_id", "number", "status", "etag", "actor"),
        _change_rows(rng, sizes["changes"], versions))
    out.close()
    return {"fraction": fraction, "rows": counts, "large_centre": centres[0],
            "build_seconds": round(time.perf_counter() - started, 1)}


def _published_versions(out: BulkWriter) -> list[Version]:
    rows = out.query("SELECT CAST(v.unit_id AS TEXT), CAST(v.id AS TEXT), CAST(u.owner_id AS TEXT), "
                     "CAST(c.id AS TEXT) FROM unit_version v JOIN unit u ON u.id = v.unit_id "
                     "JOIN assessment_criterion c ON c.version_id = v.id "
                     "WHERE v.status = 'published' ORDER BY v.id, c.position")
    found: dict[str, Version] = {}
    for unit, version, owner, criterion in rows:
        found.setdefault(version, Version(unit.replace("-", ""), version.replace("-", ""), owner.replace("-", ""),
                                          [])).criteria.append(criterion.replace("-", ""))
    return list(found.values())


def _learners_per_centre(sizes: dict, rng: random.Random) -> list[int]:
    """Learners in each centre: the first holds the large centre's enrolments (two each), the rest share the
    remaining learners by 1/rank^0.8."""
    large = max(1, sizes["large_centre_enrolments"] // 2)
    rest = max(0, sizes["learners"] - large)
    weights = [1 / (rank + 1) ** 0.8 for rank in range(sizes["centres"] - 1)]
    total = sum(weights) or 1
    shares = [int(rest * w / total) for w in weights]
    if shares:
        shares[0] += rest - sum(shares)
    return [large, *shares]


def _learner_rows(rows, counters, rng, centre, assessor, versions, per_learner, decision_share, evidence_share):
    n = counters["learner"]
    counters["learner"] += 1
    learner = hex_id(3, n)
    at = (START + timedelta(minutes=n)).isoformat(sep=" ")
    rows["learner"].append((learner, centre, f"{2_000_000_000 + n:010d}", rng.choice(GIVEN), rng.choice(SURNAMES),
                            None, None, "active", 1, None, at, at))
    for version in rng.sample(versions, per_learner or rng.choice((1, 2, 2, 3))):
        _enrolment_rows(rows, counters, rng, learner, centre, assessor, version, at, decision_share, evidence_share)


def _enrolment_rows(rows, counters, rng, learner, centre, assessor, version, at, decision_share, evidence_share):
    e = counters["enrolment"]
    counters["enrolment"] += 1
    enrolment = hex_id(4, e)
    roll = rng.random()
    status = "completed" if roll < 0.15 else "withdrawn" if roll < 0.25 else "active"
    rows["enrolment"].append((enrolment, learner, centre, version.unit_id, version.version_id, status, "2024-09-01",
                              None, 1, at, at))
    rows["enrolment_staff"].append((enrolment, assessor, centre, "assessor"))
    criteria = version.criteria
    if status == "completed":
        assessed = list(criteria)
    else:  # the rest of the decisions spread over active and withdrawn enrolments
        wanted = max(0, (decision_share - 0.15 * len(criteria) * 1.4) / 0.85 / 1.4)
        assessed = rng.sample(criteria, min(len(criteria), int(rng.uniform(0, 2 * wanted))))
    met = 0
    for criterion in assessed:
        previous = None
        times = rng.choices((1, 2, 3), (70, 20, 10))[0]
        for sequence in range(1, times + 1):
            last = sequence == times
            outcome = "met" if last and (status == "completed" or rng.random() < 0.8) else "not_yet_met"
            decision = hex_id(5, counters["decision"])
            counters["decision"] += 1
            rows["decision"].append((decision, enrolment, criterion, sequence, outcome, FEEDBACK,
                                     "Further evidence seen." if previous else None, previous, assessor, "qualified",
                                     "[]", at, at))
            previous = decision
        met += outcome == "met"
    claimed = set()
    for _ in range(round(rng.uniform(0, 2 * evidence_share)) if assessed else 0):
        evidence = hex_id(6, counters["evidence"])
        counters["evidence"] += 1
        rows["evidence"].append((evidence, enrolment, "observation", "Observed at work", None, "2024-10-01", None,
                                 None, 1, f"account:{assessor}", at, at))
        for criterion in rng.sample(criteria, min(2, len(criteria))):
            rows["claim"].append((hex_id(7, counters["claim"]), evidence, enrolment, criterion, at))
            counters["claim"] += 1
            claimed.add(criterion)
    rows["enrolment_tally"].append((enrolment, centre, version.version_id, len(criteria), len(claimed), met, 0, 0,
                                    0, 0, int(met == len(criteria))))  # every enrolment has one, as in the app
    counters["enrolment_tally"] += 1
    counters["enrolment_staff"] += 1


COLUMNS = {
    "learner": ("id", "centre_id", "uln", "given_name", "family_name", "email", "date_of_birth", "status",
                "row_version", "pseudonymised_at", "created_at", "updated_at"),
    "enrolment": ("id", "learner_id", "centre_id", "unit_id", "unit_version_id", "status", "start_date",
                  "planned_end_date", "row_version", "created_at", "updated_at"),
    "enrolment_staff": ("enrolment_id", "account_id", "centre_id", "role"),
    "decision": ("id", "enrolment_id", "criterion_id", "sequence", "outcome", "feedback", "reason", "supersedes_id",
                 "assessor_id", "assessor_status", "evidence_ids", "created_at", "updated_at"),
    "evidence": ("id", "enrolment_id", "evidence_type_id", "title", "description", "evidence_date", "reference_uri",
                 "sha256", "authenticity_declared", "submitted_by", "created_at", "updated_at"),
    "claim": ("id", "evidence_id", "enrolment_id", "criterion_id", "created_at"),
    "enrolment_tally": ("enrolment_id", "centre_id", "unit_version_id", "criteria", "claimed", "met", "verified",
                        "reopened", "iqa_outstanding", "awaiting_countersignature", "complete"),
}


def _flush(out: BulkWriter, rows: dict) -> None:
    for table in COLUMNS:  # parents before children
        out.write(table, COLUMNS[table], rows[table])
        rows[table].clear()


def _audit_rows(rng: random.Random, count: int, centres: list[str], decisions: int):
    for n in range(count):
        at = (START + timedelta(seconds=n * 7)).isoformat(sep=" ")
        subject = hex_id(5, rng.randrange(max(1, decisions)))
        yield (hex_id(8, n), at, "account:scale", "decision.recorded", "decision", subject,
               centres[n % len(centres)], None, None, json.dumps({"id": subject, "outcome": "met"}))


def _change_rows(rng: random.Random, count: int, versions: list[Version]):
    for n in range(count):
        version = versions[n % len(versions)]
        yield ((START + timedelta(seconds=n * 11)).isoformat(sep=" "), "unit.published", "published", version.unit_id,
               version.owner_id, version.version_id, 1, "published", f'W/"{n:x}"', "system:scale")
