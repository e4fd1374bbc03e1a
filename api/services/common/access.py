"""The one permission filter. Every REST view and GraphQL resolver asks these functions who may see and do what.

Visibility rules:
- Published content is visible to everyone, anonymous callers included.
- Draft and withdrawn content is visible to admins, to authors of the owning awarding body, and to API clients bound
  to that body with a content scope. To anyone else it does not exist (404, never 403: its existence is not revealed).
- A centre is visible to admins, to accounts that belong to it, and to API clients bound to it.
- A unit is visible when at least one of its versions is.

The visible_* functions look one record up by an id the caller gave: they answer with the record, or raise the same
NotFound a missing id gets ("no <kind> <id> visible to you"), whatever the caller's role. Services call them before
any role check (require), so a refusal never tells a caller that a record they may not see exists.

What a caller may do is asked of the can_* predicates, one per rule (write content, manage learners, submit evidence,
record decisions, verify them, set sampling plans, import learners, read the audit log, manage accounts, ...);
require(allowed, detail) turns a refusal into a 403. Rules about the records themselves (an assessor cannot assess
their own learner record, evidence must be claimed first) stay with the records, in the domain that owns them.
"""

import uuid
from dataclasses import dataclass, field

from api.errors import Forbidden, NotFound, Unauthorized
from api.models import (
    Apprenticeship,
    Centre,
    Decision,
    Enrolment,
    Evidence,
    IqaSample,
    KsbDecision,
    KsbEvidence,
    Learner,
    OtjActivity,
    SamplingPlan,
    Unit,
    UnitVersion,
)

CONTENT_SCOPES = frozenset({"content:read", "content:write"})


@dataclass(frozen=True)
class Principal:
    """Who is calling: anonymous, a person (account) or a machine (client), with what the token grants."""

    kind: str = "anonymous"
    id: uuid.UUID | None = None
    roles: frozenset = field(default_factory=frozenset)
    centre_ids: frozenset = field(default_factory=frozenset)
    body_ids: frozenset = field(default_factory=frozenset)
    scopes: frozenset = field(default_factory=frozenset)
    assessor_status: str | None = None
    learner_id: uuid.UUID | None = None
    acting_client: uuid.UUID | None = None  # a person's token held by a client acting for them (token exchange)

    @property
    def is_authenticated(self) -> bool:
        return self.kind != "anonymous"

    @property
    def is_admin(self) -> bool:
        return self.kind == "account" and "admin" in self.roles


ANONYMOUS = Principal()


def require_authenticated(principal: Principal) -> None:
    """Unauthorized (401) for anonymous callers."""
    if not principal.is_authenticated:
        raise Unauthorized("this operation needs a bearer token: see POST /v1/auth/token", error="missing")


def content_body_ids(principal: Principal) -> frozenset | None:
    """Awarding bodies whose unpublished content the principal may read; None means every body (admins)."""
    if principal.is_admin:
        return None
    if principal.kind == "account" and "author" in principal.roles:
        return principal.body_ids
    if principal.kind == "client" and principal.scopes & CONTENT_SCOPES:
        return principal.body_ids
    return frozenset()


def content_condition(principal: Principal, status_field, owner_field):
    """The condition a content row the principal may see meets (published, or unpublished of their own bodies);
    None when they see every row (admins)."""
    bodies = content_body_ids(principal)
    if bodies is None:
        return None
    if not bodies:
        return status_field == "published"
    return (status_field == "published") | owner_field.in_(list(bodies))


def visible_content(query, principal: Principal, status_field, owner_field):
    """Restrict a content query to rows the principal may see (published, or unpublished of their own bodies)."""
    condition = content_condition(principal, status_field, owner_field)
    return query if condition is None else query.where(condition)


def can_read_content(principal: Principal, status: str, owner_id: uuid.UUID) -> bool:
    """May the principal read one piece of content at ``status`` owned by ``owner_id``?"""
    if status == "published":
        return True
    bodies = content_body_ids(principal)
    return bodies is None or owner_id in bodies


def can_write_content(principal: Principal, owner_id) -> bool:
    """Edit, publish and withdraw a body's units: admins, the body's authors, its content:write clients."""
    if principal.is_admin:
        return True
    if principal.kind == "account" and "author" in principal.roles:
        return owner_id in principal.body_ids
    return principal.kind == "client" and "content:write" in principal.scopes and owner_id in principal.body_ids


def apprenticeship_version_condition(principal: Principal, status_field):
    """The apprenticeship standard versions the principal may read: those published for delivery at some time
    (approved, retired or withdrawn: anyone, anonymous callers included); admins also see those in development or
    of a status Skills England does not publish. None when they see every version."""
    from api.models.apprenticeships import PUBLIC_STATUSES

    return None if principal.is_admin else status_field.in_(PUBLIC_STATUSES)


