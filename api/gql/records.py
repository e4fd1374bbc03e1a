"""How GraphQL objects are backed: by the same dicts the services return to REST, so both edges show the same values.

A field without a resolver reads the key of the same (python, snake_case) name from its parent dict. Objects that
must be told apart in a union (mutation results) are wrapped with ``as_type``.
"""

from typing import Generic, TypeVar

import strawberry

from api.errors import InvalidParameter
from api.services.common.pagination import Page, decode_cursor, encode_cursor

T = TypeVar("T")


def resolve_attribute(source, name: str):
    """The default resolver: a key of a service dict (None when an optional key is absent), else an attribute."""
    if isinstance(source, dict):
        return source.get(name)
    return getattr(source, name)


class Record(dict):
    """A service dict that can carry strawberry's type mark (a plain dict cannot take attributes)."""


def as_type(type_: type, body: dict) -> Record:
    """Mark ``body`` as an instance of the strawberry type ``type_`` so a union can tell which member it is."""
    return strawberry.cast(type_, Record(body))


@strawberry.type(description="Where a page ends and whether another follows (Relay cursor connections).")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None
    has_previous_page: bool = strawberry.field(
        description="Always false: pages are read forwards with `first` and `after`.")
    start_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Pass as `after` to read the items that follow this one.")
    node: T


@strawberry.type(description="A page of a list, read forwards with `first` (at most the configured maximum) and "
                             "`after` (an `endCursor` or edge cursor from an earlier page).")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    nodes: list[T] = strawberry.field(description="The edges' nodes, for clients that do not need cursors.")
    page_info: PageInfo
    total_count: int | None = strawberry.field(
        description="How many items match in all pages (X-Total-Count in REST); null when more than 10,000 match, "
                    "which are not counted (a count would read every one of them for every page).")


def _connection(nodes: list, cursors: list[str], next_cursor: str | None, total: int | None) -> dict:
    return {
        "edges": [{"cursor": c, "node": n} for c, n in zip(cursors, nodes, strict=True)], "nodes": nodes,
        "page_info": {"has_next_page": next_cursor is not None, "end_cursor": cursors[-1] if cursors else None,
                      "has_previous_page": False, "start_cursor": cursors[0] if cursors else None},
        "total_count": total,
    }


def connection_from_page(page: Page) -> dict:
    """A connection over one keyset page from a service (the same items, order and cursors as REST)."""
    return _connection(page.items, [page.cursor_at(i) for i in range(len(page.items))], page.next_cursor,
                       page.total)


def connection_from_list(items: list, key_of, first: int, after: str | None) -> dict:
    """A connection over a whole list that a service returns unpaged: ``after`` is the cursor of an item in it."""
    cursors = [encode_cursor([key_of(item)]) for item in items]
    start = 0
    if after is not None:
        decode_cursor(after, 1, parameter="after")  # InvalidParameter for anything that is not one of our cursors
        if after not in cursors:
            raise InvalidParameter("after is not the cursor of an item in this list",
                                   errors={"after": ["unknown cursor"]})
        start = cursors.index(after) + 1
    end = start + first
    return _connection(items[start:end], cursors[start:end], cursors[end - 1] if end < len(items) else None,
                       len(items))
