"""Slack incoming webhook.

The body is Block Kit: a header (the title, at most 150 characters), a section with the lines
as mrkdwn (at most 3000 characters), an actions block with a button per link, and `text` as
the notification's fallback. Slack answers 200 `ok`; 429 with `Retry-After` when the webhook
is sent too much; a 4xx/5xx whose body is the error code (`invalid_payload`, `no_service`,
`channel_not_found`, ...).
"""

from __future__ import annotations

from typing import Any

import httpx

from shared.channels.model import Channel, Message, SendResult
from shared.channels.platforms.common import (
    failure,
    post_json,
    retry_after,
    short_body,
)

PLATFORM = "Slack"
HEADER_MAX, SECTION_MAX, BUTTON_MAX = 150, 3000, 75


def escape(text: str) -> str:
    """Text for mrkdwn and plain_text: Slack's three control characters escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def blocks(message: Message) -> list[dict[str, Any]]:
    """Header, the lines as one mrkdwn section, a button per link."""
    found: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _cut(message.title, HEADER_MAX)},
        },
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": _cut("\n".join(escape(line) for line in message.lines), SECTION_MAX),
            },
        },
    ]
    if message.links:
        buttons = [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": _cut(link.label, BUTTON_MAX)},
                "url": link.url,
                "action_id": f"link_{index}",
            }
            for index, link in enumerate(message.links)
        ]
        found.append({"type": "actions", "elements": buttons})
    return found


def fallback(message: Message) -> str:
    """The notification text: the title and the lines, with the links in Slack's form."""
    links = [f"<{link.url}|{escape(link.label)}>" for link in message.links]
    return "\n".join([escape(message.title), *(escape(line) for line in message.lines), *links])


def body_of(message: Message) -> dict[str, Any]:
    return {"text": fallback(message), "blocks": blocks(message)}


async def send(
    channel: Channel,
    message: Message,
    *,
    delivery_id: str,
    attempt: int,
    client: httpx.AsyncClient,
    timeout: float,  # noqa: ASYNC109  (per request: httpx or SMTP applies it)
) -> SendResult:
    """POST the blocks; only 200 `ok` is delivered."""
    response = await post_json(client, channel, PLATFORM, body_of(message), timeout=timeout)
    if isinstance(response, SendResult):
        return response
    status, text = response.status_code, response.text.strip()
    if status == 200 and text == "ok":
        return SendResult(ok=True, status=status)
    code = short_body(response, channel).split(" ", 1)[0] or None
    limited = status == 429
    return failure(
        channel,
        f"Slack answered HTTP {status}" + (f": {code}" if code else ""),
        status=status,
        code=code,
        rate_limited=limited,
        retry_after=retry_after(response) if limited else None,
    )
