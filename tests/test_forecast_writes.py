"""Re-forecasts only move milestone dates later. Two milestone clocks of one order can fire in
the same workflow step; their `record_forecast` writes then run concurrently, and the one
computed first (knowing less) may commit last: it must not undo the other's later dates."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from services.planning.activities import PlanningActivities
from services.planning.models import Milestone
from shared.db import session_scope
from shared.settings import Settings
from shared.types import MilestoneForecast
from tests.kpi_drivers import add_milestones

PLANNED = {"design_done": date(2026, 8, 3), "bom_release": date(2026, 8, 3)}


async def test_a_stale_forecast_committed_last_does_not_move_dates_back(
    engine: AsyncEngine, base_settings: Settings
) -> None:
    order_no = await add_milestones(engine, [(n, d, None) for n, d in PLANNED.items()])
    planning = PlanningActivities(engine, base_settings)
    knows_both = {"design_done": date(2026, 8, 5), "bom_release": date(2026, 8, 6)}
    knows_one = {"design_done": date(2026, 8, 3), "bom_release": date(2026, 8, 5)}
    await planning.record_forecast(MilestoneForecast(order_no=order_no, forecast=knows_both))
    await planning.record_forecast(MilestoneForecast(order_no=order_no, forecast=knows_one))
    async with session_scope(engine) as session:
        rows = (
            await session.execute(select(Milestone).where(col(Milestone.order_no) == order_no))
        ).scalars()
        assert {row.name: row.forecast for row in rows} == knows_both
