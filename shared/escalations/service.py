"""Escalation rows other code reads or changes outside the escalation activities: an order's
open escalations and their acknowledgement by the system, in the caller's session; and the
webhook deliveries' records (every attempt, each escalation's delivery state per target), which
only these functions write."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shared.escalations.models import (
    ACKED,
    DELIVERED,
    OPEN,
    Delivery,
    DeliveryAttempt,
    Escalation,
)


async def open_of_order(session: AsyncSession, *, order_no: str) -> list[tuple[int, str | None]]:
    """The order's open escalations: (id, the task each is about, if any), in no set order."""
    rows = await session.execute(
        select(col(Escalation.id), col(Escalation.task_id)).where(
            col(Escalation.order_no) == order_no,
            col(Escalation.state) == OPEN,
        )
    )
    return [(esc_id, task_id) for esc_id, task_id in rows.all() if esc_id is not None]


async def acknowledge(
    session: AsyncSession, *, ids: Iterable[int], by: str, at: datetime
) -> list[int]:
    """Acknowledge those of the escalations still open, as `by`; the ids acknowledged, sorted."""
    acked = await session.execute(
        update(Escalation)
        .where(col(Escalation.id).in_(list(ids)), col(Escalation.state) == OPEN)
        .values(state=ACKED, acked_by=by, acked_at=at)
        .returning(col(Escalation.id))
    )
    return sorted(esc_id for esc_id in acked.scalars() if esc_id is not None)


async def attempt_started(
    session: AsyncSession, *, delivery_id: str, target: str, attempt: int, at: datetime
) -> None:
    """Record a POST about to be sent (before it is, so a kill mid-POST still leaves a row)."""
    await session.execute(
        insert(DeliveryAttempt)
        .values(delivery_id=delivery_id, target=target, attempt=attempt, started_at=at)
        .on_conflict_do_update(
            constraint="uq_delivery_attempts_attempt",
            set_={"target": target, "started_at": at, "status": None, "error": None},
        )
    )


async def attempt_finished(
    session: AsyncSession,
    *,
    delivery_id: str,
    attempt: int,
    status: int | None,
    error: str | None,
    duration_ms: int,
    at: datetime,
) -> None:
    """Complete a recorded attempt with the answer's status, or the error when there was none."""
    await session.execute(
        update(DeliveryAttempt)
        .where(
            col(DeliveryAttempt.delivery_id) == delivery_id,
            col(DeliveryAttempt.attempt) == attempt,
        )
        .values(status=status, error=error, duration_ms=duration_ms, finished_at=at)
    )


async def escalation_delivery_state(
    session: AsyncSession,
    *,
    escalation_id: int,
    url: str,
    delivery_id: str,
    status: int | None,
    error: str | None,
    state: str,
    at: datetime,
) -> None:
    """Count one more attempt of an escalation to a URL, and its state after it."""
    delivered = at if state == DELIVERED else None
    await session.execute(
        insert(Delivery)
        .values(
            escalation_id=escalation_id,
            url=url,
            delivery_id=delivery_id,
            attempts=1,
            last_status=status,
            last_error=error,
            delivered_at=delivered,
            state=state,
        )
        .on_conflict_do_update(
            index_elements=["escalation_id", "url"],
            set_={
                "attempts": Delivery.attempts + 1,
                "delivery_id": delivery_id,
                "last_status": status,
                "last_error": error,
                "delivered_at": delivered,
                "state": state,
            },
        )
    )


async def attempts_of(session: AsyncSession, *, delivery_id: str) -> list[DeliveryAttempt]:
    """A delivery's recorded attempts, in order."""
    rows = await session.execute(
        select(DeliveryAttempt)
        .where(col(DeliveryAttempt.delivery_id) == delivery_id)
        .order_by(col(DeliveryAttempt.attempt))
    )
    return list(rows.scalars())