def centre_ids_visible(principal: Principal) -> frozenset | None:
    """Centres the principal may see; None means every centre (admins)."""
    if principal.is_admin:
        return None
    return principal.centre_ids


def visible_centres(query, principal: Principal, centre_field):
    """Restrict a query over centre-owned rows to the principal's centres."""
    centres = centre_ids_visible(principal)
    return query if centres is None else query.where(centre_field.in_(list(centres)))


def can_read_audit_log(principal: Principal) -> bool:
    """The audit log: admins (all of it) and centre admins (their centres' events)."""
    return principal.is_admin or (principal.kind == "account" and "centre_admin" in principal.roles)


def can_manage_accounts(principal: Principal) -> bool:
    """Accounts and API clients, seen and managed: admins only (to anyone else they do not exist)."""
    return principal.is_admin


def can_revoke_any_token(principal: Principal) -> bool:
    """Revoking another subject's token: admins (anyone may revoke their own)."""
    return principal.is_admin


# -- tracking ------------------------------------------------------------------------------------------------------

CENTRE_STAFF_ROLES = frozenset({"centre_admin", "assessor", "iqa"})


def _in_centre(principal: Principal, centre_id: uuid.UUID) -> bool:
    return centre_id in principal.centre_ids


def can_read_learner(principal: Principal, centre_id: uuid.UUID, learner_id: uuid.UUID) -> bool:
    """Admins; staff of the learner's centre; clients of that centre with a tracking scope; the learner themself."""
    if principal.is_admin:
        return True
    if principal.kind == "client":
        return _in_centre(principal, centre_id) and bool(principal.scopes & {"tracking:read", "tracking:write"})
    if principal.roles & CENTRE_STAFF_ROLES and _in_centre(principal, centre_id):
        return True
    return principal.learner_id == learner_id


def can_manage_learners(principal: Principal, centre_id: uuid.UUID) -> bool:
    """Create and change learners and enrolments: admins, the centre's admins, its tracking:write clients."""
    if principal.is_admin:
        return True
    if principal.kind == "client":
        return _in_centre(principal, centre_id) and "tracking:write" in principal.scopes
    return "centre_admin" in principal.roles and _in_centre(principal, centre_id)


def can_submit_evidence(principal: Principal, centre_id: uuid.UUID, learner_id: uuid.UUID) -> bool:
    """Evidence and claims: the learner themself, the centre's admins and assessors, its tracking:write clients."""
    if can_manage_learners(principal, centre_id) or principal.learner_id == learner_id:
        return True
    return principal.kind == "account" and "assessor" in principal.roles and _in_centre(principal, centre_id)


def can_export_learner(principal: Principal, centre_id: uuid.UUID, learner_id: uuid.UUID) -> bool:
    """A learner's full record: the learner themself, and those who manage the centre's learners."""
    return principal.learner_id == learner_id or can_manage_learners(principal, centre_id)


def can_pseudonymise_learners(principal: Principal) -> bool:
    """Replacing a learner's personal data for good: admins only."""
    return principal.is_admin


def can_import_learners(principal: Principal, centre_id: uuid.UUID) -> bool:
    """Bulk learner imports into a centre: those who manage its learners, and its clients with the import scope."""
    return can_manage_learners(principal, centre_id) or (
        principal.kind == "client" and "import" in principal.scopes and _in_centre(principal, centre_id))


def can_record_decisions(principal: Principal) -> bool:
    """Assessment decisions and countersignatures: assessors. On which enrolments, and whether a decision needs a
    countersignature, are rules about the records themselves (api.services.tracking.decisions)."""
    return principal.kind == "account" and "assessor" in principal.roles


def can_verify_decisions(principal: Principal, centre_id: uuid.UUID) -> bool:
    """Sampling a centre's decisions and recording IQA verdicts: the centre's IQAs."""
    return principal.kind == "account" and "iqa" in principal.roles and _in_centre(principal, centre_id)


def can_set_sampling_plans(principal: Principal, centre_id: uuid.UUID) -> bool:
    """IQA sampling plans at a centre: admins, the centre's IQAs, and centre admins (of a centre visible to them:
    visible_centre is asked first)."""
    return principal.is_admin or can_verify_decisions(principal, centre_id) or (
        principal.kind == "account" and "centre_admin" in principal.roles)


def can_read_centre_progress(principal: Principal, centre_id: uuid.UUID) -> bool:
    """A centre's cohort progress: admins, the centre's staff and its tracking clients."""
    staff = principal.kind == "account" and principal.roles & CENTRE_STAFF_ROLES
    client = principal.kind == "client" and principal.scopes & {"tracking:read", "tracking:write"}
    return principal.is_admin or bool((staff or client) and _in_centre(principal, centre_id))


