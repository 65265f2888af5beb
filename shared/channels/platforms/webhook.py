"""The generic webhook: the message's data as compact JSON, signed twice.

`X-Orderflow-Signature: sha256=<hex HMAC-SHA256 of the body>` under the first (current)
secret, as before; and the Standard Webhooks headers (standardwebhooks.com): `webhook-id` (the
delivery id, the same on every attempt: the receiver's dedupe key), `webhook-timestamp` (the
attempt's Unix time) and `webhook-signature`, one `v1,<base64>` per secret, space-separated,
so a receiver holding either secret verifies it while the secret is rotated.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import httpx
from standardwebhooks import Webhook

from shared.channels.model import Channel, Message, SendResult
from shared.channels.platforms.common import http_failure, post

SIGNATURE_HEADER = "X-Orderflow-Signature"
DELIVERY_HEADER = "X-Orderflow-Delivery"
EVENT_HEADER = "X-Orderflow-Event"
ID_HEADER, TIMESTAMP_HEADER, STANDARD_SIGNATURE_HEADER = (
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
)
PLATFORM = "webhook"


def body_of(message: Message) -> bytes:
    """The POSTed body: the message's data as compact JSON."""
    return json.dumps(message.data, separators=(",", ":")).encode()


def orderflow_signature(body: bytes, secret: str) -> str:
    """The `X-Orderflow-Signature` value of a body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def standard_signatures(
    webhook_id: str, timestamp: int, body: bytes, secrets: Sequence[str]
) -> str:
    """The `webhook-signature` value: a `v1,<base64 HMAC>` per secret, space-separated."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return " ".join(
        Webhook(secret.encode()).sign(webhook_id, moment, body.decode()) for secret in secrets
    )


def headers_for(
    message: Message, body: bytes, secrets: Sequence[str], *, delivery_id: str, attempt: int
) -> dict[str, str]:
    """Every header of one attempt (signed now)."""
    timestamp = int(time.time())
    secrets = [secret for secret in secrets if secret]
    headers = {
        "Content-Type": "application/json",
        DELIVERY_HEADER: str(attempt),
        ID_HEADER: delivery_id,
        TIMESTAMP_HEADER: str(timestamp),
    }
    if secrets:
        headers[SIGNATURE_HEADER] = orderflow_signature(body, secrets[0])
        headers[STANDARD_SIGNATURE_HEADER] = standard_signatures(
            delivery_id, timestamp, body, secrets
        )
    if message.event:
        headers[EVENT_HEADER] = message.event
    return headers


async def send(
    channel: Channel,
    message: Message,
    *,
    delivery_id: str,
    attempt: int,
    client: httpx.AsyncClient,
    timeout: float,  # noqa: ASYNC109  (per request: httpx or SMTP applies it)
) -> SendResult:
    """POST the message's data, signed; any 2xx is delivered, 429 is a rate limit."""
    body = body_of(message)
    headers = headers_for(message, body, channel.secrets, delivery_id=delivery_id, attempt=attempt)
    response = await post(client, channel, PLATFORM, content=body, headers=headers, timeout=timeout)
    if isinstance(response, SendResult):
        return response
    if 200 <= response.status_code < 300:
        return SendResult(ok=True, status=response.status_code)
    return http_failure(channel, PLATFORM, response)
