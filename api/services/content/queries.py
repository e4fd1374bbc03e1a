"""The raw SQL of the content domain (run with api.db.fetch_rows)."""

# The hottest read in the API: a unit's stored document at its head version for one status. Composing this query with
# peewee costs several times its execution on SQLite, so it is written once as SQL and only executed per request.
# Parameters: the unit id (as stored), the status.
HEAD_DOCUMENT_SQL = (
    "SELECT v.document, v.etag, v.status, u.owner_id FROM unit_version AS v JOIN unit AS u ON u.id = v.unit_id "
    "WHERE v.unit_id = {p} AND v.status = {p} AND v.is_head"
)
