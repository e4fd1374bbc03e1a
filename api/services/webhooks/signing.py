"""Standard Webhooks signatures (https://www.standardwebhooks.com), made by its reference library: HMAC-SHA256 of
``id.timestamp.body`` with the endpoint's ``whsec_`` secret, base64, as ``v1,<signature>``. While a rotated secret's
grace period lasts, each message carries both signatures, space-separated, so a receiver verifies with either."""

import base64
import secrets
from datetime import UTC, datetime

from standardwebhooks import Webhook

SECRET_BYTES = 24


def new_secret() -> str:
    """A fresh endpoint secret: ``whsec_`` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signed_headers(signing_secrets: list[str], message_id: str, timestamp: datetime, body: bytes) -> dict:
    """The webhook-id, webhook-timestamp and webhook-signature headers of one attempt (one signature per secret)."""
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=UTC)
    signatures = " ".join(Webhook(secret).sign(message_id, timestamp, body) for secret in signing_secrets)
    return {"webhook-id": message_id, "webhook-timestamp": str(int(timestamp.timestamp())),
            "webhook-signature": signatures}
