"""Batches of writes in one request (decisions, enrolments): each item under every rule of a single write, all or
none, and a refusal naming the item it is about."""

from api.errors import ApiError


def naming(error: ApiError, item: str) -> ApiError:
    """``error`` with its detail and its errors' paths naming the batch item it is about (``decisions[2]``)."""
    error.detail = f"{item}: {error.detail}"
    error.args = (error.detail,)
    if error.errors:
        error.errors = {f"{item}.{path}": messages for path, messages in error.errors.items()}
    return error
