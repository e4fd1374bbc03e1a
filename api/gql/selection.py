"""Look ahead at what a query selects, so a list resolver can skip loading what nobody asked for."""

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField


def _fields(selections) -> list[SelectedField]:
    """Fields of a selection set with fragments flattened."""
    found = []
    for selection in selections:
        if isinstance(selection, FragmentSpread | InlineFragment):
            found.extend(_fields(selection.selections))
        else:
            found.append(selection)
    return found


def _at(fields: list[SelectedField], path: str) -> list[SelectedField]:
    for name in path.split("."):
        fields = _fields([s for f in fields if f.name == name for s in f.selections])
    return fields


def requests_only(info, allowed: frozenset, *paths: str) -> bool:
    """True when every field selected under any of ``paths`` (dotted, below this field) is in ``allowed``
    (GraphQL names). Used to decide whether list items need more than their summary."""
    here = _fields([s for field in info.selected_fields for s in field.selections])  # below the current field
    return all(f.name in allowed for path in paths for f in _at(here, path))
