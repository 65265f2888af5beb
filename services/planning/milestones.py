"""Planning's reads for other departments: milestone actuals and forecasts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.planning.models import Milestone


# One order's production window in its current plan.
@dataclass(frozen=True)
class ProductionWindow:
    order_no: str
    start: date
    end: date


async def actuals(
    session: AsyncSession, *, order_no: str, names: Iterable[str]
) -> dict[str, date | None]:
    """The actual date of each of the order's named milestones that exists (None: not yet)."""
    rows = await session.execute(
        select(Milestone).where(
            col(Milestone.order_no) == order_no, col(Milestone.name).in_(tuple(names))
        )
    )
    return {row.name: row.actual for row in rows.scalars()}


async def open_production_windows(
    session: AsyncSession, *, except_order: str
) -> list[ProductionWindow]:
    """The forecast production windows of every other order whose production has not ended,
    in no set order."""
    start = Milestone.__table__.alias("start")  # type: ignore[attr-defined]
    end = Milestone.__table__.alias("end")  # type: ignore[attr-defined]
    rows = await session.execute(
        select(start.c.order_no, start.c.forecast, end.c.forecast)
        .join(end, (end.c.order_no == start.c.order_no) & (end.c.name == "production_end"))
        .where(
            start.c.name == "production_start",
            start.c.order_no != except_order,
            end.c.actual.is_(None),
        )
    )
    return [ProductionWindow(order_no=o, start=s, end=e) for o, s, e in rows.all()]


async def reached(session: AsyncSession, *, name: str, order_nos: Iterable[str]) -> set[str]:
    """Those of the orders whose milestone `name` has an actual date."""
    wanted = sorted(set(order_nos))
    if not wanted:
        return set()
    rows = await session.execute(
        select(col(Milestone.order_no)).where(
            col(Milestone.name) == name,
            col(Milestone.order_no).in_(wanted),
            col(Milestone.actual).is_not(None),
        )
    )
    return set(rows.scalars())
