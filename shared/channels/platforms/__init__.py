"""The platforms a channel sends through: one module per channel type, each with the same
`send`, and the pace each platform allows by default.

`send(channel, message, delivery_id=, attempt=, client=, timeout=)` never raises for a failed
send: it answers a SendResult whose `error` holds no URL, token, secret or password.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

import httpx

from shared.channels.model import Channel, ChannelType, Message, SendResult
from shared.channels.platforms import dingtalk, email, feishu, slack, webhook, wecom


class Sender(Protocol):
    def __call__(
        self,
        channel: Channel,
        message: Message,
        *,
        delivery_id: str,
        attempt: int,
        client: httpx.AsyncClient,
        timeout: float,
    ) -> Awaitable[SendResult]: ...


SENDERS: dict[ChannelType, Sender] = {
    "webhook": webhook.send,
    "dingtalk": dingtalk.send,
    "wecom": wecom.send,
    "feishu": feishu.send,
    "slack": slack.send,
    "email": email.send,
}

# Messages a minute each platform takes per robot/webhook (0: no pacing): DingTalk and WeCom
# 20, Feishu 100, Slack about one a second.
DEFAULT_RATE_PER_MINUTE: dict[ChannelType, int] = {
    "dingtalk": 20,
    "wecom": 20,
    "feishu": 100,
    "slack": 60,
    "webhook": 0,
    "email": 0,
}


def rate_per_minute(channel: Channel) -> int:
    """The pace a channel is sent at: its own when configured, else its type's default."""
    return channel.rate_per_minute or DEFAULT_RATE_PER_MINUTE[channel.type]


async def send(
    channel: Channel,
    message: Message,
    *,
    delivery_id: str,
    attempt: int,
    client: httpx.AsyncClient,
    timeout: float,  # noqa: ASYNC109  (per request: httpx or SMTP applies it)
) -> SendResult:
    """Send one message through the channel's platform."""
    sender: Callable[..., Awaitable[SendResult]] | None = SENDERS.get(channel.type)
    if sender is None:
        return SendResult(ok=False, error=f"channel type {channel.type!r} has no platform")
    return await sender(
        channel,
        message,
        delivery_id=delivery_id,
        attempt=attempt,
        client=client,
        timeout=timeout,
    )
