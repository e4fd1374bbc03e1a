"""Lists a client can sort, and sync from with ``updated_since``.

A client that keeps a copy pages through ``sort=updated_at`` from the ``updated_at`` of the newest row it holds
(inclusive: a row stamped in that same second comes again). Pages are in (updated_at, id) order and stop at the sync
horizon (api.db.horizon), so a change committed later never lands behind the client's position: a row that changes
while the client pages comes again further on, at its new state, and nothing is skipped.
"""

from collections.abc import Callable
from datetime import datetime

import peewee

from api import db
from api.services.common.pagination import Page, keyset_page

SORTS = ("name", "updated_at", "created_at")
INDEXED_BY_DEFAULT = ("updated_at",)  # every list that syncs has an (updated_at, id) index


def sorted_page(query: peewee.Select, model: type[peewee.Model], orders: dict[str, tuple[list, Callable]], *,
                sort: str | None, updated_since: datetime | None, cursor: str | None, limit: int,
                indexed: tuple[str, ...] = INDEXED_BY_DEFAULT) -> Page:
    """A page of ``query`` in the order ``orders[sort]`` gives as (sort fields, key of a row); without ``sort``,
    ``updated_at`` order if ``updated_since`` is given, else the first order. Only rows of ``model`` updated at or
    after ``updated_since``; in ``updated_at`` order, only rows stamped before the sync horizon. ``indexed`` names
    the orders an index of ``model`` serves (pagination.keyset_page)."""
    sort = sort or ("updated_at" if updated_since else next(iter(orders)))
    if updated_since is not None:
        query = query.where(model.updated_at >= updated_since)
    if sort == "updated_at":
        horizon = db.settled_before()
        if horizon is not None:
            query = query.where(model.updated_at < horizon)
    fields, key_of = orders[sort]
    return keyset_page(query, fields, cursor, limit, key_of, indexed=sort in indexed)


def by_time(model: type[peewee.Model]) -> dict[str, tuple[list, Callable]]:
    """The ``created_at`` and ``updated_at`` orders of ``model``, in that order (so created_at is the default of a
    list that has only these), each with its id as the tie-break."""
    return {name: ([getattr(model, name), model.id], lambda row, name=name: [getattr(row, name).isoformat(),
                                                                             str(row.id)])
            for name in ("created_at", "updated_at")}
