"""The migrations build the schema the models describe: every index a model declares exists after migrating, and
no other (a dropped or forgotten index otherwise shows up only as a slow query or a slow import)."""

from api.models import ALL_MODELS

# Indexes on expressions (learner name search, migration 014), which a model cannot declare in a form this comparison
# reads: each must exist after migrating, and is left out of the comparison.
EXPRESSION_INDEXES = {"learner": {"learner_centre_id_lower_family_name", "learner_centre_id_lower_given_name"}}


def _declared_indexes(model) -> set[tuple]:
    """(columns, unique) of each index the model declares (names differ between migrations and models)."""
    return {(tuple(getattr(c, "column_name", c.name) for c in index._expressions), index._unique)
            for index in model._meta.fields_to_index()}


def _migrated_indexes(database, table: str) -> set[tuple]:
    return {(tuple(index.columns), index.unique) for index in database.get_indexes(table)
            if not index.name.startswith("sqlite_autoindex_") and not index.name.endswith("_pkey")
            and index.name not in EXPRESSION_INDEXES.get(table, ())}


def test_expression_indexes_exist(database):
    for table, names in EXPRESSION_INDEXES.items():
        assert names <= {index.name for index in database.get_indexes(table)}, table


def test_migrated_indexes_are_the_declared_ones(database):
    drift = {}
    for model in ALL_MODELS:
        table = model._meta.table_name
        declared, migrated = _declared_indexes(model), _migrated_indexes(database, table)
        if declared != migrated:
            drift[table] = {"missing": sorted(declared - migrated), "unexpected": sorted(migrated - declared)}
    assert drift == {}
