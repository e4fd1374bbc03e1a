"""The raw insert helpers that bulk imports and hot paths use (api.db.insert_rows / insert_values) store rows as
Model.create would, and fail as it would: with peewee's errors, which the API answers as 409 or 503 problems."""

from datetime import datetime

import peewee
import pytest

from api import db
from api.db import raw
from api.models import RevokedToken


def test_a_duplicate_row_is_a_peewee_integrity_error_and_the_first_row_stays(database):
    row = {"jti": "raw-insert-test", "token_type": "access", "subject": "account:x",
           "expires_at": datetime(2030, 1, 1)}
    db.insert_rows(RevokedToken, [row])
    stored = RevokedToken.get_by_id("raw-insert-test")
    assert stored.expires_at == datetime(2030, 1, 1) and stored.revoked_at is not None  # default filled in
    with pytest.raises(peewee.IntegrityError), database.atomic():
        db.insert_rows(RevokedToken, [{**row, "subject": "account:y"}])
    assert RevokedToken.get_by_id("raw-insert-test").subject == "account:x"


@pytest.mark.parametrize("value, read_back", [
    ({"b": [1, "é"], "a": None}, {"a": None, "b": [1, "é"]}),
    ({1: "integer keys are written as strings as json.dumps writes them"},
     {"1": "integer keys are written as strings as json.dumps writes them"}),
    ({"beyond 64 bits": 2**70}, {"beyond 64 bits": 2**70}),  # orjson refuses it; json.dumps writes it
])
def test_json_text_fields_store_what_json_reads_back(value, read_back):
    from api.models.base import JSONTextField

    field = JSONTextField()
    stored = field.db_value(value)
    assert field.python_value(stored) == read_back
    assert stored == stored.strip() and ", " not in stored  # compact, keys sorted
    assert list(field.python_value(stored)) == sorted(str(k) for k in value)


TRICKY_TEXTS = ["back\\slash", "tab\there", "new\nline", "carriage\rreturn", "\\N", "\\.", "", "  spaced  ",
                "Ōkafor’s 𝔘nit", "semi;colon,comma\"quote'", "end with backslash\\"]


def test_a_bulk_insert_stores_every_text_exactly_and_in_full(database):
    # PostgreSQL is sent a batch this size as COPY (api.raw.COPY_FROM): its escaping must not change a character
    rows = [{"jti": f"bulk-{n:04d}", "token_type": "access", "subject": TRICKY_TEXTS[n % len(TRICKY_TEXTS)] + str(n),
             "expires_at": datetime(2030, 1, 1, 12, 30, n % 60, 1000 * n)}
            for n in range(raw.COPY_FROM + 50)]
    with database.atomic():
        db.insert_rows(RevokedToken, rows)
    stored = {t.jti: (t.subject, t.expires_at)
              for t in RevokedToken.select().where(RevokedToken.jti.startswith("bulk-"))}
    assert stored == {row["jti"]: (row["subject"], row["expires_at"]) for row in rows}


def test_a_bulk_insert_with_one_duplicate_stores_none_of_the_batch(database):
    rows = [{"jti": f"dup-{n:04d}", "token_type": "access", "subject": "s", "expires_at": datetime(2030, 1, 1)}
            for n in range(raw.COPY_FROM + 10)]
    db.insert_rows(RevokedToken, [rows[-1]])
    with pytest.raises(peewee.IntegrityError), database.atomic():
        db.insert_rows(RevokedToken, rows)
    assert RevokedToken.select().where(RevokedToken.jti.startswith("dup-")).count() == 1
