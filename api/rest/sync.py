"""REST views for awarding-body sync and learner migration: drafts, publish, withdraw, diffs, the change feed, and
moving enrolments to a new unit version. Thin: parse, call api.services, respond."""

from flask import Blueprint, Response, request

from api.auth import current_principal
from api.errors import InvalidParameter, UnsupportedMediaType
from api.inputs import bodies, takes_no_body
from api.inputs.params import CHANGES_ARGS, IMPORT_ARGS, NO_ARGS
from api.rest.http import json_response, parse_args, parse_body, parse_id, write_endpoint
from api.services.content.catalog import Document
from api.services.interop import case_frameworks, case_import
from api.services.sync import diff, feed, lifecycle
from api.services.tracking import migration

bp = Blueprint("sync", __name__)
ENROLMENT_MIGRATE, COHORT_MIGRATE = bodies.EnrolmentMigrate(), bodies.CohortMigrate()


def _version_response(saved: lifecycle.Saved):
    """The version's stored document with its ETag; 201 with Location when a version was created."""
    version = saved.version
    document = Document(version.document, version.etag, version.status)
    response = Response(document.body, mimetype="application/json",
                        headers={"ETag": document.etag, "Cache-Control": "no-store"})
    if saved.created:
        response.status_code = 201
        response.headers["Location"] = f"/v1/units/{version.unit_id}/versions/{version.number}?status=draft"
    return response


def _json_object() -> dict:
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("send the unit document as application/json")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidParameter("the body must be a JSON object: a unit document as in data/units (see "
                               "/v1/schema/unit.schema.json)")
    return body


@bp.put("/units/<unit_id>/draft")
@write_endpoint
def save_draft(unit_id):
    """Make a whole unit document the unit's draft (creating the unit or a new draft version as needed)."""
    parse_args(NO_ARGS)
    saved = lifecycle.save_draft(current_principal(), parse_id(unit_id, "unit"), _json_object(),
                                 request.headers.get("If-Match"))
    return _version_response(saved)


@bp.post("/units/<unit_id>/publish")
@write_endpoint
@takes_no_body
def publish(unit_id):
    """Publish the unit's draft: complete units only; the version is frozen from then on."""
    parse_args(NO_ARGS)
    return _version_response(lifecycle.publish(current_principal(), parse_id(unit_id, "unit"),
                                               request.headers.get("If-Match")))


@bp.post("/units/<unit_id>/withdraw")
@write_endpoint
@takes_no_body
def withdraw(unit_id):
    """Withdraw the unit's released version; enrolments pinned to it keep working."""
    parse_args(NO_ARGS)
    return _version_response(lifecycle.withdraw(current_principal(), parse_id(unit_id, "unit"),
                                                request.headers.get("If-Match")))


@bp.get("/units/<unit_id>/versions/<int(signed=True):a>/diff/<int(signed=True):b>")
def diff_versions(unit_id, a, b):
    """Outcomes and criteria added, removed, changed and moved from version a to version b."""
    parse_args(NO_ARGS)
    return json_response(diff.diff_versions(current_principal(), parse_id(unit_id, "unit"), a, b),
                         cache_control="private, no-cache")


@bp.get("/changes")
def list_changes():
    """Every content and tracking event after a cursor (or from a time), in commit order; poll with next_cursor."""
    args = parse_args(CHANGES_ARGS)
    page = feed.list_changes(current_principal(), args.get("since"), args["limit"],
                             types=args.get("type"), unit_id=args.get("unit_id"), centre_id=args.get("centre_id"),
                             learner_id=args.get("learner_id"))
    return json_response(page, cache_control="private, no-cache")


@bp.post("/imports/case")
@write_endpoint
def import_case():
    """Import a CASE CFPackage (1.0 or 1.1) as draft units of an awarding body (all of them, or none)."""
    args = parse_args(IMPORT_ARGS)
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("send the CFPackage as application/json")
    body = request.get_json(silent=True)
    if body is None:
        raise InvalidParameter("the body is not valid JSON (malformed, or nested too deep to read): send a CFPackage "
                               "object")
    principal = current_principal()
    owner = args.get("awarding_body") or _single_body(principal)
    report = case_import.import_package(principal, body, owner)
    return json_response({"awarding_body": owner, **report}, cache_control="no-store")


def _single_body(principal) -> str:
    from api.models import AwardingBody

    if len(principal.body_ids) != 1:
        raise InvalidParameter("name the awarding body to import into with ?awarding_body=<slug>",
                               errors={"awarding_body": ["required unless your token is bound to one body"]})
    return AwardingBody.get_by_id(next(iter(principal.body_ids))).slug


@bp.post("/enrolments/<enrolment_id>/migrate")
@write_endpoint
def migrate_enrolment(enrolment_id):
    """Move an enrolment to a newer version of its unit (or, with dry_run, say what that would do)."""
    parse_args(NO_ARGS)
    data = parse_body(ENROLMENT_MIGRATE)
    result = migration.migrate_enrolment(current_principal(), parse_id(enrolment_id, "enrolment"),
                                         data["to_version"], data["dry_run"])
    return json_response(result, cache_control="no-store")


@bp.post("/enrolment-migrations")
@write_endpoint
def migrate_cohort():
    """Move a cohort (a unit's enrolments, at a centre or by id) to a newer version: all or nothing."""
    parse_args(NO_ARGS)
    return json_response(migration.migrate_cohort(current_principal(), parse_body(COHORT_MIGRATE)),
                         cache_control="no-store")



@bp.get("/frameworks/<framework_id>")
def get_framework(framework_id):
    """A CASE framework kept whole: its versions and the one served."""
    parse_args(NO_ARGS)
    return json_response(case_frameworks.get_framework(current_principal(), parse_id(framework_id, "framework")),
                         cache_control="private, no-cache")


@bp.post("/frameworks/<framework_id>/publish")
@write_endpoint
@takes_no_body
def publish_framework(framework_id):
    """Publish the framework's draft: /ims/case/v1p1 serves it from now on."""
    parse_args(NO_ARGS)
    return json_response(case_frameworks.publish(current_principal(), parse_id(framework_id, "framework")),
                         cache_control="no-store")


@bp.post("/frameworks/<framework_id>/withdraw")
@write_endpoint
@takes_no_body
def withdraw_framework(framework_id):
    """Withdraw the framework's released version: it is served no more."""
    parse_args(NO_ARGS)
    return json_response(case_frameworks.withdraw(current_principal(), parse_id(framework_id, "framework")),
                         cache_control="no-store")


@bp.get("/frameworks/<framework_id>/versions/<int(signed=True):a>/diff/<int(signed=True):b>")
def diff_framework_versions(framework_id, a, b):
    """Members added, removed and changed from version a to version b of a framework."""
    parse_args(NO_ARGS)
    return json_response(case_frameworks.diff(current_principal(), parse_id(framework_id, "framework"), a, b),
                         cache_control="private, no-cache")
