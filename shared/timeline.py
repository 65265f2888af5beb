"""The order timeline: one row per step, who did it and when (责任追究)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.planning.models import TimelineEvent


async def add_event(
    session: AsyncSession,
    *,
    key: str,
    order_no: str,
    at: datetime,
    kind: str,
    actor: str,
    summary: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append an event once: a second call with the same `key` changes nothing."""
    await session.execute(
        insert(TimelineEvent)
        .values(
            key=key,
            order_no=order_no,
            at=at,
            kind=kind,
            actor=actor,
            summary=summary,
            detail=detail or {},
        )
        .on_conflict_do_nothing(index_elements=["key"])
    )
