"""The raw SQL of the learner import (run with api.db.fetch_in): what a batch of rows must know of the learners and
enrolments already at the centre. Parameters as named; the IN list, {values}, is the rows' ULNs, external ids or
learner ids (ids as hex)."""

# ULNs of the centre's learners who are not active. Parameters: centre, "active"; ULNs.
INACTIVE_ULNS_SQL = "SELECT uln FROM learner WHERE centre_id = {p} AND status <> {p} AND uln IN ({values})"

# Who holds each external id of one system at the centre: (external id, the holder's ULN). Parameters: centre,
# system; external ids.
EXTERNAL_ID_HOLDERS_SQL = ("SELECT e.external_id, l.uln FROM learner_external_id AS e "
                           "JOIN learner AS l ON l.id = e.learner_id "
                           "WHERE e.centre_id = {p} AND e.system = {p} AND e.external_id IN ({values})")

# The centre's learners with these ULNs, with the fields a row may set. Parameters: centre; ULNs.
LEARNERS_BY_ULN_SQL = ("SELECT id, uln, given_name, family_name, email, date_of_birth, status FROM learner "
                       "WHERE centre_id = {p} AND uln IN ({values})")

# (learner, unit) of every enrolment of these learners. Parameters: learner ids.
ENROLLED_UNITS_SQL = "SELECT learner_id, unit_id FROM enrolment WHERE learner_id IN ({values})"

# (learner, system, external id) of every external id these learners hold. Parameters: learner ids.
HELD_EXTERNAL_IDS_SQL = "SELECT learner_id, system, external_id FROM learner_external_id WHERE learner_id IN ({values})"
