"""The raw SQL of the tracking domain (run with api.db.fetch_rows and fetch_in): the checks of a decision write, and
the six reads behind every progress document. Written once as SQL because composing them with peewee cost more than
running them; placeholders are {p}, and {values} is an IN list."""

# Everything decisions.record_decision checks about the enrolment, the assessor and the criterion, in one statement:
# with the evidence statement below it, this stands in for a peewee query per check, which together were most of a
# write's cost. One row if the enrolment exists, else none. Parameters: the assessor (account, then staff assignment),
# the criterion (three times), the enrolment.
DECISION_FACTS_SQL = """
SELECT e.centre_id, e.learner_id, a.id IS NOT NULL, a.learner_id, a.assessor_status,
       EXISTS (SELECT 1 FROM enrolment_staff s
               WHERE s.enrolment_id = e.id AND s.account_id = {p} AND s.role = 'assessor'),
       EXISTS (SELECT 1 FROM assessment_criterion c WHERE c.id = {p} AND c.version_id = e.unit_version_id),
       (SELECT d.id FROM decision d WHERE d.enrolment_id = e.id AND d.criterion_id = {p}
        ORDER BY d.sequence DESC LIMIT 1),
       (SELECT max(d.sequence) FROM decision d WHERE d.enrolment_id = e.id AND d.criterion_id = {p})
FROM enrolment e LEFT JOIN account a ON a.id = {p}
WHERE e.id = {p}"""


# The evidence named by a decision that belongs to its enrolment: (id, submitted_by, claimed against the criterion).
DECISION_EVIDENCE_SQL = """
SELECT ev.id, ev.submitted_by,
       EXISTS (SELECT 1 FROM claim c WHERE c.evidence_id = ev.id AND c.criterion_id = {p})
FROM evidence ev WHERE ev.enrolment_id = {p} AND ev.id IN ({values})"""


# Progress (progress.progress_for): six queries, as SQL: composing them with peewee was a large share of the time of
# a progress document on PostgreSQL. Ids are read as text: psycopg would build a uuid.UUID for every id, much of
# the time taken to read the decisions; SQLite stores them as text already. Parameters: the unit version ids
# (outcomes, criteria) or the enrolment ids (the rest), as hex.
PROGRESS_ENROLMENTS_SQL = """
SELECT CAST(e.id AS TEXT), CAST(e.learner_id AS TEXT), CAST(e.unit_id AS TEXT), u.code, CAST(e.unit_version_id AS TEXT),
       e.status
FROM enrolment e JOIN unit u ON u.id = e.unit_id WHERE e.id IN ({values})"""
PROGRESS_OUTCOMES_SQL = """
SELECT CAST(o.id AS TEXT), CAST(o.version_id AS TEXT), o.number FROM learning_outcome o
WHERE o.version_id IN ({values}) ORDER BY o.position"""
PROGRESS_CRITERIA_SQL = """
SELECT CAST(c.id AS TEXT), CAST(c.outcome_id AS TEXT), c.number FROM assessment_criterion c
WHERE c.version_id IN ({values}) ORDER BY c.position"""
PROGRESS_CLAIMS_SQL = """
SELECT CAST(c.enrolment_id AS TEXT), CAST(c.criterion_id AS TEXT), COUNT(c.id) FROM claim c
WHERE c.enrolment_id IN ({values}) GROUP BY c.enrolment_id, c.criterion_id"""
PROGRESS_DECISIONS_SQL = """
SELECT CAST(d.id AS TEXT), CAST(d.enrolment_id AS TEXT), CAST(d.criterion_id AS TEXT), d.outcome, d.assessor_status,
       CAST(s.decision_id AS TEXT), CAST(d.carried_from_id AS TEXT)
FROM decision d LEFT OUTER JOIN countersignature s ON s.decision_id = d.id
WHERE d.enrolment_id IN ({values}) ORDER BY d.sequence"""
# The same for SQLite, for progress documents: of each criterion of the enrolment's unit version, only the two
# decisions its state depends on (progress._criterion_state), the newest and the newest in effect (made by a qualified
# assessor, countersigned or carried over), each found by walking the (enrolment, criterion, sequence) index back from
# the newest; so a document costs the same however long its criteria's histories grow. (MATERIALIZED keeps SQLite
# from merging the walk into a scan of every decision.) PostgreSQL keeps the statement above: it plans this one in
# about 1.4 ms against 0.55. ``_newest_two(where)`` is the walk, over the enrolments and criteria ``where`` picks.
# Whether decision x (with y, its countersignature) is in effect, as progress._criterion_state decides it; the tally
# write (tallies.TALLY_AND_STATES_SQL) walks to the newest such decision as this walk does.
IN_EFFECT_SQL = "(x.assessor_status = 'qualified' OR y.decision_id IS NOT NULL OR x.carried_from_id IS NOT NULL)"