def learner_records_condition(principal: Principal, centre_field, learner_field):
    """The condition a learner record the principal may read meets: their centres' (staff and tracking clients), or
    their own (learners); None when they read every record (admins). The list form of can_read_learner."""
    if principal.is_admin:
        return None
    condition = centre_field.in_(list(learner_record_centres(principal)))
    if principal.learner_id is not None:
        condition = condition | (learner_field == principal.learner_id)
    return condition


def learner_record_centres(principal: Principal) -> frozenset:
    """The centres all of whose learner records a (non-admin) principal may read: a staff account's or a tracking
    client's centres, or none."""
    tracking_client = principal.kind == "client" and principal.scopes & {"tracking:read", "tracking:write"}
    staff = principal.kind == "account" and principal.roles & CENTRE_STAFF_ROLES
    return principal.centre_ids if tracking_client or staff else frozenset()


def visible_learner_records(query, principal: Principal, centre_field, learner_field):
    """Restrict a query over learner records to those the principal may read (learner_records_condition)."""
    condition = learner_records_condition(principal, centre_field, learner_field)
    return query if condition is None else query.where(condition)


# -- webhooks --------------------------------------------------------------------------------------------------------

def _webhook_owners(principal: Principal) -> tuple[frozenset, frozenset]:
    """(centres, awarding bodies) whose webhook endpoints a non-admin principal manages: a centre's admins and an
    awarding body's authors, and their clients with the webhooks scope."""
    client = principal.kind == "client" and "webhooks" in principal.scopes
    centres = principal.centre_ids if client or "centre_admin" in principal.roles else frozenset()
    bodies = principal.body_ids if client or "author" in principal.roles else frozenset()
    return centres, bodies


def can_manage_webhooks(principal: Principal, *, centre_id: uuid.UUID | None = None,
                        owner_id: uuid.UUID | None = None) -> bool:
    """The endpoints of a centre or of an awarding body (_webhook_owners); any: admins."""
    if principal.is_admin:
        return True
    centres, bodies = _webhook_owners(principal)
    return (centre_id is not None and centre_id in centres) or (owner_id is not None and owner_id in bodies)


def webhook_owners_condition(principal: Principal, centre_field, owner_field):
    """The condition the webhook endpoints a principal manages meet; None for every endpoint (admins)."""
    if principal.is_admin:
        return None
    centres, bodies = _webhook_owners(principal)
    return centre_field.in_(list(centres)) | owner_field.in_(list(bodies))


def require(allowed: bool, detail: str) -> None:
    """Forbidden (403) unless ``allowed``: for callers who can see the record but may not do this to it."""
    if not allowed:
        raise Forbidden(detail)


def require_learner_may_write(principal: Principal) -> None:
    """Forbidden if the caller is a learner's own account and that learner is withdrawn: a withdrawn learner's
    account may still read its records, but writes nothing."""
    require_authenticated(principal)
    if principal.learner_id is None:
        return
    withdrawn = Learner.select().where(Learner.id == principal.learner_id, Learner.status == "withdrawn").exists()
    require(not withdrawn, "your learner record is withdrawn: your account can read your records but not submit "
            "evidence or claims; ask your centre if this is a mistake")


# -- one record by id: visible, or NotFound exactly as if it did not exist ------------------------------------------

def _not_found(kind: str, record_id) -> NotFound:
    return NotFound(f"no {kind} {record_id} visible to you")


def visible_unit(principal: Principal, unit_id: uuid.UUID) -> Unit:
    """The unit, if the principal may read at least one of its versions (a published one, or any of their body's)."""
    unit = Unit.get_or_none(Unit.id == unit_id)
    if unit is not None:
        bodies = content_body_ids(principal)
        if bodies is None or unit.owner_id in bodies or UnitVersion.select().where(
                UnitVersion.unit == unit.id, UnitVersion.status == "published").exists():
            return unit
    raise _not_found("unit", unit_id)


def visible_centre(principal: Principal, centre_id: uuid.UUID) -> Centre:
    """The centre, if the principal belongs to it, is bound to it, or is an admin."""
    require_authenticated(principal)
    centres = centre_ids_visible(principal)
    centre = Centre.get_or_none(Centre.id == centre_id)
    if centre is None or (centres is not None and centre.id not in centres):
        raise _not_found("centre", centre_id)
    return centre


