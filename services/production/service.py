"""Production's service: the reads and changes other departments ask of its work orders and
assembly issues, each in the caller's session (a cancellation changes them in its own
transaction, together with every other department's rows)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.production.models import ProductionIssue, ProductionOrder

# A work order in any other state is still open and is cancelled with the order.
FINISHED_WORK_ORDER = ("closed", "done", "cancelled")


async def production_order_of(session: AsyncSession, *, order_no: str) -> ProductionOrder:
    """The order's production work order; raises `NoResultFound` when it has none."""
    rows = await session.execute(
        select(ProductionOrder).where(col(ProductionOrder.order_no) == order_no)
    )
    return rows.scalar_one()


async def cancel_production_order(session: AsyncSession, *, order_no: str) -> list[str]:
    """The order's production work order, when not finished → cancelled; its number."""
    rows = await session.execute(
        update(ProductionOrder)
        .where(
            col(ProductionOrder.order_no) == order_no,
            col(ProductionOrder.state).not_in(FINISHED_WORK_ORDER),
        )
        .values(state="cancelled")
        .returning(col(ProductionOrder.wo_no))
    )
    return sorted(rows.scalars())


async def close_open_issues(
    session: AsyncSession, *, order_no: str, resolution: str, at: datetime
) -> None:
    """The order's assembly issues still open → closed with `resolution`."""
    await session.execute(
        update(ProductionIssue)
        .where(
            col(ProductionIssue.order_no) == order_no,
            col(ProductionIssue.state) == "open",
        )
        .values(state="closed", resolution=resolution, closed_at=at)
    )
