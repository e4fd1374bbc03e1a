"""GraphQL for the feed (the `changes` query, as GET /v1/changes) and for webhook endpoints (queries and mutations,
as /v1/webhooks/endpoints): thin over api.services.sync.feed and api.services.webhooks.endpoints."""

import datetime as dt
import uuid
from typing import Annotated

import strawberry

from api.gql.args import or_none, page_size, validated
from api.gql.content_types import Info
from api.gql.failures import result_union, run_write
from api.gql.mutation_inputs import body_of
from api.gql.records import Connection, as_type, connection_from_page
from api.inputs import bodies, load_body
from api.inputs.params import CHANGES_ARGS, PAGE_ARGS, RECOVER_ARGS
from api.services.sync import feed
from api.services.webhooks import endpoints


@strawberry.type(description="One event of the feed: content (a unit or CASE framework version) or tracking (a "
                             "learner's records), as GET /v1/changes shows it. Ids and hrefs, no personal data.")
class FeedEvent:
    cursor: str
    occurred_at: dt.datetime
    type: str
    kind: str
    action: str
    actor: str
    href: str
    unit_id: uuid.UUID | None
    code: str | None
    framework_id: uuid.UUID | None
    owner: str | None
    version: int | None
    version_id: uuid.UUID | None
    status: str | None
    etag: str | None
    centre_id: uuid.UUID | None
    learner_id: uuid.UUID | None
    enrolment_id: uuid.UUID | None
    subject_id: uuid.UUID | None


@strawberry.type(description="A page of the feed and where to continue (nextCursor, as since).")
class FeedPage:
    items: list[FeedEvent]
    next_cursor: str


@strawberry.type(description="An attempt to deliver one event to a webhook endpoint.")
class WebhookAttempt:
    id: uuid.UUID
    message_id: str
    attempt: int
    attempted_at: dt.datetime
    outcome: str
    status_code: int | None
    error: str | None
    duration_ms: int | None


@strawberry.type(description="A URL that is sent the feed's events, signed as Standard Webhooks.")
class WebhookEndpoint:
    id: uuid.UUID
    url: str
    description: str | None
    types: list[str] | None
    centre_id: uuid.UUID | None
    awarding_body: str | None
    status: str
    disabled_reason: str | None
    failing_attempts: int
    failing_since: dt.datetime | None
    next_attempt_at: dt.datetime | None
    previous_secret_expires_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @strawberry.field(description="The delivery log, oldest first.")
    def attempts(self, parent: strawberry.Parent[dict], info: Info, first: int | None = None,
                 after: str | None = None) -> Connection[WebhookAttempt]:
        cursor = validated(PAGE_ARGS, after=after)["cursor"]
        return connection_from_page(endpoints.list_attempts(info.context.principal, uuid.UUID(parent["id"]), cursor,
                                                            page_size(info, first)))


@strawberry.type(description="An endpoint's signing secret (whsec_...), and until when a rotated one signs too.")
class WebhookSecret:
    secret: str
    previous_secret_expires_at: dt.datetime | None


@strawberry.type(description="A newly registered endpoint and its secret (shown again by webhookSecret).")
class WebhookRegistration:
    endpoint: WebhookEndpoint
    secret: str


@strawberry.type(description="What was deleted.")
class Deleted:
    id: uuid.UUID


@strawberry.input(description="As the body of POST /v1/webhooks/endpoints.")
class RegisterWebhookEndpointInput:
    url: str
    types: list[str] | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    centre_id: uuid.UUID | None = strawberry.UNSET
    awarding_body: str | None = strawberry.UNSET


@strawberry.input(description="As the body of PATCH /v1/webhooks/endpoints/{id}.")
class UpdateWebhookEndpointInput:
    url: str | None = strawberry.UNSET
    types: list[str] | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    status: str | None = strawberry.UNSET


WebhookRegistrationResult = result_union("WebhookRegistrationResult", WebhookRegistration)
WebhookEndpointResult = result_union("WebhookEndpointResult", WebhookEndpoint)
WebhookSecretResult = result_union("WebhookSecretResult", WebhookSecret)
DeletedResult = result_union("DeletedResult", Deleted)


