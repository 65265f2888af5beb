"""WeCom (企业微信) group robot (群机器人).

The robot's URL carries its `key`; the body is a markdown message whose content may be at most
4096 bytes of UTF-8 (longer is cut on a character boundary); the answer is HTTP 200 with
`errcode` 0 when sent, 45009 when the robot is sent more than 20 messages a minute, anything
else a refusal.
"""

from __future__ import annotations

import httpx

from shared.channels.model import Channel, Message, SendResult
from shared.channels.platforms.common import (
    coded_answer,
    post_json,
    truncate_utf8,
)

PLATFORM = "WeCom"
MAX_CONTENT_BYTES = 4096
# errcode of "api freq out of limit": wait a minute.
RATE_LIMIT_CODES = frozenset({45009})
RATE_LIMIT_WAIT = 60.0


def content_of(message: Message) -> str:
    """The markdown content: the title in bold, each line, the links; cut to 4096 bytes,
    the links kept when the lines are what is too long."""
    links = " | ".join(f"[{link.label}]({link.url})" for link in message.links)
    tail = f"\n{links}" if links else ""
    head = "\n".join([f"**{message.title}**", *message.lines])
    room = MAX_CONTENT_BYTES - len(tail.encode())
    if room < MAX_CONTENT_BYTES // 2:
        return truncate_utf8(head + tail, MAX_CONTENT_BYTES)
    return truncate_utf8(head, room) + tail


def body_of(message: Message) -> dict[str, object]:
    return {"msgtype": "markdown", "markdown": {"content": content_of(message)}}


async def send(
    channel: Channel,
    message: Message,
    *,
    delivery_id: str,
    attempt: int,
    client: httpx.AsyncClient,
    timeout: float,  # noqa: ASYNC109  (per request: httpx or SMTP applies it)
) -> SendResult:
    """POST the markdown message to the robot's URL and read `errcode`."""
    response = await post_json(client, channel, PLATFORM, body_of(message), timeout=timeout)
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
