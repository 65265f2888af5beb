"""An administrator's test of a channel: one message that says the channel works, sent once
through the worker (which has the network path to the chats), recorded like any attempt so
the channel's health shows it."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from shared.activities import DbActivities
from shared.channels import platforms
from shared.channels.messages import test_message
from shared.db import session_scope
from shared.escalations import deliveries, service
from shared.escalations.delivery_types import ChannelTest, ChannelTestResult


class ChannelTestActivities(DbActivities):
    """Sends a channel's test message."""

    @activity.defn
    async def send_test_message(self, test: ChannelTest) -> ChannelTestResult:
        """Send the test message once and record the attempt; the channel's answer."""
        settings = self._settings
        channel = settings.channel_book().channels.get(test.channel)
        if channel is None:
            raise ApplicationError(
                f"no channel named {test.channel} is configured",
                type="UnknownChannel",
                non_retryable=True,
            )
        now = datetime.now(UTC)
        message = test_message(
            channel.name, channel.lang, by=test.by, at=now, zone=settings.timezone
        )
        delivery_id = f"test-{channel.name}-{now:%Y%m%dT%H%M%S%f}"
        async with session_scope(self._engine) as session:
            await deliveries.attempt_started(
                session,
                delivery_id=delivery_id,
                channel=channel.name,
                target=channel.target(),
                attempt=1,
                at=now,
            )
        clock = time.monotonic()
        async with httpx.AsyncClient(timeout=settings.webhook_timeout_seconds) as client:
            result = await platforms.send(
                channel,
                message,
                delivery_id=delivery_id,
                attempt=1,
                client=client,
                timeout=settings.webhook_timeout_seconds,
            )
        duration_ms = int((time.monotonic() - clock) * 1000)
        error = None if result.ok else (result.error or f"answered {result.status}")
        async with session_scope(self._engine) as session:
            await service.attempt_finished(
                session,
                delivery_id=delivery_id,
                attempt=1,
                status=result.status,
                error=error,
                duration_ms=duration_ms,
                at=datetime.now(UTC),
            )
        return ChannelTestResult(
            channel=channel.name,
            ok=result.ok,
            status=result.status,
            code=result.code,
            error=error,
            duration_ms=duration_ms,
        )
