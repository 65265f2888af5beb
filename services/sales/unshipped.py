"""The weekly unshipped list (PROCESS P2.6): orders in finished goods not yet shipped.

An order is in finished goods once it passed final inspection and reached stage `delivery`; it
is shipped once its `ship` milestone has an actual date. Every active order in between is on
the list, and WeeklyUnshippedWorkflow asks each for a ship date (`sales.ship_date`). An order
in `delivery` without a `ship` milestone row has no ship actual either, so it is listed too.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col
from temporalio import activity

from services.planning.milestones import reached
from services.sales.models import Order
from shared.activities import DbActivities
from shared.db import session_scope
from shared.plant_days import PlantDay, unshipped_day
from shared.production_types import UnshippedRun

# The stage an order is in while its product waits in finished goods for shipping.
FINISHED_GOODS_STAGE = "delivery"
SHIP_MILESTONE = "ship"


class UnshippedActivities(DbActivities):
    """The weekly unshipped run's work; the worker registers the bound methods."""

    @activity.defn
    async def unshipped_day(self, run: UnshippedRun) -> PlantDay:
        """The plant's local date at the run's time and whether the list is made on it: on
        `unshipped_weekday`, or on the next working day when that day is off (read now, so a
        changed setting applies to the next run; shared/plant_days.py)."""
        calendar = await self.calendar.current()
        return unshipped_day(calendar, run.at, self._settings.unshipped_weekday)

    @activity.defn
    async def unshipped_orders(self, run: UnshippedRun) -> list[str]:
        """Order numbers of the active orders in finished goods whose `ship` milestone has no
        actual date, sorted."""
        async with session_scope(self._engine) as session:
            rows = await session.execute(
                select(col(Order.order_no)).where(
                    col(Order.status) == "active",
                    col(Order.stage) == FINISHED_GOODS_STAGE,
                )
            )
            waiting = set(rows.scalars())
            shipped = await reached(session, name=SHIP_MILESTONE, order_nos=waiting)
            # Sorted here, not by the database's collation, so every run lists in one order.
            order_nos = sorted(waiting - shipped)
        activity.logger.info(
            "weekly unshipped list at %s: %d order(s)", run.at.isoformat(), len(order_nos)
        )
        return order_nos
