"""The delivery activities: route an escalation or a business event to its channels, then send
each delivery in its channel's turn until the channel takes it or the cap fails it.

The workflow passes delivery ids and channel names only; the channel's URL and secrets are
read here from the settings and go nowhere but the platform's send. An attempt's answer is
kept per delivery and per attempt (the channel health `GET /escalations/channels` shows).
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from functools import cached_property

import httpx
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from shared.activities import DbActivities
from shared.channels import platforms
from shared.channels.messages import (
    customer_notice_message,
    digest_message,
    escalation_message,
    plan_report_message,
)
from shared.channels.model import (
    CHANNEL_FAILING,
    CUSTOMER_NOTICE,
    ESCALATION_DIGEST,
    PLAN_REPORT,
    Channel,
    Message,
)
from shared.db import session_scope
from shared.escalations import deliveries, facts, service
from shared.escalations.delivery_types import (
    ChannelFailing,
    DeliveryOutcome,
    DeliveryPlan,
    DigestRun,
    PlanEscalationDeliveries,
    PlanEventDeliveries,
    PlannedDelivery,
    SendDelivery,
)
from shared.escalations.models import DELIVERED, FAILED, PENDING, ChannelDelivery, Escalation
from shared.escalations.store import store_escalation
from shared.settings import DEPARTMENTS, Settings
from shared.types import EscalationRaised, RaiseEscalation


def escalation_delivery_id(escalation_id: int, channel: str) -> str:
    return f"esc-{escalation_id}-{channel}"


def event_delivery_id(event: str, key: str, channel: str) -> str:
    return f"evt-{event}-{key}-{channel}"[:160]


def failing_channel_of(escalation: Escalation) -> str | None:
    """The channel a `channel_failing` escalation is about (its key names it)."""
    if escalation.kind != CHANNEL_FAILING:
        return None
    return escalation.key.split(":")[1]


def retry_delay(settings: Settings, failures: int) -> timedelta:
    """The wait after the `failures`th failed send: doubling from the initial backoff, at most
    the maximum."""
    initial = settings.webhook_backoff_initial_seconds
    return timedelta(
        seconds=min(initial * 2.0 ** min(failures - 1, 60), settings.webhook_backoff_max_seconds)
    )


class DeliveryActivities(DbActivities):
    """Routes escalations and events to channels and sends them (one HTTP client per worker)."""

    @cached_property
    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=self._settings.webhook_timeout_seconds)

    @activity.defn
    async def plan_escalation_deliveries(self, request: PlanEscalationDeliveries) -> DeliveryPlan:
        """One delivery per channel the routes give the escalation (a channel's own failure is
        not sent to that channel); planned once, however often this runs."""
        book = self._settings.channel_book()
        async with session_scope(self._engine) as session:
            escalation = await session.get(Escalation, request.escalation_id)
            if escalation is None:
                raise ApplicationError(
                    f"escalation {request.escalation_id} does not exist", non_retryable=True
                )
            names = book.for_escalation(
                kind=escalation.kind,
                level=escalation.level,
                department=escalation.department,
                role=escalation.role,
            )
            names = [name for name in names if name != failing_channel_of(escalation)]
            planned = [
                deliveries.Planned(
                    delivery_id=escalation_delivery_id(request.escalation_id, name),
                    channel=name,
                    escalation_id=request.escalation_id,
                )
                for name in names
            ]
            await deliveries.plan(session, planned, at=datetime.now(UTC))
        return DeliveryPlan(
            escalation_id=request.escalation_id,
            kind=escalation.kind,
            department=escalation.department,
            deliveries=[
                PlannedDelivery(delivery_id=p.delivery_id, channel=p.channel) for p in planned
            ],
        )

    @activity.defn
    async def plan_event_deliveries(self, request: PlanEventDeliveries) -> list[PlannedDelivery]:
        """One delivery per channel the routes give the event; planned once."""
        names = self._settings.channel_book().for_event(
            request.event, department=request.department
        )
        planned = [
            deliveries.Planned(
                delivery_id=event_delivery_id(request.event, request.key, name),
                channel=name,
                event=request.event,
                content=request.content,
            )
            for name in names
        ]
        async with session_scope(self._engine) as session:
            await deliveries.plan(session, planned, at=datetime.now(UTC))
        return [PlannedDelivery(delivery_id=p.delivery_id, channel=p.channel) for p in planned]

    @activity.defn
    async def send_delivery(self, request: SendDelivery) -> DeliveryOutcome:
        """Send one delivery when its channel's turn comes; a channel that did not take it
        raises so Temporal tries again after the backoff, until the cap marks it failed (then
        the failed outcome is returned, for the workflow to raise `channel_failing`)."""
        return await self.send_planned(request.delivery_id)

    async def send_planned(
        self, delivery_id: str, *, channel_given: Channel | None = None
    ) -> DeliveryOutcome:
        """`send_delivery`'s work; `channel_given` sends to a channel that is not configured
        (a bare URL of a delivery started before channels)."""
        now = datetime.now(UTC)
        book = self._settings.channel_book()
        request = SendDelivery(delivery_id=delivery_id)
        async with session_scope(self._engine) as session:
            delivery = await deliveries.get(session, request.delivery_id)
            if delivery is None:
                raise ApplicationError(
                    f"delivery {request.delivery_id} was never planned", non_retryable=True
                )
            if delivery.state != PENDING:
                return _outcome(delivery)
            channel = channel_given or book.channels.get(delivery.channel)
            if channel is None:
                await deliveries.attempted(
                    session,
                    delivery,
                    state=FAILED,
                    failed=True,
                    status=None,
                    code=None,
                    error=f"channel {delivery.channel} is no longer configured",
                    at=now,
                )
                return _outcome(delivery)
            wait = 0.0
            if channel.rate_per_minute > 0:
                wait = await deliveries.turn_wait(
                    session, delivery, rate_per_minute=channel.rate_per_minute, now=now
                )
            if wait > 0:
                # Still waiting its turn, and seen now: it keeps its place in the queue.
                await deliveries.touch(session, delivery.delivery_id, at=now)
            else:
                message = await self._message(session, delivery, channel, now)
                attempt = delivery.attempts + 1
                await deliveries.attempt_started(
                    session,
                    delivery_id=delivery.delivery_id,
                    channel=channel.name,
                    target=channel.target(),
                    attempt=attempt,
                    at=now,
                )
        if wait > 0:
            raise ApplicationError(
                f"channel {channel.name} sends {channel.rate_per_minute} a minute, one after "
                f"another: this message's turn comes in {wait:.1f} s",
                type="ChannelTurn",
                next_retry_delay=timedelta(seconds=wait),
                category=ApplicationErrorCategory.BENIGN,
            )
        return await self._send(delivery, channel, message, attempt)

    async def _send(
        self, delivery: ChannelDelivery, channel: Channel, message: Message, attempt: int
    ) -> DeliveryOutcome:
        clock = time.monotonic()
        result = await platforms.send(
            channel,
            message,
            delivery_id=delivery.delivery_id,
            attempt=attempt,
            client=self._client,
            timeout=self._settings.webhook_timeout_seconds,
        )
        duration_ms = int((time.monotonic() - clock) * 1000)
        finished = datetime.now(UTC)
        error = None if result.ok else (result.error or f"answered {result.status}")
        failed = not result.ok and not result.rate_limited
        settings = self._settings
        async with session_scope(self._engine) as session:
            row = await deliveries.get(session, delivery.delivery_id)
            assert row is not None
            age = (finished - row.created_at).total_seconds()
            capped = failed and (
                row.failures + 1 >= settings.webhook_max_attempts
                or age >= settings.webhook_max_age_seconds
            )
            state = DELIVERED if result.ok else FAILED if capped else PENDING
            await deliveries.attempted(
                session,
                row,
                state=state,
                failed=failed,
                status=result.status,
                code=result.code,
                error=error,
                at=finished,
            )
            await service.attempt_finished(
                session,
                delivery_id=row.delivery_id,
                attempt=attempt,
                status=result.status,
                error=error,
                duration_ms=duration_ms,
                at=finished,
            )
            if result.rate_limited:
                wait = result.retry_after or max(_spacing(channel), 1.0)
                await deliveries.pause(
                    session, channel.name, until=finished + timedelta(seconds=wait)
                )
            outcome = _outcome(row)
        if state != PENDING:
            return outcome
        if result.rate_limited:
            raise ApplicationError(
                f"channel {channel.name} asked to slow down ({error}); "
                "the message keeps its place and is sent again",
                type="ChannelRateLimited",
                next_retry_delay=timedelta(seconds=wait),
                category=ApplicationErrorCategory.BENIGN,
            )
        raise ApplicationError(
            f"channel {channel.name} did not take the message: {error}; retrying",
            type="ChannelFailed",
            next_retry_delay=retry_delay(settings, outcome.failures),
        )

    async def _message(
        self,
        session: AsyncSession,
        delivery: ChannelDelivery,
        channel: Channel,
        now: datetime,
    ) -> Message:
        """The delivery's message in the channel's language, written now from the stored rows."""
        settings = self._settings
        if delivery.escalation_id is not None:
            escalation = await session.get(Escalation, delivery.escalation_id)
            assert escalation is not None
            found = await facts.escalation_facts(
                session, escalation, settings=settings, channel=channel, now=now
            )
            return escalation_message(found, channel.lang)
        content = delivery.content or {}
        if delivery.event == ESCALATION_DIGEST:
            digest = await facts.digest_facts(
                session,
                department=str(content["department"]),
                day=date.fromisoformat(str(content["day"])),
                ids=[int(i) for i in content["escalation_ids"]],
                settings=settings,
                channel=channel,
                now=now,
            )
            return digest_message(digest, channel.lang)
        if delivery.event == PLAN_REPORT:
            return plan_report_message(content, channel.lang, settings.timezone)
        if delivery.event == CUSTOMER_NOTICE:
            return customer_notice_message(content, channel.lang)
        raise ApplicationError(
            f"delivery {delivery.delivery_id}: no message for event {delivery.event}",
            non_retryable=True,
        )

    @activity.defn
    async def plan_digests(self) -> DigestRun:
        """On a working day of the plant, one `escalation_digest` per department with open
        escalations, to the channels its routes name; on a day off, none (and why)."""
        now = datetime.now(UTC)
        calendar = await self.calendar.current()
        day = calendar.local_date(now)
        if not calendar.is_working_day(day):
            return DigestRun(day=day.isoformat(), skipped=f"{day} is a day off at the plant")
        book = self._settings.channel_book()
        planned: list[deliveries.Planned] = []
        async with session_scope(self._engine) as session:
            for department in DEPARTMENTS:
                names = book.for_event(ESCALATION_DIGEST, department=department)
                ids = [e.id for e in await facts.open_of_department(session, department)]
                if not names or not ids:
                    continue
                content = {"department": department, "day": day.isoformat(), "escalation_ids": ids}
                planned += [
                    deliveries.Planned(
                        delivery_id=event_delivery_id(
                            ESCALATION_DIGEST, f"{department}-{day}", name
                        ),
                        channel=name,
                        event=ESCALATION_DIGEST,
                        content=content,
                    )
                    for name in names
                ]
            await deliveries.plan(session, planned, at=now)
        return DigestRun(
            day=day.isoformat(),
            deliveries=[
                PlannedDelivery(delivery_id=p.delivery_id, channel=p.channel) for p in planned
            ],
        )

    @activity.defn
    async def raise_channel_failing(self, failing: ChannelFailing) -> EscalationRaised:
        """Raise `channel_failing` to `ops`, once per channel per hour (the key holds the hour):
        a channel that fails every message makes one alarm an hour, not one per message."""
        channel = self._settings.channel_book().channels.get(failing.channel)
        kind = channel.type if channel else "removed"
        async with session_scope(self._engine) as session:
            delivery = await deliveries.get(session, failing.delivery_id)
            reason = delivery.last_error if delivery else None
            attempts = delivery.attempts if delivery else 0
            return await store_escalation(
                session,
                RaiseEscalation(
                    key=f"{CHANNEL_FAILING}:{failing.channel}:{failing.at:%Y-%m-%dT%H}",
                    kind=CHANNEL_FAILING,
                    level=1,
                    order_no="",
                    department=failing.department,
                    role="ops",
                    breached_at=failing.at,
                    message=(
                        f"channel {failing.channel} ({kind}) is failing: delivery "
                        f"{failing.delivery_id} gave up after {attempts} attempt(s): {reason}"
                    ),
                ),
            )


def _spacing(channel: Channel) -> float:
    return 60.0 / channel.rate_per_minute if channel.rate_per_minute else 0.0


def _outcome(delivery: ChannelDelivery) -> DeliveryOutcome:
    return DeliveryOutcome(
        delivery_id=delivery.delivery_id,
        channel=delivery.channel,
        state=delivery.state,
        attempts=delivery.attempts,
        failures=delivery.failures,
        last_error=delivery.last_error,
    )
