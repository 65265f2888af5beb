"""The channels escalations and events are delivered to: each with its health (ops, admin),
and an administrator's test message to one (`/escalations/channels`)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel
from temporalio.client import WorkflowFailureError
from temporalio.service import RPCError

from shared.channels.model import ChannelType
from shared.deps import CurrentUser, SessionDep, SettingsDep, TemporalDep
from shared.errors import APIError, not_found, unavailable
from shared.escalations import deliveries
from shared.escalations.delivery_types import ChannelTestInput
from shared.escalations.schemas import ChannelHealthPublic, ChannelPublic
from shared.temporal import workflow_queue
from workflows.clients import ChannelTestWorkflow

router = APIRouter(prefix="/escalations/channels", tags=["escalations"])

ChannelName = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,47}$")]
# The worker's HTTP timeout plus time for Temporal to hand the test to it.
TEST_MARGIN_SECONDS = 15.0


# What a channel answered to an administrator's test message.
class ChannelTestPublic(BaseModel):
    channel: str
    ok: bool
    status: int | None = None
    code: str | None = None
    duration_ms: int


@router.get("", response_model=list[ChannelPublic])
async def list_channels(
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    kind: Annotated[ChannelType | None, Query(alias="type")] = None,
) -> list[ChannelPublic]:
    """The configured channels (of one `type`, if given) with where they go (no token or
    secret) and their delivery health (admin, ops)."""
    user.require(("ops",), "listing the escalation channels")
    health = await deliveries.health(session, now=datetime.now(UTC))
    return [
        ChannelPublic(
            name=channel.name,
            type=channel.type,
            lang=channel.lang,
            target=channel.target(),
            rate_per_minute=channel.rate_per_minute,
            health=ChannelHealthPublic(**health.get(channel.name, deliveries.Health()).__dict__),
        )
        for channel in settings.channel_book().channels.values()
        if kind is None or channel.type == kind
    ]


@router.post("/{name}/test", response_model=ChannelTestPublic)
async def test_channel(
    name: ChannelName, user: CurrentUser, settings: SettingsDep, temporal: TemporalDep
) -> ChannelTestPublic:
    """Send the channel a test message, once, through a worker (admin): 200 when the platform
    took it, 502 `channel_refused` with its answer when it did not."""
    user.require(("admin",), "sending a channel a test message")
    if name not in settings.channel_book().channels:
        raise not_found(f"channel {name}")
    prefix = settings.task_queue_prefix
    try:
        result = await asyncio.wait_for(
            temporal.execute_workflow(
                ChannelTestWorkflow.run,
                ChannelTestInput(queue_prefix=prefix, channel=name, by=user.sub),
                id=f"{prefix}-channel-test-{name}-{uuid.uuid4().hex[:8]}",
                task_queue=workflow_queue(prefix),
                static_summary=f"test message to channel {name}, by {user.sub}",
            ),
            timeout=settings.webhook_timeout_seconds + TEST_MARGIN_SECONDS,
        )
    except (RPCError, WorkflowFailureError, TimeoutError) as exc:
        raise unavailable(
            f"the test message to channel {name} was not sent: no worker answered in time "
            f"({type(exc).__name__}); try again when the workers run"
        ) from None
    if not result.ok:
        raise APIError(
            502,
            "channel_refused",
            f"channel {name} did not take the test message: {result.error}",
            extra={"status": result.status, "code": result.code},
        )
    return ChannelTestPublic(
        channel=name,
        ok=True,
        status=result.status,
        code=result.code,
        duration_ms=result.duration_ms,
    )
