"""What the escalation bots' end-to-end tests share: channels of the platform fakes as the
`ORDERFLOW_CHANNELS` JSON, escalations stored as raise_escalation stores them, their deliveries
started as a raised escalation starts them, waiting on the delivery rows, and reading a
message's text and its acknowledge link back out of what a fake received."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
from temporalio.client import WorkflowHandle

from shared.channels.model import Channel
from shared.db import session_scope
from shared.escalations import service
from shared.escalations.activities import EscalationDelivery
from shared.escalations.models import PENDING, ChannelDelivery, DeliveryAttempt, Escalation
from shared.settings import Settings
from shared.temporal import department_queue, workflow_queue
from tests.conftest import Stack, settings_for
from tests.fakes.base import Answer, Seen, serve
from tests.fakes.platforms import SlackFake
from tests.fakes.smtp import Letter
from workflows.escalation import EscalationDeliveryWorkflow

# Small timeouts and backoffs: a retried delivery takes a fraction of a second.
FAST: dict[str, object] = {
    "webhook_timeout_seconds": 2,
    "webhook_backoff_initial_seconds": 0.05,
    "webhook_backoff_max_seconds": 0.2,
}
# Where people open orderflow in these tests: the links in the messages start here.
PUBLIC_URL = "https://orderflow.plant.example"
ACK_LINK = re.compile(re.escape(PUBLIC_URL) + r"/escalations/ack/[A-Za-z0-9_.-]+\?lang=(?:zh|en)")


def tag() -> str:
    """A short random suffix: channel names and keys of one test are its own."""
    return uuid.uuid4().hex[:6]


@asynccontextmanager
async def served(*apps: object) -> AsyncIterator[list[str]]:
    """Each fake served on 127.0.0.1; their base URLs, in order."""
    async with AsyncExitStack() as stack:
        yield [await stack.enter_async_context(serve(app)) for app in apps]


def spec(channel: Channel) -> dict[str, object]:
    """A channel (as a fake's `channel(...)` makes it) as an object of ORDERFLOW_CHANNELS."""
    found: dict[str, object] = {
        "name": channel.name,
        "type": channel.type,
        "lang": channel.lang,
    }
    if channel.rate_per_minute:
        found["rate_per_minute"] = channel.rate_per_minute
    if channel.type == "email":
        found.update(
            smtp_host=channel.smtp_host,
            smtp_port=channel.smtp_port,
            smtp_security=channel.smtp_security,
            to=list(channel.mail_to),
        )
        found["from"] = channel.mail_from
        return found
    found["url"] = channel.url
    if channel.secrets:
        found["secret"] = channel.secrets[0]
    return found


def bot_settings(
    base: Settings,
    channels: Sequence[Channel],
    routes: Sequence[dict[str, object]],
    **changes: object,
) -> Settings:
    """Settings of one test with these channels and routes (read once here, so a mistake in
    them fails the test at once), fast retries and the public URL the links start with."""
    document = {"channels": [spec(c) for c in channels], "routes": list(routes)}
    settings = settings_for(
        base,
        channels=json.dumps(document, ensure_ascii=False),
        public_url=PUBLIC_URL,
        **{**FAST, **changes},
    )
    settings.channel_book()
    return settings


async def store(
    engine: AsyncEngine,
    *,
    department: str,
    role: str,
    kind: str = "task_overdue",
    level: int = 1,
    order_no: str | None = None,
    due_at: datetime | None = None,
    breached_at: datetime | None = None,
    message: str = "",
    state: str = "open",
) -> int:
    """One escalation stored as raise_escalation stores it; its id."""
    now = datetime.now(UTC)
    key = tag()
    row = Escalation(
        key=f"bots:{key}",
        kind=kind,
        level=level,
        order_no=order_no or f"SO-BOT-{key}",
        department=department,
        role=role,
        due_at=due_at,
        breached_at=breached_at or now,
        message=message or f"{kind} {key}",
        state=state,
        acked_by="someone" if state == "acked" else None,
        acked_at=now if state == "acked" else None,
        created_at=now,
    )
    async with session_scope(engine) as session:
        session.add(row)
        await session.flush()
        assert row.id is not None
        return row.id


async def deliver(stack: Stack, escalation_id: int, department: str) -> WorkflowHandle[Any, Any]:
    """Start the delivery of one escalation, as a raised escalation does."""
    prefix = stack.settings.task_queue_prefix
    return await stack.client.start_workflow(
        EscalationDeliveryWorkflow.run,
        EscalationDelivery(
            escalation_id=escalation_id, task_queue=department_queue(prefix, department)
        ),
        id=f"escalation-{escalation_id}-{tag()}",
        task_queue=workflow_queue(prefix),
    )


async def rows_of(engine: AsyncEngine, escalation_ids: Sequence[int]) -> list[ChannelDelivery]:
    """The delivery rows of these escalations, in the order they were planned."""
    async with session_scope(engine) as session:
        found = await session.execute(
            select(ChannelDelivery)
            .where(col(ChannelDelivery.escalation_id).in_(list(escalation_ids)))
            .order_by(col(ChannelDelivery.seq))
        )
        return list(found.scalars())


async def rows_of_channel(engine: AsyncEngine, channel: str) -> list[ChannelDelivery]:
    """A channel's delivery rows, in the order they were planned (`seq`)."""
    async with session_scope(engine) as session:
        found = await session.execute(
            select(ChannelDelivery)
            .where(col(ChannelDelivery.channel) == channel)
            .order_by(col(ChannelDelivery.seq))
        )
        return list(found.scalars())


async def attempts_of(engine: AsyncEngine, delivery_id: str) -> list[DeliveryAttempt]:
    async with session_scope(engine) as session:
        return await service.attempts_of(session, delivery_id=delivery_id)


async def escalations(engine: AsyncEngine, *, kind: str) -> list[Escalation]:
    async with session_scope(engine) as session:
        found = await session.execute(
            select(Escalation).where(col(Escalation.kind) == kind).order_by(col(Escalation.id))
        )
        return list(found.scalars())


async def until(what: str, check: Callable[[], Awaitable[bool]], *, timeout: float = 60.0) -> None:
    """Poll `check` until it holds (real time: nothing waits on a workflow's result, so the
    time-skipping server does not skip the order's timers meanwhile)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what}: not done after {timeout} s")
        await asyncio.sleep(0.05)


async def settled(
    engine: AsyncEngine, escalation_ids: Sequence[int], count: int, *, timeout: float = 60.0
) -> list[ChannelDelivery]:
    """The escalations' `count` delivery rows once none is pending any more."""

    async def done() -> bool:
        rows = await rows_of(engine, escalation_ids)
        return len(rows) >= count and all(r.state != PENDING for r in rows)

    await until(f"{count} deliveries of escalations {list(escalation_ids)}", done, timeout=timeout)
    return await rows_of(engine, escalation_ids)


def text_of(seen: Seen) -> str:
    """What a chat message says, as its platform shows it (title, lines, links)."""
    body = seen.body
    assert isinstance(body, dict), seen
    if "markdown" in body:  # DingTalk: title and text; WeCom: content
        markdown = body["markdown"]
        return "\n".join(str(markdown.get(k, "")) for k in ("title", "text", "content"))
    if "card" in body:  # Feishu: header, markdown lines, buttons
        card = body["card"]
        parts = [card["header"]["title"]["content"]]
        for element in card["elements"]:
            if element["tag"] == "markdown":
                parts.append(element["content"])
            for action in element.get("actions", []):
                parts.append(f"{action['text']['content']}: {action['url']}")
        return "\n".join(parts)
    if "blocks" in body:  # Slack: the notification text has the title, lines and links
        return str(body["text"])
    return json.dumps(body, ensure_ascii=False)  # the generic webhook: the escalation's JSON


def letter_text(letter: Letter) -> str:
    plain = letter.message.get_body(preferencelist=("plain",))
    assert plain is not None
    return f"{letter.message['Subject']}\n{plain.get_content()}"


def ack_link(text: str) -> str:
    """The one acknowledge link in a message's text."""
    (found,) = ACK_LINK.findall(text)
    return str(found)


def ack_claims(text: str) -> dict[str, Any]:
    """The claims of the message's acknowledge link (escalation `e`, role `r`, channel `c`)."""
    token = ack_link(text).split("/escalations/ack/", 1)[1].split("?", 1)[0]
    part = token.split(".", 1)[0]
    claims = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    assert isinstance(claims, dict)
    return claims


def escalation_ids(messages: Sequence[Seen]) -> list[int]:
    """The escalation each message is about (from its acknowledge link), in arrival order."""
    return [int(ack_claims(text_of(m))["e"]) for m in messages]


class QuickSlackFake(SlackFake):
    """A Slack webhook whose "slow down" asks for one second, not thirty."""

    def rate_limited(self) -> Answer:
        return Answer(429, "rate_limited", {"Retry-After": "1"})
