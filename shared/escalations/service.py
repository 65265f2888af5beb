"""Escalation rows other code reads or changes outside the escalation activities: an order's
open escalations and their acknowledgement by the system, in the caller's session; and the
finishing and reading of recorded send attempts (`shared.escalations.deliveries` plans and
starts them)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shared.escalations.models import ACKED, OPEN, DeliveryAttempt, Escalation


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


async def attempts_of(session: AsyncSession, *, delivery_id: str) -> list[DeliveryAttempt]:
    """A delivery's recorded attempts, in order."""
    rows = await session.execute(
        select(DeliveryAttempt)
        .where(col(DeliveryAttempt.delivery_id) == delivery_id)
        .order_by(col(DeliveryAttempt.attempt))
    )
    return list(rows.scalars())


async def first_key_about(session: AsyncSession, *, order_no: str, task_prefix: str) -> str | None:
    """The key of the order's first escalation about a task whose id starts with
    `task_prefix` (e.g. "requisition-"); None when there is none."""
    return (
        await session.execute(
            select(col(Escalation.key))
            .where(col(Escalation.order_no) == order_no)
            .where(col(Escalation.task_id).startswith(task_prefix, autoescape=True))
            .order_by(col(Escalation.id))
            .limit(1)
        )
    ).scalar_one_or_none()