def _visible_learner_record(principal: Principal, model, kind: str, record_id, learner_of):
    """The ``model`` row ``record_id``, if the principal may read the records of its learner (``learner_of(row)``,
    at the row's centre); NotFound naming ``kind`` otherwise."""
    require_authenticated(principal)
    row = model.get_or_none(model.id == record_id)
    if row is None or not can_read_learner(principal, row.centre_id, learner_of(row)):
        raise _not_found(kind, record_id)
    return row


def visible_learner(principal: Principal, learner_id: uuid.UUID) -> Learner:
    """The learner, if the principal may read their records (can_read_learner)."""
    return _visible_learner_record(principal, Learner, "learner", learner_id, lambda learner: learner.id)


def visible_enrolment(principal: Principal, enrolment_id: uuid.UUID) -> Enrolment:
    """The enrolment, if the principal may read its learner's records."""
    return _visible_learner_record(principal, Enrolment, "enrolment", enrolment_id,
                                   lambda enrolment: enrolment.learner_id)


def _through_enrolment(principal: Principal, record, kind: str, record_id) -> Enrolment:
    """The visible enrolment ``record`` belongs to; NotFound naming ``record`` (not its enrolment) otherwise."""
    require_authenticated(principal)
    if record is None:
        raise _not_found(kind, record_id)
    try:
        return visible_enrolment(principal, record.enrolment_id)
    except NotFound:
        raise _not_found(kind, record_id) from None


def visible_evidence(principal: Principal, evidence_id: uuid.UUID) -> tuple[Evidence, Enrolment]:
    """A piece of evidence and its enrolment, if the principal may read the enrolment."""
    evidence = Evidence.get_or_none(Evidence.id == evidence_id)
    return evidence, _through_enrolment(principal, evidence, "evidence", evidence_id)


def visible_decision(principal: Principal, decision_id: uuid.UUID) -> tuple[Decision, Enrolment]:
    """A decision and its enrolment, if the principal may read the enrolment."""
    decision = Decision.get_or_none(Decision.id == decision_id)
    return decision, _through_enrolment(principal, decision, "decision", decision_id)


def visible_sample(principal: Principal, sample_id: uuid.UUID) -> tuple[IqaSample, Decision]:
    """An IQA sample and its decision, if the principal may read the sampled enrolment."""
    sample = IqaSample.get_or_none(IqaSample.id == sample_id)
    _through_enrolment(principal, sample, "IQA sample", sample_id)
    return sample, Decision.get_by_id(sample.decision_id)


def visible_plan(principal: Principal, plan_id: uuid.UUID) -> SamplingPlan:
    """A sampling plan, for admins and the IQAs and centre admins of its centre (plans are not shown to the
    assessors they sample, nor to clients)."""
    require_authenticated(principal)
    plan = SamplingPlan.get_or_none(SamplingPlan.id == plan_id)
    quality_staff = principal.kind == "account" and principal.roles & {"iqa", "centre_admin"}
    if plan is None or not (principal.is_admin or (quality_staff and _in_centre(principal, plan.centre_id))):
        raise _not_found("sampling plan", plan_id)
    return plan


def visible_apprenticeship(principal: Principal, apprenticeship_id: uuid.UUID):
    """A learner's apprenticeship, if the principal may read the learner's records."""
    return _visible_learner_record(principal, Apprenticeship, "apprenticeship", apprenticeship_id,
                                   lambda row: row.learner_id)


def visible_otj_activity(principal: Principal, activity_id: uuid.UUID):
    """An off-the-job training activity, if the principal may read its learner's records."""
    return _visible_learner_record(principal, OtjActivity, "off-the-job activity", activity_id,
                                   lambda row: row.learner_id)


def visible_ksb_evidence(principal: Principal, evidence_id: uuid.UUID):
    """Evidence claimed for KSBs, if the principal may read its learner's records."""
    return _visible_learner_record(principal, KsbEvidence, "KSB evidence", evidence_id, lambda row: row.learner_id)


def visible_ksb_decision(principal: Principal, decision_id: uuid.UUID):
    """A decision on a KSB, if the principal may read its learner's records."""
    return _visible_learner_record(principal, KsbDecision, "KSB decision", decision_id, lambda row: row.learner_id)


def can_assess_at(principal: Principal, centre_id: uuid.UUID) -> bool:
    """Recording or countersigning decisions on an apprenticeship's KSBs: assessors of its centre."""
    return can_record_decisions(principal) and _in_centre(principal, centre_id)


def can_confirm_otj(principal: Principal, centre_id: uuid.UUID) -> bool:
    """Confirming an apprentice's off-the-job training: the centre's admins and assessors, its tracking:write
    clients, and admins (never the apprentice: a learner's own record needs someone else's word)."""
    if can_manage_learners(principal, centre_id):
        return True
    return principal.kind == "account" and "assessor" in principal.roles and _in_centre(principal, centre_id)
