"""The caches of parsed documents' derived facts (validation verdicts, costs, compiled forms), shared by every request
of a process: keyed by the id of the document (or AST node) they were derived from."""

from collections.abc import Callable, Hashable

CACHE_SIZE = 256


def remembered(cache: dict, key: Hashable, anchor: object, compute: Callable[[], object],
               size: int = CACHE_SIZE):
    """``compute()``, stored in ``cache`` under ``key`` (which holds ``id(anchor)``) and returned from there while the
    entry's anchor is ``anchor`` itself. The entry keeps its anchor alive, so that id cannot be reused by another
    object while the entry exists. The cache is emptied when full; single dict operations are atomic, so threads
    may share it. If ``compute`` raises, nothing is stored."""
    cached = cache.get(key)
    if cached is None or cached[0] is not anchor:
        value = compute()
        if len(cache) >= size:
            cache.clear()
        cached = cache[key] = (anchor, value)
    return cached[1]
