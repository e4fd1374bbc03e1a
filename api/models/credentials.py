"""Open Badges credentials: each centre's signing keys, and the credentials issued for completed units and
achieved qualifications."""

import peewee

from api.models.accounts import Centre
from api.models.base import BaseModel, utcnow
from api.models.content import Qualification, UnitVersion
from api.models.tracking import Enrolment, Learner


class IssuerKey(BaseModel):
    """An Ed25519 key a centre signs its credentials with. The private key is stored sealed (AES-GCM, under a key
    derived from the deployment's secret: api.services.credentials.keys); the public one in clear, so a credential
    stays verifiable after its key is retired. One key per centre is current (``retired_at`` null)."""

    id = peewee.UUIDField(primary_key=True)
    centre = peewee.ForeignKeyField(Centre, on_delete="RESTRICT")
    public_key_multibase = peewee.CharField(max_length=64, unique=True)
    sealed_private_key = peewee.CharField(max_length=200)
    created_at = peewee.DateTimeField(default=utcnow)
    retired_at = peewee.DateTimeField(null=True)


IssuerKey.add_index(IssuerKey.index(IssuerKey.centre, unique=True, where=IssuerKey.retired_at.is_null(),
                                    name="issuer_key_one_current"))


class Credential(BaseModel):
    """An OpenBadgeCredential a centre issued when a learner's enrolment became complete (``enrolment`` and
    ``unit_version`` set), or when the learner met a qualification's rules of combination (``qualification`` set):
    its signed ``document`` as served, and its place in the centre's revocation status list (``status_list``,
    ``status_index``). One is live (``revoked_at`` null) per enrolment, and per learner and qualification; achieving
    it again after its credential was revoked issues a new one."""

    id = peewee.UUIDField(primary_key=True)
    centre = peewee.ForeignKeyField(Centre, on_delete="RESTRICT", index=False)  # (centre, list, index) below
    learner = peewee.ForeignKeyField(Learner, on_delete="RESTRICT", index=False)  # (learner, issued_at) below
    enrolment = peewee.ForeignKeyField(Enrolment, on_delete="RESTRICT", null=True)
    unit_version = peewee.ForeignKeyField(UnitVersion, on_delete="RESTRICT", index=False, null=True)
    qualification = peewee.ForeignKeyField(Qualification, on_delete="RESTRICT", index=False, null=True)
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

CREDENTIAL_MODELS = [IssuerKey, Credential]
