"""The Flask view for /graphql: GraphQL over HTTP (POST with a JSON body; GET for queries), thin over the schema
(operations run by api.gql.operations).

Written here rather than taken from strawberry.flask because the stock view's request handling (form parsing,
adapters) cost more than executing a whole unit tree. Behaviour:
- The caller comes from the same bearer token as REST; an invalid token is a 401 problem+json before any work.
- A request that is not GraphQL over HTTP (bad JSON, no query, variables or extensions not an object, a wrong
  content type) is a 4xx problem+json, as in REST; a mutation over GET is a 405 (Allow: POST).
- The answer is application/graphql-response+json when the Accept header names that type (GraphQL over HTTP) and
  prefers it to application/json; then a request the server cannot execute (a syntax error, a failed validation or
  limit, variables that do not fit) is a 400 with ``errors`` and no ``data``. Otherwise it is application/json,
  always 200 with ``data``/``errors``, as that type's convention says (and as clients written before the new type
  expect).
- Errors from resolvers carry ``extensions.code`` and ``extensions.status`` (the REST status for the same failure);
  unexpected ones are masked (no stack traces or SQL reach the caller) and logged by the schema. As in REST, a
  database that is locked, busy or unreachable is SERVICE_UNAVAILABLE (503) with ``retryAfter`` in seconds; any
  other unexpected error is INTERNAL_SERVER_ERROR (500) with the ``requestId`` it was logged under.
- ``Idempotency-Key`` on a POST is honoured as on REST writes (api.rest.http.keyed_write): the same key and body
  replay the first answer, another body is a 409. A keyed request is all or nothing: an answer with errors, or with a
  mutation's typed failure, is not stored and nothing it did is kept, so its retry runs it again.
- With trusted documents configured (api.gql.trusted_documents), a request names a document by ``documentId``
  instead of sending ``query``, and only the manifest's documents run; anything else is one GraphQL error.
- A GET that prefers text/html to JSON (a browser's address bar) serves GraphiQL when enabled (development only),
  from this server's own files (no CDN: see api/rest/docs.py), opened with the link's ``query`` and ``variables``.
"""

import orjson
from flask import Response, request
from graphql import ExecutionResult, GraphQLError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from api import db
from api.auth import current_principal
from api.errors import ApiError, BadGraphQLRequest, MethodNotAllowed, UnsupportedMediaType
from api.gql.context import Context
from api.gql.limits import is_expected
from api.gql.operations import OperationRunner
from api.gql.trusted_documents import TrustedDocuments
from api.problems import RETRY_AFTER_SECONDS
from api.rest.docs import html_page
from api.rest.http import Unstored, idempotency_key, keyed_write
from api.services.common import request_context

MASKED_MESSAGE = "Unexpected error: it has been logged with this request's X-Request-ID."
UNAVAILABLE_MESSAGE = "The database is busy or unavailable; the write in progress, if any, was rolled back: retry " \
                      "after retryAfter seconds."
NOT_KEPT_MESSAGE = "A mutation of this request answered a failure, so nothing the request did is kept and its answer " \
                   "is not stored: correct it and send it again (the same Idempotency-Key runs it again)."
MAX_QUERY_LENGTH = 100_000
MAX_OPERATION_NAME = 200
MAX_DOCUMENT_ID = 200
QUERIES_ONLY = frozenset({OperationType.QUERY})  # GET: a mutation must not ride on a link or a prefetch
QUERIES_AND_MUTATIONS = frozenset({OperationType.QUERY, OperationType.MUTATION})
NOT_STORED = {"Cache-Control": "no-store"}
GRAPHQL_PARAMETERS = ("query", "documentId", "variables", "operationName", "extensions")  # of a GET and GraphiQL
GRAPHQL_RESPONSE = "application/graphql-response+json"
GRAPHIQL_QUERY = """# Published content needs no token. For more, put {"Authorization": "Bearer ..."} in Headers below.
{
  units(first: 5) {
    totalCount
    nodes { id code title level }
  }
}
"""


