"""Open Badges credentials: each issuer's signing keys (a centre's, or an awarding body's where it issues), and the
credentials issued for completed units and achieved qualifications."""

import peewee

from api.models.accounts import Centre
from api.models.base import BaseModel, utcnow
from api.models.content import AwardingBody, Qualification, UnitVersion
from api.models.tracking import Enrolment, Learner


class IssuerKey(BaseModel):
    """An Ed25519 key an issuer signs its credentials with: a centre's (``centre`` set), or an awarding body's
    (``awarding_body`` set). The private key is stored sealed (AES-GCM, under a key derived from the deployment's
    secret: api.services.credentials.keys); the public one in clear, so a credential stays verifiable after its key
    is retired. One key per issuer is current (``retired_at`` null)."""

    id = peewee.UUIDField(primary_key=True)
    centre = peewee.ForeignKeyField(Centre, on_delete="RESTRICT", null=True)
    awarding_body = peewee.ForeignKeyField(AwardingBody, on_delete="RESTRICT", null=True, index=False)
    public_key_multibase = peewee.CharField(max_length=64, unique=True)
    sealed_private_key = peewee.CharField(max_length=200)
    created_at = peewee.DateTimeField(default=utcnow)
    retired_at = peewee.DateTimeField(null=True)


IssuerKey.add_index(IssuerKey.index(IssuerKey.centre, unique=True, where=IssuerKey.retired_at.is_null(),
                                    name="issuer_key_one_current"))
IssuerKey.add_index(IssuerKey.index(IssuerKey.awarding_body, unique=True, where=IssuerKey.retired_at.is_null(),
                                    name="issuer_key_one_current_body"))


class Credential(BaseModel):
    """An OpenBadgeCredential issued to a learner of ``centre`` when their enrolment became complete (``enrolment``
    and ``unit_version`` set), or when they met a qualification's rules of combination (``qualification`` set): its
    signed ``document`` as served, and its place in its issuer's revocation status list (``status_list``,
    ``status_index``). The issuer is the centre, or the awarding body named by ``issuer_body``. One is live
    (``revoked_at`` null) per enrolment, and per learner and qualification; achieving it again after its credential
    was revoked issues a new one."""

    id = peewee.UUIDField(primary_key=True)
    centre = peewee.ForeignKeyField(Centre, on_delete="RESTRICT", index=False)  # (centre, list, index) below
    learner = peewee.ForeignKeyField(Learner, on_delete="RESTRICT", index=False)  # (learner, issued_at) below
    enrolment = peewee.ForeignKeyField(Enrolment, on_delete="RESTRICT", null=True)
    unit_version = peewee.ForeignKeyField(UnitVersion, on_delete="RESTRICT", index=False, null=True)
    qualification = peewee.ForeignKeyField(Qualification, on_delete="RESTRICT", index=False, null=True)
    issuer_body = peewee.ForeignKeyField(AwardingBody, on_delete="RESTRICT", null=True, index=False)  # see below
    document = peewee.TextField()
    status_list = peewee.IntegerField()
    status_index = peewee.IntegerField()
    issued_at = peewee.DateTimeField(default=utcnow)
    revoked_at = peewee.DateTimeField(null=True)

    class Meta:
        indexes = ((("centre", "status_list", "status_index"), True), (("learner", "issued_at"), False))


Credential.add_index(Credential.index(Credential.enrolment, unique=True, where=Credential.revoked_at.is_null(),
                                     name="credential_enrolment_id_live"))
Credential.add_index(Credential.index(Credential.learner, Credential.qualification, unique=True,
                                      where=Credential.revoked_at.is_null() & Credential.qualification.is_null(False),
                                      name="credential_learner_qualification_live"))

Credential.add_index(Credential.index(Credential.issuer_body, Credential.status_list, Credential.status_index,
                                      unique=True, where=Credential.issuer_body.is_null(False),
                                      name="credential_issuer_body_status"))

class IssuingBody(BaseModel):
    """An awarding body that issues (signs, and keeps the status lists of) the credentials of its own units and
    qualifications, since ``since``, instead of the learners' centres (``qualtrack set-credential-issuer``)."""

    awarding_body = peewee.ForeignKeyField(AwardingBody, primary_key=True, on_delete="CASCADE")
    since = peewee.DateTimeField(default=utcnow)


CREDENTIAL_MODELS = [IssuerKey, Credential, IssuingBody]
