"""The feed (GET /v1/events, webhooks): one ordered log of what happened to content and to learner records."""

import peewee

from api.models.base import BaseModel, utcnow
from api.models.content import AwardingBody, CaseFramework, CaseFrameworkVersion, Unit, UnitVersion


class FeedEvent(BaseModel):
    """One event. A content event (``centre_id`` NULL) names a unit and its version, or a CASE framework and its
    version, created, edited, published or withdrawn (``owner``, ``number``, ``status``, ``etag`` set). A tracking
    event names the centre, learner and (where there is one) the enrolment and unit it is about, and its
    ``subject_id``: the id of the decision, criterion, outcome, IQA sample, qualification, enrolment or learner of its
    ``type``. Ids only: an event carries no personal data.

    ``seq`` orders the feed. Writers take a lock before appending (api.services.sync.changes), so events become visible
    in ``seq`` order and a reader's cursor can never pass an event that is still to commit."""

    seq = peewee.AutoField()
    occurred_at = peewee.DateTimeField(default=utcnow, index=True)
    type = peewee.CharField(max_length=40)
    action = peewee.CharField(max_length=32)
    unit = peewee.ForeignKeyField(Unit, null=True, on_delete="CASCADE", index=False)  # (unit, seq) below
    # Indexed only where set (partial indexes, below): a tracking event leaves them NULL and maintains none of them.
    owner = peewee.ForeignKeyField(AwardingBody, null=True, on_delete="RESTRICT", index=False)
    version = peewee.ForeignKeyField(UnitVersion, null=True, on_delete="CASCADE", index=False)
    framework = peewee.ForeignKeyField(CaseFramework, null=True, on_delete="CASCADE", index=False)
    framework_version = peewee.ForeignKeyField(CaseFrameworkVersion, null=True, on_delete="CASCADE", index=False)
    number = peewee.IntegerField(null=True)
    status = peewee.CharField(max_length=16, null=True)
    etag = peewee.CharField(max_length=80, null=True)
    actor = peewee.CharField(max_length=80)
    centre_id = peewee.UUIDField(null=True)  # ids, not foreign keys: cheaper to append, and the log names what it saw
    learner_id = peewee.UUIDField(null=True)
    enrolment_id = peewee.UUIDField(null=True)
    subject_id = peewee.CharField(max_length=64, null=True)

    class Meta:
        table_name = "feed_event"
        indexes = ((("unit", "seq"), False), (("centre_id", "seq"), False), (("learner_id", "seq"), False))


for _content_column in (FeedEvent.owner, FeedEvent.version, FeedEvent.framework, FeedEvent.framework_version):
    FeedEvent.add_index(FeedEvent.index(_content_column).where(_content_column.is_null(False)))

FEED_MODELS = [FeedEvent]
