"""REST views for an enrolment's staff as a sub-resource: list, assign, unassign. Thin over
api.services.tracking.enrolment_staff."""

from flask import Blueprint, Response

from api.auth import current_principal
from api.inputs import bodies, takes_no_body
from api.inputs.params import NO_ARGS, STAFF_REMOVE_ARGS
from api.rest.http import Created, json_response, parse_args, parse_body, parse_id, write_endpoint
from api.services.tracking import enrolment_staff

bp = Blueprint("enrolment_staff", __name__)
STAFF_ASSIGN = bodies.StaffAssign()


@bp.get("/enrolments/<enrolment_id>/staff")
def list_staff(enrolment_id):
    """The assessors and IQAs assigned to the enrolment."""
    parse_args(NO_ARGS)
    items = enrolment_staff.list_staff(current_principal(), parse_id(enrolment_id, "enrolment"))
    return json_response({"items": items}, cache_control="private, no-cache")


@bp.post("/enrolments/<enrolment_id>/staff")
@write_endpoint
def add_staff(enrolment_id):
    """Assign an assessor or IQA of the centre (201; 200 if they already were)."""
    parse_args(NO_ARGS)
    body, new = enrolment_staff.add_staff(current_principal(), parse_id(enrolment_id, "enrolment"),
                                          parse_body(STAFF_ASSIGN))
    return Created(body, body["href"]) if new else json_response(body, cache_control="no-store")


@bp.delete("/enrolments/<enrolment_id>/staff/<account_id>")
@write_endpoint
@takes_no_body
def remove_staff(enrolment_id, account_id):
    """Unassign an account (from ``role``, or from every role it holds on the enrolment)."""
    args = parse_args(STAFF_REMOVE_ARGS)
    enrolment_staff.remove_staff(current_principal(), parse_id(enrolment_id, "enrolment"),
                                 parse_id(account_id, "account"), args.get("role"))
    return Response(status=204)
