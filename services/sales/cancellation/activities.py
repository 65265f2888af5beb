"""Cancelling an order at any stage (PROCESS "At any time"): the sales queue's activities.

The order workflow's `cancel` update calls `unwind_order` after it has withdrawn the order's
tasks and stopped its timers; it fills in the tasks itself. What the unwinding changes, and in
which owner's functions, is in `service.py`.
"""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.sales.cancellation.service import NOT_CANCELLABLE, lock_order, timeline, unwind
from services.sales.models import Cancellation
from services.warehouse.receiving.service import lots_waiting_for_quality
from shared.activities import DbActivities
from shared.db import session_scope
from shared.production_types import CancellationResult, UnwindOrder
from shared.rejections import Rejection
from shared.workflow_ids import inspection_workflow_id


class CancellationActivities(DbActivities):
    """Unwinds a cancelled order; the worker registers the bound method on the sales queue."""

    @activity.defn
    async def unwind_order(self, request: UnwindOrder) -> CancellationResult:
        """Cancel the order's open requisitions, purchase orders and work orders, release its
        shelf reservations to other short orders, drop its requirements and price what it has
        cost; a retry after the commit answers the result kept then."""
        # Labour is counted in the plant's working days; read before the order is locked.
        calendar = await self.calendar.current()
        async with session_scope(self._engine) as session:
            order = await lock_order(session, request.order_no)
            kept = await session.get(Cancellation, request.order_no)
            if kept is not None:
                return CancellationResult.model_validate(kept.result)
            if order.status in NOT_CANCELLABLE:
                raise ApplicationError(
                    f"order {order.order_no} is {order.status}; there is nothing to cancel",
                    type=Rejection.NOT_CANCELLABLE,
                    non_retryable=True,
                )
            result = await unwind(
                session, order, request, self._settings.labour_cost_per_day, calendar
            )
            stored = result.model_dump(mode="json")
            session.add(
                Cancellation(
                    order_no=order.order_no,
                    reason=request.reason,
                    by=request.by,
                    at=request.at,
                    result=stored,
                )
            )
            await timeline(session, request, result)
        # The kept form, so the first answer and a retried one are the same to the digit.
        return CancellationResult.model_validate(stored)

    @activity.defn
    async def inspections_of(self, order_no: str) -> list[str]:
        """The inspection workflows of the order's receipts still waiting for quality (one
        received a moment ago may not be in quality's tables yet)."""
        async with session_scope(self._engine) as session:
            lots = await lots_waiting_for_quality(session, order_no=order_no)
            return sorted(inspection_workflow_id(lot) for lot in lots)
