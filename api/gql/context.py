"""The per-request GraphQL context: who is calling, the limits in force, and batch loaders that remove N+1 queries.

Batching without async: every resolver that returns a list of records *announces* them (``ctx.seen``), and so does
every loader that fetches records with nested fields of their own (all learners' enrolments at once, say). The first
time a nested field of an announced record is resolved, its loader fetches that field for every announced record not
fetched yet, in one call of a batch service. A tree of any size therefore costs a fixed number of queries per level,
even though graphql-core resolves it depth first.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from api.services.common.access import Principal
from api.services.content import catalog
from api.services.credentials import reading
from api.services.tracking import batch_reads, progress


class BatchLoader:
    """Values for keys taken from announced parent records, fetched in batches on first use.

    ``key_of(parent)`` gives a parent's key (None: the parent has none); ``fetch(keys)`` returns {key: value} for the
    keys it finds (missing keys load as ``default``)."""

    def __init__(self, key_of: Callable[[dict], str | None], fetch: Callable[[list], dict], default=None):
        self.key_of, self.fetch, self.default = key_of, fetch, default
        self.parents: list[dict] = []
        self.scanned = 0
        self.values: dict = {}

    def load(self, parent: dict):
        """The value for ``parent``, fetching it with every other announced parent's value if not fetched yet."""
        key = self.key_of(parent)
        if key is None:
            return self.default
        if key not in self.values:
            wanted = {key}
            for other in self.parents[self.scanned:]:
                other_key = self.key_of(other)
                if other_key is not None and other_key not in self.values:
                    wanted.add(other_key)
            self.scanned = len(self.parents)
            found = self.fetch(sorted(wanted))
            for wanted_key in wanted:
                self.values[wanted_key] = found.get(wanted_key, self.default)
        return self.values[key]


@dataclass
class GraphQLLimits:
    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 5000
    max_cost: int = 50_000
    max_page_size: int = 100
    default_page_size: int = 50


@dataclass
class Context:
    """What every resolver gets as ``info.context``."""

    principal: Principal
    limits: GraphQLLimits = field(default_factory=GraphQLLimits)
    loaders: dict[str, dict[str, BatchLoader]] = field(default_factory=dict)
    refused_write_status: int | None = None  # the REST status of the first write a mutation refused (run_write)

    def seen(self, kind: str, records: list[dict]) -> list[dict]:
        """Announce records of ``kind`` ("enrolment", "learner", "unit") to the loaders of their nested fields."""
        for loader in self._loaders(kind).values():
            loader.parents.extend(records)
        return records

    def load(self, kind: str, name: str, parent: dict):
        """The nested field ``name`` of the ``kind`` record ``parent``, batch-loaded."""
        return self._loaders(kind)[name].load(parent)

    def _loaders(self, kind: str) -> dict[str, BatchLoader]:
        if kind not in self.loaders:
            self.loaders[kind] = _LOADER_FACTORIES[kind](self)
        return self.loaders[kind]


def _enrolment_loaders(context: Context) -> dict[str, BatchLoader]:
    principal, by_id = context.principal, _field("id")
    return {
        "learner": BatchLoader(_field("learner_id"), lambda ids: batch_reads.learners_by_id(principal, ids)),
        "unit_version": BatchLoader(_field("unit_version_id"), batch_reads.pinned_documents),
        "progress": BatchLoader(by_id, lambda ids: {str(k): v for k, v in progress.progress_for(ids).items()}),
        "decisions": BatchLoader(by_id, lambda ids: batch_reads.decisions_by_enrolment(principal, ids), default=[]),
        "evidence": BatchLoader(by_id, lambda ids: batch_reads.evidence_by_enrolment(principal, ids), default=[]),
        "iqa_samples": BatchLoader(by_id, lambda ids: batch_reads.samples_by_enrolment(principal, ids), default=[]),
        "etag": BatchLoader(by_id, lambda ids: batch_reads.enrolment_etags(principal, ids)),
    }


def _learner_loaders(context: Context) -> dict[str, BatchLoader]:
    def enrolments(learner_ids: list) -> dict:
        found = batch_reads.enrolments_by_learner(context.principal, learner_ids)
        for items in found.values():
            context.seen("enrolment", items)  # so their nested fields load for all learners at once
        return found

    return {"enrolments": BatchLoader(_field("id"), enrolments, default=[]),
            "etag": BatchLoader(_field("id"), lambda ids: batch_reads.learner_etags(context.principal, ids)),
            "credentials": BatchLoader(_field("id"), lambda ids: reading.credentials_by_learner(context.principal, ids),
                                       default=[])}


def _unit_loaders(context: Context) -> dict[str, BatchLoader]:
    return {f"versions_{status}": BatchLoader(_field("id"), _versions(status, context.principal), default=[])
            for status in ("draft", "published", "withdrawn")}


def _versions(status: str, principal: Principal):
    return lambda ids: catalog.versions_by_unit(ids, status, principal)


def _field(name: str) -> Callable[[dict], str | None]:
    return lambda record: record.get(name)


_LOADER_FACTORIES = {"enrolment": _enrolment_loaders, "learner": _learner_loaders, "unit": _unit_loaders}