def _newest_two(where: str) -> str:
    return f"""
WITH wanted AS MATERIALIZED (
  SELECT e.id AS enrolment_id, c.id AS criterion_id,
         (SELECT x.sequence FROM decision x WHERE x.enrolment_id = e.id AND x.criterion_id = c.id
          ORDER BY x.sequence DESC LIMIT 1) AS newest,
         (SELECT x.sequence FROM decision x LEFT OUTER JOIN countersignature y ON y.decision_id = x.id
          WHERE x.enrolment_id = e.id AND x.criterion_id = c.id AND {IN_EFFECT_SQL}
          ORDER BY x.sequence DESC LIMIT 1) AS newest_in_effect
  FROM enrolment e JOIN assessment_criterion c ON c.version_id = e.unit_version_id
  WHERE {where})"""


_OF_NEWEST_TWO = """
FROM wanted JOIN decision d ON d.enrolment_id = wanted.enrolment_id AND d.criterion_id = wanted.criterion_id
                           AND d.sequence IN (wanted.newest, wanted.newest_in_effect)"""
PROGRESS_DECISIONS_NEWEST_SQL = _newest_two("e.id IN ({values})") + """
SELECT CAST(d.id AS TEXT), CAST(d.enrolment_id AS TEXT), CAST(d.criterion_id AS TEXT), d.outcome, d.assessor_status,
       CAST(s.decision_id AS TEXT), CAST(d.carried_from_id AS TEXT)""" + _OF_NEWEST_TWO + """
LEFT OUTER JOIN countersignature s ON s.decision_id = d.id
ORDER BY d.sequence"""
PROGRESS_SAMPLES_SQL = """
SELECT CAST(s.decision_id AS TEXT), v.verdict FROM iqa_sample s LEFT OUTER JOIN iqa_verdict v ON v.sample_id = s.id
WHERE s.enrolment_id IN ({values})"""


# A centre's roll-up (progress.centre_progress) from the stored tallies (tallies.py; every enrolment has one), reading
# only the centre's rows of each table. Every {p} is the centre, as hex. Columns: enrolments, complete, then
# progress.COUNT_KEYS in order; by assessor, the assessor's id first.
_TALLY_SUMS = """COUNT(*), SUM(CASE WHEN t.complete THEN 1 ELSE 0 END), SUM(t.criteria), SUM(t.claimed), SUM(t.met),
       SUM(t.verified), SUM(t.reopened), SUM(t.iqa_outstanding), SUM(t.awaiting_countersignature)"""
CENTRE_TALLY_SQL = f"SELECT {_TALLY_SUMS} FROM enrolment_tally t WHERE t.centre_id = {{p}}"
CENTRE_TALLY_BY_ASSESSOR_SQL = f"""
SELECT CAST(s.account_id AS TEXT), {_TALLY_SUMS}
FROM enrolment_staff s JOIN enrolment_tally t ON t.enrolment_id = s.enrolment_id AND t.centre_id = {{p}}
WHERE s.centre_id = {{p}} AND s.role = 'assessor' GROUP BY s.account_id"""
