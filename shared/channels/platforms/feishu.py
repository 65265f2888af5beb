"""Feishu (飞书) custom bot (自定义机器人) with signature verification (签名校验).

The body carries `timestamp` (seconds, a string) and `sign`, the base64 HMAC-SHA256 of an
empty message under the key `"{timestamp}\\n{secret}"`, and an interactive card: a header
with the title, coloured by level (events blue), the lines as markdown, a button per link.
The answer is HTTP 200 with `code` 0 when sent (older bots answer `StatusCode` 0), 9499 when
the bot is sent too many messages, anything else a refusal (19021: the signature failed).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

import httpx

from shared.channels.model import Channel, Message, SendResult
from shared.channels.platforms.common import (
    coded_answer,
    json_answer,
    post_json,
)

PLATFORM = "Feishu"
RATE_LIMIT_CODES = frozenset({9499})
RATE_LIMIT_WAIT = 60.0
# Card header colours: an event is news (blue); an escalation warms with its level.
LEVEL_COLOURS = {1: "orange", 2: "red"}
HIGHEST_COLOUR, EVENT_COLOUR = "carmine", "blue"


def signature(timestamp: int, secret: str) -> str:
    """The body's `sign`: base64 HMAC-SHA256 of nothing, keyed by `"{timestamp}\\n{secret}"`."""
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def colour(message: Message) -> str:
    if message.event:
        return EVENT_COLOUR
    return LEVEL_COLOURS.get(message.level, HIGHEST_COLOUR)


def card(message: Message) -> dict[str, Any]:
    """The interactive card: header, the lines as one markdown element, the link buttons."""
    elements: list[dict[str, Any]] = [{"tag": "markdown", "content": "\n".join(message.lines)}]
    if message.links:
        buttons = [
            {
                "tag": "button",
                "text": {"tag": "plain_text", "content": link.label},
                "url": link.url,
                "type": "primary" if index == 0 else "default",
            }
            for index, link in enumerate(message.links)
        ]
        elements.append({"tag": "action", "actions": buttons})
    return {
        "config": {"wide_screen_mode": True},
        "header": {
            "title": {"tag": "plain_text", "content": message.title},
            "template": colour(message),
        },
        "elements": elements,
    }


def body_of(message: Message, secret: str | None, timestamp: int) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if secret:
        body = {"timestamp": str(timestamp), "sign": signature(timestamp, secret)}
    body.update({"msg_type": "interactive", "card": card(message)})
    return body


async def send(
    channel: Channel,
    message: Message,
    *,
    delivery_id: str,
    attempt: int,
    client: httpx.AsyncClient,
    timeout: float,  # noqa: ASYNC109  (per request: httpx or SMTP applies it)
) -> SendResult:
    """POST the signed card and read `code` (or `StatusCode`)."""
    secret = channel.secrets[0] if channel.secrets else None
    body = body_of(message, secret, int(time.time()))
    response = await post_json(client, channel, PLATFORM, body, timeout=timeout)
    if isinstance(response, SendResult):
        return response
    answer = json_answer(response) or {}
    older = "code" not in answer and "StatusCode" in answer
    return coded_answer(
        channel,
        PLATFORM,
        response,
        code_field="StatusCode" if older else "code",
        message_field="StatusMessage" if older else "msg",
        rate_limit_codes=RATE_LIMIT_CODES,
        limit_wait=RATE_LIMIT_WAIT,
    )
