"""REST views for Open Badges credentials. Thin: parse, call api.services.credentials, shape the response. A
credential, an issuer's profile and its status lists are public, so a verifier needs no account."""

from flask import Blueprint

from api.auth import current_principal
from api.inputs.params import NO_ARGS
from api.rest.http import json_response, parse_args, parse_id
from api.services.credentials import reading

bp = Blueprint("credentials", __name__)


@bp.get("/learners/<learner_id>/credentials")
def list_learner_credentials(learner_id):
    """Every credential issued to the learner (revoked ones too), newest first, each with its signed credential."""
    parse_args(NO_ARGS)
    items = reading.learner_credentials(current_principal(), parse_id(learner_id, "learner"))
    return json_response({"items": items}, cache_control="private, no-cache")


@bp.get("/credentials/<credential_id>")
def get_credential(credential_id):
    """The signed OpenBadgeCredential (public)."""
    parse_args(NO_ARGS)
    return json_response(reading.credential_document(parse_id(credential_id, "credential")),
                         cache_control="public, max-age=300")


@bp.get("/issuers/<issuer_id>")
def get_issuer(issuer_id):
    """An issuer's Profile (a centre's, or an awarding body's that issues), with the Multikeys its credentials are
    signed with (public)."""
    parse_args(NO_ARGS)
    return json_response(reading.issuer_profile(parse_id(issuer_id, "issuer")), cache_control="public, max-age=300")


@bp.get("/issuers/<issuer_id>/status/<int(signed=True):number>")
def get_status_list(issuer_id, number):
    """One of the issuer's revocation lists, a BitstringStatusListCredential signed when served (public)."""
    parse_args(NO_ARGS)
    return json_response(reading.status_list(parse_id(issuer_id, "issuer"), number),
                         cache_control="public, max-age=60")
