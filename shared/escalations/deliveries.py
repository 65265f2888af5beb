"""The channel deliveries' rows: planned once per message and channel, each channel's turn and
pace, every attempt's answer, and each channel's health. Only these functions write
`escalation.channel_deliveries` and `escalation.channel_pace`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shared.escalations.models import (
    DELIVERED,
    FAILED,
    PENDING,
    ChannelDelivery,
    ChannelPace,
    DeliveryAttempt,
)

# A pending delivery nobody has looked at for this long (its workflow was terminated, its
# worker lost) no longer holds its channel's later messages back.
STALE_AFTER = timedelta(minutes=10)
# The shortest wait before a message whose turn has not come looks again.
MIN_WAIT_SECONDS = 0.2
# A new pace row's last send: long ago. Not `datetime.min`, which asyncpg stores as
# '-infinity' and reads back as a naive datetime (that cannot be compared with `now`).
NEVER_SENT = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Planned:
    delivery_id: str
    channel: str
    escalation_id: int | None = None
    event: str | None = None
    content: dict[str, Any] | None = None


async def plan(session: AsyncSession, planned: list[Planned], *, at: datetime) -> None:
    """Store each delivery once: planning it again (an activity retried) changes nothing."""
    if not planned:
        return
    await session.execute(
        insert(ChannelDelivery)
        .values(
            [
                {
                    "delivery_id": p.delivery_id,
                    "channel": p.channel,
                    "escalation_id": p.escalation_id,
                    "event": p.event,
                    "content": p.content,
                    "state": PENDING,
                    "attempts": 0,
                    "failures": 0,
                    "created_at": at,
                    "touched_at": at,
                }
                for p in planned
            ]
        )
        .on_conflict_do_nothing(index_elements=["delivery_id"])
    )


async def get(session: AsyncSession, delivery_id: str) -> ChannelDelivery | None:
    return await session.get(ChannelDelivery, delivery_id)


async def of_escalations(session: AsyncSession, ids: list[int]) -> list[ChannelDelivery]:
    """The deliveries of these escalations, by channel."""
    rows = await session.execute(
        select(ChannelDelivery)
        .where(col(ChannelDelivery.escalation_id).in_(ids))
        .order_by(col(ChannelDelivery.channel))
    )
    return list(rows.scalars())


async def turn_wait(
    session: AsyncSession, delivery: ChannelDelivery, *, rate_per_minute: int, now: datetime
) -> float:
    """Seconds until a paced channel's next send may be this one; 0: go now (the send is
    claimed: the channel's last send is now).

    A paced channel sends its messages one at a time in the order they were planned: a message
    waits while an earlier one is pending and has not failed (failed ones retry in their own
    time, so one bad message does not hold the rest back), then until 60/rate seconds after the
    channel's last send, and past any pause a rate-limit answer asked for. The channel's pace
    row is locked meanwhile, so two workers never take the same turn."""
    await session.execute(
        insert(ChannelPace)
        .values(channel=delivery.channel, last_sent_at=NEVER_SENT)
        .on_conflict_do_nothing(index_elements=["channel"])
    )
    pace = (
        await session.execute(
            select(ChannelPace)
            .where(col(ChannelPace.channel) == delivery.channel)
            .with_for_update()
        )
    ).scalar_one()
    ahead = (
        await session.execute(
            select(func.count()).where(
                col(ChannelDelivery.channel) == delivery.channel,
                col(ChannelDelivery.state) == PENDING,
                col(ChannelDelivery.seq) < delivery.seq,
                col(ChannelDelivery.failures) == 0,
                col(ChannelDelivery.touched_at) > now - STALE_AFTER,
            )
        )
    ).scalar_one()
    spacing = 60.0 / rate_per_minute
    if ahead:
        return max(spacing * ahead, MIN_WAIT_SECONDS)
    next_at = pace.last_sent_at + timedelta(seconds=spacing)
    if pace.paused_until is not None:
        next_at = max(next_at, pace.paused_until)
    if next_at > now:
        return max((next_at - now).total_seconds(), MIN_WAIT_SECONDS)
    pace.last_sent_at = now
    return 0.0


async def pause(session: AsyncSession, channel: str, *, until: datetime) -> None:
    """Hold a channel's sends back until `until` (it answered "too fast")."""
    await session.execute(
        update(ChannelPace)
        .where(col(ChannelPace.channel) == channel)
        .values(paused_until=func.greatest(col(ChannelPace.paused_until), until))
    )


