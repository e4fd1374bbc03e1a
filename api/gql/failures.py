"""How a GraphQL mutation runs a write and reports what went wrong: the write runs in one transaction (nothing
half-written), and the same ApiError a REST client gets as problem+json becomes a member of the mutation's result
union (ValidationError, NotFound, Forbidden, Conflict, PreconditionFailed or AuthenticationRequired), carrying the
HTTP status REST answers for it."""

from collections.abc import Callable
from typing import Annotated, Union

import strawberry

from api.db import write_transaction
from api.errors import ApiError
from api.gql.content_types import Info
from api.services.common.access import require_authenticated


@strawberry.type
class FieldError:
    field: str
    messages: list[str]


@strawberry.interface(description="An expected failure: what went wrong, in words for a person.")
class Problem:
    message: str
    http_status: int = strawberry.field(description="The HTTP status REST answers for the same failure.")


@strawberry.type(description="The input broke a rule (REST 400/422); `fields` names each bad field.")
class ValidationError(Problem):
    fields: list[FieldError]


@strawberry.type(description="The record does not exist or is not visible to you (REST 404).")
class NotFound(Problem):
    pass


@strawberry.type(description="You can see the record but may not do this to it (REST 403).")
class Forbidden(Problem):
    pass


@strawberry.type(description="The record's state does not allow this, e.g. already countersigned, or the write would "
                             "duplicate a record (REST 409). For a duplicate, `existingId` and `existingHref` name the "
                             "record that exists and `fields` the field whose value it holds.")
class Conflict(Problem):
    existing_id: strawberry.ID | None = None
    existing_href: str | None = None
    fields: list[FieldError] = strawberry.field(default_factory=list)


@strawberry.type(description="The `etag` you sent is not the record's current one: someone changed it since you read "
                             "it (REST 412). Read it again, and decide whether your change still applies.")
class PreconditionFailed(Problem):
    pass


@strawberry.type(description="This needs a bearer token (REST 401).")
class AuthenticationRequired(Problem):
    pass


PROBLEM_TYPES = (ValidationError, NotFound, Forbidden, Conflict, PreconditionFailed, AuthenticationRequired)


def problem_of(error: ApiError) -> Problem:
    """The union member for an ApiError, chosen by its HTTP status."""
    kinds = {401: AuthenticationRequired, 403: Forbidden, 404: NotFound, 412: PreconditionFailed,
             428: PreconditionFailed}
    kind = kinds.get(error.status)
    if kind is not None:
        return kind(message=error.detail, http_status=error.status)
    fields = [FieldError(field=name, messages=list(messages)) for name, messages in (error.errors or {}).items()]
    if error.status == 409:
        return Conflict(message=error.detail, http_status=error.status, fields=fields,
                        existing_id=error.extensions.get("existing_id"),
                        existing_href=error.extensions.get("existing_href"))
    return ValidationError(message=error.detail, http_status=error.status, fields=fields)


def run_write(info: Info, write: Callable, present: Callable):
    """Run ``write(principal)`` in one transaction and ``present`` its result, or the Problem for an ApiError (the
    transaction is rolled back first, and the context notes the refusal: Context.refused_write_status). After a
    write, nested fields load afresh: a record read before it (an etag, say) is not served again."""
    principal = info.context.principal
    try:
        require_authenticated(principal)  # as in REST, a missing token is reported before a bad input
        with write_transaction():
            presented = present(write(principal))
    except ApiError as error:
        if info.context.refused_write_status is None:
            info.context.refused_write_status = error.status
        return problem_of(error)
    info.context.loaders.clear()
    return presented



def result_union(name: str, success: type):
    """The result of a mutation: ``success`` or one of the expected failures."""
    return Annotated[Union[success, *PROBLEM_TYPES], strawberry.union(name)]  # noqa: UP007 - a union built of a tuple
