"""Cancelling an order at any stage (PROCESS "At any time"): in one transaction, and once,
cancel what the order still has open in every department's tables, give its shelf stock to
other orders, close its assembly issues and the escalations it no longer needs, and count what
the order has cost so far.

Sales writes only its own rows here; every other department's rows change through that
department's service functions (procurement, production, warehouse), the inbox rows through
`shared.tasks.service` and the escalations through `shared.escalations.service`, all in the
one session the activity opened: the cancellation commits whole or not at all, so a retry
finds either nothing done or the kept result.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from temporalio.exceptions import ApplicationError

from services.procurement.service import (
    cancel_purchase_orders,
    cancel_requisitions,
    cancel_work_orders,
    drop_requirements,
)
from services.production.service import cancel_production_order, close_open_issues
from services.sales.cancellation.cost import charges_of, cost_of
from services.sales.models import Order
from services.warehouse.stock import allocate, release_order
from shared.escalations.service import acknowledge, open_of_order
from shared.production_types import CancellationResult, UnwindOrder, Unwound
from shared.tasks.service import open_elsewhere, withdraw_late_tasks
from shared.timeline import add_event
from shared.working_time.calendar import FactoryCalendar

# Orders that have nothing left to cancel.
NOT_CANCELLABLE = ("closed", "declined")
# Who acknowledges the escalations a cancellation resolves.
CANCELLED_BY = "orderflow: order cancelled"


async def lock_order(session: AsyncSession, order_no: str) -> Order:
    """The order row, locked: a second unwind of the same order waits for the first."""
    order = (
        await session.execute(
            select(Order).where(col(Order.order_no) == order_no).with_for_update()
        )
    ).scalar_one_or_none()
    if order is None:
        raise ApplicationError(
            f"order {order_no} does not exist", type="OrderNotFound", non_retryable=True
        )
    return order


async def unwind(
    session: AsyncSession,
    order: Order,
    request: UnwindOrder,
    labour_per_day: Decimal,
    calendar: FactoryCalendar,
) -> CancellationResult:
    """Everything the cancellation changes and the cost it reports, in the caller's session."""
    ref = f"cancel {order.order_no}"
    requisitions = await cancel_requisitions(session, order_no=order.order_no)
    cancelled_pos = await cancel_purchase_orders(session, order_no=order.order_no)
    work_orders = await cancel_work_orders(session, order_no=order.order_no)
    work_orders += await cancel_production_order(session, order_no=order.order_no)
    released, picked = await release_order(
        session,
        order_no=request.order_no,
        by=request.by,
        at=request.at,
        ref=ref,
        reason="order cancelled",
    )
    # Nothing reserves or buys for the order again: the daily MRP run reads requirements.
    await drop_requirements(session, order_no=order.order_no)
    allocated = await allocate(session, released, by=request.by, at=request.at, ref=ref)
    # Assembly issues still open end with the order: nothing will resolve them now.
    await close_open_issues(
        session,
        order_no=request.order_no,
        resolution=f"order cancelled: {request.reason}",
        at=request.at,
    )
    # Before it unwinds the order, its workflow has withdrawn every task of its own and its
    # design changes (`dcn-<issue>`) have ended, withdrawing theirs. A row of theirs still open
    # in an inbox is one whose opening landed after that (its activity was under way when the
    # cancellation came): it is withdrawn too, as the workflows see it.
    await withdraw_late_tasks(
        session, workflow_id=order.workflow_id, order_no=order.order_no, at=request.at
    )
    escalations = await _resolve_escalations(session, request)
    charges = await charges_of(
        session,
        order.order_no,
        cancelled_pos=set(cancelled_pos),
        picked=picked,
        on=calendar.local_date(request.at),
        labour_per_day=labour_per_day,
        calendar=calendar,
    )
    return CancellationResult(
        order_no=order.order_no,
        stage_at_cancel=order.stage,
        reason=request.reason,
        cost=cost_of(order.currency, charges),
        unwound=Unwound(
            requisitions=requisitions,
            purchase_orders=cancelled_pos,
            work_orders=work_orders,
            reservations=released,
        ),
        allocated=allocated,
        escalations_closed=escalations,
    )


async def _resolve_escalations(session: AsyncSession, request: UnwindOrder) -> list[int]:
    """The order's open escalations → acknowledged by the cancellation, which resolves them:
    the clocks they were about no longer run. One about a task that carries on without the
    order (the inspection of its goods, now for stock) stays open: that work is still owed.
    Returns the ids acknowledged."""
    rows = await open_of_order(session, order_no=request.order_no)
    carried_on = await open_elsewhere(
        session,
        task_ids={task_id for _, task_id in rows if task_id},
        order_no=request.order_no,
    )
    resolved = [esc_id for esc_id, task_id in rows if task_id not in carried_on]
    if not resolved:
        return []
    return await acknowledge(session, ids=resolved, by=CANCELLED_BY, at=request.at)


async def timeline(session: AsyncSession, request: UnwindOrder, result: CancellationResult) -> None:
    """The order's `cancelled` event, with the cost."""
    cost = result.cost
    await add_event(
        session,
        key=f"{request.order_no}:cancelled",
        order_no=request.order_no,
        at=request.at,
        kind="cancelled",
        actor=request.by,
        summary=f"order cancelled at stage {result.stage_at_cancel}: {request.reason}; cost so "
        f"far {cost.total} {cost.currency} (received material {cost.received_material}, "
        f"work done {cost.work_done}, open commitments {cost.open_commitments})",
        detail={
            "cost": {
                "currency": cost.currency,
                "received_material": str(cost.received_material),
                "work_done": str(cost.work_done),
                "open_commitments": str(cost.open_commitments),
                "total": str(cost.total),
            },
            "unwound": result.unwound.model_dump(mode="json"),
            "allocated": {
                order: {item: str(qty) for item, qty in items.items()}
                for order, items in result.allocated.items()
            },
            "unpriced": sum(1 for entry in cost.detail if entry["unpriced"]),
            "escalations_closed": result.escalations_closed,
        },
    )