async def touch(session: AsyncSession, delivery_id: str, *, at: datetime) -> None:
    await session.execute(
        update(ChannelDelivery)
        .where(col(ChannelDelivery.delivery_id) == delivery_id)
        .values(touched_at=at)
    )


async def attempted(
    session: AsyncSession,
    delivery: ChannelDelivery,
    *,
    state: str,
    failed: bool,
    status: int | None,
    code: str | None,
    error: str | None,
    at: datetime,
) -> None:
    """Count an attempt of a delivery and its state after it."""
    delivery.attempts += 1
    delivery.failures += 1 if failed else 0
    delivery.last_status = status
    delivery.last_code = code[:64] if code else None
    delivery.last_error = error
    delivery.touched_at = at
    delivery.state = state
    if state == DELIVERED:
        delivery.delivered_at = at
    if state == FAILED:
        delivery.failed_at = at


async def attempt_started(
    session: AsyncSession,
    *,
    delivery_id: str,
    channel: str,
    target: str,
    attempt: int,
    at: datetime,
) -> None:
    """Record a send about to happen (before it does, so a kill mid-send still leaves a row)."""
    await session.execute(
        insert(DeliveryAttempt)
        .values(
            delivery_id=delivery_id, channel=channel, target=target, attempt=attempt, started_at=at
        )
        .on_conflict_do_update(
            constraint="uq_delivery_attempts_attempt",
            set_={"target": target, "started_at": at, "status": None, "error": None},
        )
    )


@dataclass(frozen=True)
class Health:
    """How a channel's sends went: the last that got through, the last that did not (with its
    error), how many did not in the last 24 h, and the messages still waiting."""

    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    last_error: str | None = None
    failures_24h: int = 0
    pending: int = 0


async def health(session: AsyncSession, *, now: datetime) -> dict[str, Health]:
    """Each channel's health from its recorded attempts and pending deliveries."""
    attempts = DeliveryAttempt
    # A send that did not get through always records why (`error`), whatever its status.
    finished = col(attempts.finished_at).is_not(None)
    ok = finished & col(attempts.error).is_(None)
    failed = finished & col(attempts.error).is_not(None)
    rows = await session.execute(
        select(
            col(attempts.channel),
            func.max(col(attempts.finished_at)).filter(ok),
            func.max(col(attempts.finished_at)).filter(failed),
            func.count().filter(failed, col(attempts.finished_at) > now - timedelta(hours=24)),
        )
        .where(col(attempts.channel).is_not(None))
        .group_by(col(attempts.channel))
    )
    found: dict[str, Health] = {}
    for channel, success, failure, failures in rows.all():
        found[str(channel)] = Health(
            last_success_at=success, last_failure_at=failure, failures_24h=failures
        )
    last_errors = await session.execute(
        select(col(attempts.channel), col(attempts.error))
        .ext(distinct_on(col(attempts.channel)))
        .where(col(attempts.channel).is_not(None), failed)
        .order_by(col(attempts.channel), col(attempts.finished_at).desc())
    )
    for channel, error in last_errors.all():
        found[str(channel)] = _with(found.get(str(channel)), last_error=error)
    pending = await session.execute(
        select(col(ChannelDelivery.channel), func.count())
        .where(col(ChannelDelivery.state) == PENDING)
        .group_by(col(ChannelDelivery.channel))
    )
    for channel, count in pending.all():
        found[channel] = _with(found.get(channel), pending=count)
    return found


def _with(health: Health | None, **changes: Any) -> Health:
    base = health or Health()
    return Health(**{**base.__dict__, **changes})