@strawberry.type
class FeedQuery:
    @strawberry.field(description="The feed of content and tracking events after `since` (a cursor, or a time), in "
                                  "commit order; filter by `type` (comma-separated types, or kinds as decision.*), "
                                  "unit, centre and learner. As GET /v1/changes.")
    def changes(self, info: Info, since: str | None = None,
                type_: Annotated[str | None, strawberry.argument(name="type")] = None,
                unit_id: uuid.UUID | None = None, centre_id: uuid.UUID | None = None,
                learner_id: uuid.UUID | None = None, limit: int | None = None) -> FeedPage:
        args = validated(CHANGES_ARGS, since=since, type=type_, unit_id=unit_id, centre_id=centre_id,
                         learner_id=learner_id, limit=limit)
        return feed.list_changes(info.context.principal, args.get("since"), args["limit"],
                                 types=args.get("type"), unit_id=args.get("unit_id"),
                                 centre_id=args.get("centre_id"), learner_id=args.get("learner_id"))

    @strawberry.field(description="The webhook endpoints you manage.")
    def webhook_endpoints(self, info: Info) -> list[WebhookEndpoint]:
        return endpoints.list_endpoints(info.context.principal)

    @strawberry.field
    def webhook_endpoint(self, info: Info, id: uuid.UUID) -> WebhookEndpoint | None:
        return or_none(lambda: endpoints.endpoint_body(endpoints.visible_endpoint(info.context.principal, id)))

    @strawberry.field(description="A webhook endpoint's signing secret.")
    def webhook_secret(self, info: Info, id: uuid.UUID) -> WebhookSecret | None:
        return or_none(lambda: endpoints.get_secret(info.context.principal, id))


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(description="Register a webhook endpoint for your centre or awarding body.")
    def register_webhook_endpoint(self, info: Info, input: RegisterWebhookEndpointInput) -> WebhookRegistrationResult:
        def write(principal):
            return endpoints.create_endpoint(principal, load_body(bodies.WebhookEndpointCreate(), body_of(input)))

        return run_write(info, write, lambda made: as_type(
            WebhookRegistration, {"endpoint": endpoints.endpoint_body(made[0]), "secret": made[1]}))

    @strawberry.mutation(description="Change a webhook endpoint's URL, types, description or status.")
    def update_webhook_endpoint(self, info: Info, id: uuid.UUID,
                                input: UpdateWebhookEndpointInput) -> WebhookEndpointResult:
        def write(principal):
            return endpoints.update_endpoint(principal, id, load_body(bodies.WebhookEndpointUpdate(), body_of(input)))

        return run_write(info, write, lambda endpoint: as_type(WebhookEndpoint, endpoints.endpoint_body(endpoint)))

    @strawberry.mutation(description="Delete a webhook endpoint and its delivery log.")
    def delete_webhook_endpoint(self, info: Info, id: uuid.UUID) -> DeletedResult:
        def write(principal):
            endpoints.delete_endpoint(principal, id)
            return id

        return run_write(info, write, lambda deleted: as_type(Deleted, {"id": deleted}))

    @strawberry.mutation(description="A new signing secret; the old one signs beside it for 24 hours.")
    def rotate_webhook_secret(self, info: Info, id: uuid.UUID) -> WebhookSecretResult:
        return run_write(info, lambda principal: endpoints.rotate_secret(principal, id),
                         lambda secret: as_type(WebhookSecret, secret))

    @strawberry.mutation(description="Send the endpoint's events again from `since` on.")
    def recover_webhook_endpoint(self, info: Info, id: uuid.UUID, since: dt.datetime) -> WebhookEndpointResult:
        def write(principal):
            return endpoints.recover(principal, id, validated(RECOVER_ARGS, since=since)["since"])

        return run_write(info, write, lambda endpoint: as_type(WebhookEndpoint, endpoints.endpoint_body(endpoint)))
