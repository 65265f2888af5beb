"""Hand-made plan milestones for the KPI and plan-report tests: rows written straight into
planning.milestones, each test on an order of its own."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from services.planning.models import Milestone
from shared.db import session_scope


def milestone(order_no: str, name: str, planned: date, actual: date | None) -> Milestone:
    return Milestone(
        order_no=order_no,
        name=name,
        owner="x",  # the KPI reads the owner from MILESTONE_OWNERS, not this column
        planned=planned,
        forecast=planned,
        actual=actual,
        revision=1,
        updated_at=datetime(2001, 1, 1, tzinfo=UTC),
    )


async def add_milestones(
    engine: AsyncEngine, rows: Iterable[tuple[str, date, date | None]], prefix: str = "KPI"
) -> str:
    """Milestones (name, planned, actual) of one made-up order; returns its number."""
    order_no = f"{prefix}-{uuid.uuid4().hex[:8]}"
    async with session_scope(engine) as session:
        for name, planned, actual in rows:
            session.add(milestone(order_no, name, planned, actual))
    return order_no