def _request_data(req, by_id: bool) -> tuple[str | None, dict | None, str | None, str | None]:
    """(query, variables, operationName, documentId) from a GET query string or a POST JSON body, with exactly one of
    query and documentId (documentId only when ``by_id``: trusted documents are configured); BadGraphQLRequest if
    not."""
    if req.method != "POST":  # GET, or the HEAD that every GET route also answers: parameters, never a body
        raw = {name: req.args.get(name) for name in GRAPHQL_PARAMETERS}
        for name in ("variables", "extensions"):
            try:
                raw[name] = orjson.loads(raw[name]) if raw[name] else None
            except orjson.JSONDecodeError:
                raise BadGraphQLRequest(f"the {name} parameter is not valid JSON") from None
    else:
        if req.mimetype not in ("application/json", GRAPHQL_RESPONSE):
            raise UnsupportedMediaType('send GraphQL requests as application/json: {"query": ..., "variables": ...}')
        try:
            raw = orjson.loads(req.get_data(cache=False))
        except orjson.JSONDecodeError:
            raise BadGraphQLRequest("the body is not valid JSON") from None
        if not isinstance(raw, dict):
            raise BadGraphQLRequest("the body must be a JSON object with a query (batches are not supported)")
    query, variables, operation = raw.get("query"), raw.get("variables"), raw.get("operationName")
    requested_id = _document_id(raw.get("documentId"), by_id)
    if requested_id is not None:
        if query is not None:
            raise BadGraphQLRequest("send either query or documentId, not both")
    elif not isinstance(query, str) or not query:
        raise BadGraphQLRequest("no GraphQL query: send {\"query\": \"{ units { totalCount } }\"}" +
                                (" or a trusted document's documentId" if by_id else ""))
    elif len(query) > MAX_QUERY_LENGTH:
        raise BadGraphQLRequest(f"the query is longer than {MAX_QUERY_LENGTH} characters")
    for name in ("variables", "extensions"):
        if raw.get(name) is not None and not isinstance(raw[name], dict):
            raise BadGraphQLRequest(f"{name} must be a JSON object")
    if operation is not None and (not isinstance(operation, str) or len(operation) > MAX_OPERATION_NAME):
        raise BadGraphQLRequest(f"operationName must be a string of at most {MAX_OPERATION_NAME} characters")
    return query, variables, operation, requested_id


def _document_id(value, by_id: bool) -> str | None:
    if value is None:
        return None
    if not by_id:
        raise BadGraphQLRequest("this server runs the document sent as query: documentId is for servers with "
                                "trusted documents")
    if not isinstance(value, str) or not value or len(value) > MAX_DOCUMENT_ID:
        raise BadGraphQLRequest(f"documentId must be a string of 1 to {MAX_DOCUMENT_ID} characters")
    return value


def _format_error(error) -> dict:
    """One error as the response shows it, always with ``extensions.code`` and ``extensions.status``: expected
    errors with their message (an ApiError's code is its problem type), unexpected ones masked."""
    if not is_expected(error):
        if db.is_transient(error.original_error):
            return {"message": UNAVAILABLE_MESSAGE, "path": error.path,
                    "extensions": {"code": "SERVICE_UNAVAILABLE", "status": 503, "retryAfter": RETRY_AFTER_SECONDS}}
        return {"message": MASKED_MESSAGE, "path": error.path,
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "status": 500,
                               "requestId": request_context.request_id.get()}}
    formatted = error.formatted
    original = error.original_error
    if isinstance(original, ApiError):
        formatted["extensions"] = {"code": original.type.rsplit("/", 1)[-1].upper().replace("-", "_"),
                                   "status": original.status,
                                   **({"fields": original.errors} if original.errors else {})}
    elif error.path is not None:  # GraphQL's own, raised while resolving (a value a type cannot represent): ours
        formatted["extensions"] = {"code": "INTERNAL_SERVER_ERROR", "status": 500, **(error.extensions or {})}
    else:  # GraphQL's own (syntax, validation, variables, a limit): a request to correct, as REST's 400
        code = "GRAPHQL_PARSE_FAILED" if error.message.startswith("Syntax Error") else "GRAPHQL_VALIDATION_FAILED"
        formatted["extensions"] = {"code": code, "status": 400, **(error.extensions or {})}
    return formatted


def _answer_type(req) -> str:
    """application/graphql-response+json if the Accept header names it and prefers it to application/json (a
    wildcard alone, or no Accept header, is application/json: the type every client understands)."""
    named = any(value == GRAPHQL_RESPONSE and quality > 0 for value, quality in req.accept_mimetypes)
    preferred = req.accept_mimetypes.best_match(("application/json", GRAPHQL_RESPONSE))
    return GRAPHQL_RESPONSE if named and preferred == GRAPHQL_RESPONSE else "application/json"


def _not_executed(result) -> bool:
    """Whether the request failed before execution (syntax, validation, a limit, variables that do not fit): no
    data, and only errors meant for the caller that no field raised."""
    return result.data is None and bool(result.errors) and all(
        error.path is None and is_expected(error) for error in result.errors)


