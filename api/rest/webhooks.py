"""REST views for webhook endpoints: register, read, change, rotate the secret, read the delivery log, replay.
Thin: parse, call api.services.webhooks.endpoints, shape the response."""

from flask import Blueprint, Response

from api.auth import current_principal
from api.inputs import bodies, takes_no_body
from api.inputs.params import NO_ARGS, PAGE_ARGS, RECOVER_ARGS
from api.rest.http import Created, json_response, page_response, parse_args, parse_body, parse_id, write_endpoint
from api.services.webhooks import endpoints

bp = Blueprint("webhooks", __name__)
ENDPOINT_CREATE, ENDPOINT_UPDATE = bodies.WebhookEndpointCreate(), bodies.WebhookEndpointUpdate()
PRIVATE = "private, no-cache"


def _endpoint_id(endpoint_id: str):
    return parse_id(endpoint_id, "webhook endpoint")


@bp.post("/webhooks/endpoints")
@write_endpoint
def create_endpoint():
    """Register an endpoint: it is sent the events its centre or awarding body may see, from now on."""
    parse_args(NO_ARGS)
    endpoint, secret = endpoints.create_endpoint(current_principal(), parse_body(ENDPOINT_CREATE))
    body = {**endpoints.endpoint_body(endpoint), "secret": secret}
    return Created(body, body["href"])


@bp.get("/webhooks/endpoints")
def list_endpoints():
    """The endpoints the caller manages."""
    parse_args(NO_ARGS)
    return json_response({"items": endpoints.list_endpoints(current_principal())}, cache_control=PRIVATE)


@bp.get("/webhooks/endpoints/<endpoint_id>")
def get_endpoint(endpoint_id):
    parse_args(NO_ARGS)
    endpoint = endpoints.visible_endpoint(current_principal(), _endpoint_id(endpoint_id))
    return json_response(endpoints.endpoint_body(endpoint), cache_control=PRIVATE)


@bp.patch("/webhooks/endpoints/<endpoint_id>")
@write_endpoint
def update_endpoint(endpoint_id):
    """Change the URL, event types, description or status (active again: it is sent what it missed)."""
    parse_args(NO_ARGS)
    changes = parse_body(ENDPOINT_UPDATE)
    endpoint = endpoints.update_endpoint(current_principal(), _endpoint_id(endpoint_id), changes)
    return json_response(endpoints.endpoint_body(endpoint), cache_control="no-store")


@bp.delete("/webhooks/endpoints/<endpoint_id>")
@write_endpoint
@takes_no_body
def delete_endpoint(endpoint_id):
    parse_args(NO_ARGS)
    endpoints.delete_endpoint(current_principal(), _endpoint_id(endpoint_id))
    return Response(status=204)


@bp.get("/webhooks/endpoints/<endpoint_id>/secret")
def get_secret(endpoint_id):
    parse_args(NO_ARGS)
    return json_response(endpoints.get_secret(current_principal(), _endpoint_id(endpoint_id)),
                         cache_control="no-store")


@bp.post("/webhooks/endpoints/<endpoint_id>/rotate-secret")
@write_endpoint
@takes_no_body
def rotate_secret(endpoint_id):
    """A new secret; for 24 hours the old one signs each message too."""
    parse_args(NO_ARGS)
    return json_response(endpoints.rotate_secret(current_principal(), _endpoint_id(endpoint_id)),
                         cache_control="no-store")


@bp.post("/webhooks/endpoints/<endpoint_id>/recover")
@write_endpoint
@takes_no_body
def recover(endpoint_id):
    """Send again every event from ``since`` on, then what follows."""
    args = parse_args(RECOVER_ARGS)
    endpoint = endpoints.recover(current_principal(), _endpoint_id(endpoint_id), args["since"])
    return json_response(endpoints.endpoint_body(endpoint), cache_control="no-store")


@bp.get("/webhooks/endpoints/<endpoint_id>/attempts")
def list_attempts(endpoint_id):
    """The delivery log: every attempt, oldest first, with its answer and latency."""
    args = parse_args(PAGE_ARGS)
    page = endpoints.list_attempts(current_principal(), _endpoint_id(endpoint_id), args.get("cursor"), args["limit"])
    return page_response(page, cache_control=PRIVATE)
