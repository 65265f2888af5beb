"""DingTalk (钉钉) custom robot (自定义机器人) with signing (加签).

The robot's URL carries `access_token`; each POST adds `timestamp` (milliseconds) and
`sign`, the URL-encoded base64 HMAC-SHA256 of `"{timestamp}\\n{secret}"` under the secret.
The body is a markdown message; the answer is HTTP 200 with `errcode` 0 when sent, 130101
when the robot is sent more than 20 messages a minute, anything else a refusal.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import quote_plus

import httpx

from shared.channels.model import Channel, Message, SendResult
from shared.channels.platforms.common import (
    coded_answer,
    markdown_text,
    post_json,
)

PLATFORM = "DingTalk"
# errcode of "send too fast" (more than 20 messages a minute): wait a minute.
RATE_LIMIT_CODES = frozenset({130101})
RATE_LIMIT_WAIT = 60.0


def signature(timestamp_ms: int, secret: str) -> str:
    """The `sign` query value (already URL-encoded)."""
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    mac = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    return quote_plus(base64.b64encode(mac))


def signed_url(url: str, secret: str | None, timestamp_ms: int) -> str:
    """The robot's URL with `timestamp` and `sign` added (as it is without a secret)."""
    if not secret:
        return url
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}timestamp={timestamp_ms}&sign={signature(timestamp_ms, secret)}"


def body_of(message: Message) -> dict[str, object]:
    """The markdown message: the title (shown in notifications) and the text with links."""
    return {
        "msgtype": "markdown",
        "markdown": {"title": message.title, "text": markdown_text(message)},
    }


async def send(
    channel: Channel,
    message: Message,
    *,
    delivery_id: str,
    attempt: int,
    client: httpx.AsyncClient,
    timeout: float,  # noqa: ASYNC109  (per request: httpx or SMTP applies it)
) -> SendResult:
    """POST the markdown message to the signed URL and read `errcode`."""
    url = signed_url(
        channel.url, channel.secrets[0] if channel.secrets else None, int(time.time() * 1000)
    )
    response = await post_json(
        client, channel, PLATFORM, body_of(message), timeout=timeout, url=url
    )
    if isinstance(response, SendResult):
        return response
    return coded_answer(
        channel,
        PLATFORM,
        response,
        code_field="errcode",
        message_field="errmsg",
        rate_limit_codes=RATE_LIMIT_CODES,
        limit_wait=RATE_LIMIT_WAIT,
    )