def _browser_navigation(req) -> bool:
    """Whether a GET prefers a page to JSON, as a browser's address bar does (curl's */* takes JSON)."""
    return req.accept_mimetypes.best_match(("application/json", "text/html")) == "text/html"


def _graphiql(req) -> Response:
    """GraphiQL, opened with the request's query and variables when it has them (a link to a query opens it)."""
    unknown = sorted(set(req.args) - set(GRAPHQL_PARAMETERS))
    if unknown:
        raise BadGraphQLRequest(f"unknown parameters {', '.join(unknown)}: GraphiQL takes "
                                f"{', '.join(GRAPHQL_PARAMETERS)}")
    return html_page("docs/graphiql.html", default_query=GRAPHIQL_QUERY, query=req.args.get("query", ""),
                     variables=req.args.get("variables", ""))


def _run(runner: OperationRunner, query: str, variables: dict | None, operation: str | None, method: str,
         context: Context) -> ExecutionResult:
    """The operation run for the current caller; a 405 problem for a mutation on GET or HEAD, a 400 for another
    operation the method may not run or a missing operation."""
    try:
        return runner.run(query, variables, operation, context,
                          QUERIES_AND_MUTATIONS if method == "POST" else QUERIES_ONLY)
    except InvalidOperationTypeError as error:
        if method != "POST" and error.operation_type == OperationType.MUTATION:  # GraphQL over HTTP: 405, halted
            raise MethodNotAllowed(f"a mutation cannot run on {method} (a link or a prefetch must not write): send "
                                   "it with POST", headers={"Allow": "POST"}) from None
        raise BadGraphQLRequest(error.as_http_error_reason(method)) from None
    except CannotGetOperationTypeError as error:
        raise BadGraphQLRequest(error.as_http_error_reason()) from None


def make_view(runner: OperationRunner, *, graphiql: bool, trusted: TrustedDocuments | None = None):
    """The view function for /graphql, running operations with ``runner`` (only ``trusted`` documents, if given)."""
    def execute(context: Context) -> Response:
        req = request._get_current_object()  # one context lookup rather than one per attribute read
        if req.method == "GET" and _browser_navigation(req):
            if graphiql:
                return _graphiql(req)
            if "query" not in req.args:
                raise BadGraphQLRequest("GraphiQL is served in development only; send a query parameter or POST")
        query, variables, operation, requested_id = _request_data(req, trusted is not None)
        try:
            query = query if trusted is None else trusted.document(query, requested_id)
        except GraphQLError as error:  # not a trusted document: nothing runs
            result = ExecutionResult(None, [error])
        else:
            result = _run(runner, query, variables, operation, req.method, context)
        answer_type = _answer_type(req)
        refused = answer_type == GRAPHQL_RESPONSE and _not_executed(result)
        body: dict = {} if refused else {"data": result.data}
        if result.errors:
            body["errors"] = [_format_error(e) for e in result.errors]
        if result.extensions:
            body["extensions"] = result.extensions
        return Response(orjson.dumps(body), status=400 if refused else 200, mimetype=answer_type,
                        headers=NOT_STORED)

    def graphql():
        key = idempotency_key() if request.method == "POST" else None
        if key is None or not current_principal().is_authenticated:  # an anonymous caller keeps nothing
            return execute(Context(principal=current_principal(), limits=runner.limits))
        return keyed_write(key, all_or_nothing)

    def all_or_nothing() -> Response:
        """For a request with an Idempotency-Key, as REST keeps only a successful write: an answer with errors is
        not stored and nothing it did is kept (its data is withdrawn); nor is one where a mutation answered a typed
        failure (its data stays, to say which and why, with a NOT_KEPT error: what the other mutations did is undone
        too). Either way a retry runs it again. An answer without either is stored and replayed."""
        context = Context(principal=current_principal(), limits=runner.limits)
        response = execute(context)
        body = orjson.loads(response.get_data())
        refused_status = context.refused_write_status
        if body.get("errors"):
            unstored = {**body, "data": None} if "data" in body else body
        elif refused_status is not None:
            unstored = {**body, "errors": [{"message": NOT_KEPT_MESSAGE,
                                            "extensions": {"code": "NOT_KEPT", "status": refused_status}}]}
        else:
            return response
        raise Unstored(Response(orjson.dumps(unstored), status=response.status_code, mimetype=response.mimetype,
                                headers=NOT_STORED))

    return graphql
