"""Learner search: which learners ``q`` on the learner list finds.

- Ten digits are a ULN: the learners with exactly that ULN.
- Anything else finds the learners with that external id (exactly, in any system, at a centre visible to the caller)
  and the learners whose name starts with it, case-insensitively: all of it a prefix of the given or the family name
  ("lov" finds Lovelace), or split at a space into a prefix of one and a prefix of the other ("ada lov" and
  "lov ada" find Ada Lovelace). Runs of spaces count as one.

A name prefix is a range on lower(name) that the (centre_id, lower(name)) indexes of migration 014 serve on both
backends: lower(name) >= lower(p) and < lower(p) followed by the highest code point, compared in code point order.
The matches are a UNION of three SELECTs of ids, each served by one index (given name, family name, external id),
joined back to the learners by id: without table statistics, SQLite's planner answers a WHERE that ORs the three by
reading all of the caller's centre.
"""

import operator
import re
import uuid
from functools import reduce

import peewee
from peewee import fn

from api import db
from api.models import Learner, LearnerExternalId
from api.services.common.access import Principal, visible_learner_records

ULN = re.compile(r"[0-9]{10}")
HIGHEST_CHARACTER = "\U0010ffff"  # text that starts with p sorts before p followed by it


def learners_matching(principal: Principal, q: str, centre_id: uuid.UUID | None = None) -> peewee.ModelSelect:
    """Learner.select() narrowed to the learners ``q`` matches (trimmed, 1 to 100 characters: api.inputs.params),
    looked for among those ``principal`` may see (at ``centre_id`` if given). The caller still restricts it to the
    visible learners, as any list of them."""
    if ULN.fullmatch(q):
        return Learner.select().where(Learner.uln == q)
    matches = reduce(operator.or_, _candidates(principal, q, centre_id)).alias("matches")
    # CROSS JOIN: SQLite reads the matches first, then each learner by id (PostgreSQL orders joins itself)
    return Learner.select().from_(matches).join(Learner, peewee.JOIN.CROSS).where(Learner.id == matches.c.id)


def _candidates(principal: Principal, q: str, centre_id) -> list[peewee.Select]:
    """SELECTs of the ids of the learners that match: by given name, by family name, by external id."""
    words = q.split()
    given, family = _folded(Learner.given_name), _folded(Learner.family_name)
    by_name = [_starts(given, words[0]), _starts(family, words[0])]
    if len(words) > 1:
        ways = _ways_to_match(words, given, family)
        by_name = [condition & ways for condition in by_name]
    selects = [_visible(Learner.select(Learner.id).where(condition), principal, centre_id, Learner)
               for condition in by_name]
    external = LearnerExternalId.select(LearnerExternalId.learner).where(LearnerExternalId.external_id == q)
    return [*selects, _visible(external, principal, centre_id, LearnerExternalId)]


def _ways_to_match(words: list[str], given, family) -> peewee.Expression:
    """A name matches ``words`` when all of them are a prefix of the given or the family name, or they split at a
    space into a prefix of one and a prefix of the other. Every way starts one name with the first word: that range
    leads each SELECT, and this narrows it."""
    phrase = " ".join(words)
    ways = [_starts(given, phrase), _starts(family, phrase)]
    for split in range(1, len(words)):
        start, rest = " ".join(words[:split]), " ".join(words[split:])
        ways += [_starts(given, start) & _starts(family, rest), _starts(family, start) & _starts(given, rest)]
    return reduce(operator.or_, ways)


def _visible(query: peewee.Select, principal: Principal, centre_id, model) -> peewee.Select:
    """``query`` over ``model`` (Learner or LearnerExternalId) restricted to the learners the principal may see, at
    ``centre_id`` if given: so that each SELECT seeks its index within the caller's centres."""
    learner = model.id if model is Learner else model.learner
    if centre_id:
        query = query.where(model.centre == centre_id)
    return visible_learner_records(query, principal, model.centre, learner)


def _folded(column: peewee.Field):
    """lower(column), compared in code point order: the expression the name indexes hold."""
    return db.bytewise(fn.lower(column))


def _starts(folded_column, prefix: str) -> peewee.Expression:
    """``folded_column`` starts with ``prefix``, folded by the same lower(), as a range an index serves."""
    low = fn.lower(prefix)
    return (folded_column >= low) & (folded_column < low.concat(HIGHEST_CHARACTER))
