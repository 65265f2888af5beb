"""Cancelling an order at any stage (PROCESS "At any time"): in one transaction, and once,
cancel what the order still has open in every department's tables, give its shelf stock to
other orders, close its assembly issues and the escalations it no longer needs, and count what
the order has cost so far.

The order workflow's `cancel` update calls `unwind_order` after it has withdrawn the order's
tasks and stopped its timers; it fills in the tasks itself.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import delete, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.procurement.models import PoLine, PurchaseOrder, Requirement, Requisition, WorkOrder
from services.production.models import ProductionIssue, ProductionOrder
from services.sales.cancellation_cost import charges_of, cost_of
from services.sales.models import Cancellation, Order
from services.warehouse.models import Receipt, Reservation, StockItem
from services.warehouse.stock import allocate, record
from shared.activities import DbActivities
from shared.db import session_scope
from shared.escalations.models import ACKED, Escalation
from shared.escalations.models import OPEN as ESCALATION_OPEN
from shared.production_types import CancellationResult, UnwindOrder, Unwound
from shared.rejections import Rejection
from shared.tasks.models import INBOXES, WITHDRAWN
from shared.tasks.models import OPEN as TASK_OPEN
from shared.timeline import add_event
from shared.workflow_ids import inspection_workflow_id

# Requisitions that could still become a purchase order.
OPEN_REQUISITION = ("open", "approved")
# A work order in any other state is still open and is cancelled with the order.
FINISHED_WORK_ORDER = ("closed", "done", "cancelled")
# Orders that have nothing left to cancel.
NOT_CANCELLABLE = ("closed", "declined")
# Receipts whose goods still wait for quality.
WAITING_RECEIPT = ("counting", "pending_inspection")
# Who acknowledges the escalations a cancellation resolves.
CANCELLED_BY = "orderflow: order cancelled"


class CancellationActivities(DbActivities):
    """Unwinds a cancelled order; the worker registers the bound method on the sales queue."""

    @activity.defn
    async def unwind_order(self, request: UnwindOrder) -> CancellationResult:
        """Cancel the order's open requisitions, purchase orders and work orders, release its
        shelf reservations to other short orders, drop its requirements and price what it has
        cost; a retry after the commit answers the result kept then."""
        async with session_scope(self._engine) as session:
            order = await _lock_order(session, request.order_no)
            kept = await session.get(Cancellation, request.order_no)
            if kept is not None:
                return CancellationResult.model_validate(kept.result)
            if order.status in NOT_CANCELLABLE:
                raise ApplicationError(
                    f"order {order.order_no} is {order.status}; there is nothing to cancel",
                    type=Rejection.NOT_CANCELLABLE,
                    non_retryable=True,
                )
            result = await _unwind(session, order, request, self._settings.labour_cost_per_day)
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
            await _timeline(session, request, result)
        # The kept form, so the first answer and a retried one are the same to the digit.
        return CancellationResult.model_validate(stored)

    @activity.defn
    async def inspections_of(self, order_no: str) -> list[str]:
        """The inspection workflows of the order's receipts still waiting for quality (one
        received a moment ago may not be in quality's tables yet)."""
        async with session_scope(self._engine) as session:
            lots = (
                await session.execute(
                    select(col(Receipt.lot_no)).where(
                        col(Receipt.order_no) == order_no,
                        col(Receipt.state).in_(WAITING_RECEIPT),
                        col(Receipt.lot_no).is_not(None),
                    )
                )
            ).scalars()
            return sorted(inspection_workflow_id(lot) for lot in lots.all() if lot)


async def _lock_order(session: AsyncSession, order_no: str) -> Order:
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


async def _unwind(
    session: AsyncSession, order: Order, request: UnwindOrder, labour_per_day: Decimal
) -> CancellationResult:
    """Everything the cancellation changes and the cost it reports, in the caller's session."""
    ref = f"cancel {order.order_no}"
    requisitions = await _cancel_requisitions(session, order.order_no)
    cancelled_pos = await _cancel_purchase_orders(session, order.order_no)
    work_orders = await _cancel_work_orders(session, order.order_no)
    released, picked = await _release_reservations(session, request, ref)
    # Nothing reserves or buys for the order again: the daily MRP run reads requirements.
    await session.execute(delete(Requirement).where(col(Requirement.order_no) == order.order_no))
    allocated = await allocate(session, released, by=request.by, at=request.at, ref=ref)
    await _close_issues(session, request)
    await _withdraw_late_tasks(session, order, request)
    escalations = await _resolve_escalations(session, request)
    charges = await charges_of(
        session,
        order.order_no,
        cancelled_pos=set(cancelled_pos),
        picked=picked,
        on=request.at.date(),
        labour_per_day=labour_per_day,
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


async def _cancel_requisitions(session: AsyncSession, order_no: str) -> list[str]:
    """Requisitions not yet on a purchase order → cancelled; their keys."""
    rows = await session.execute(
        update(Requisition)
        .where(
            col(Requisition.order_no) == order_no,
            col(Requisition.state).in_(OPEN_REQUISITION),
        )
        .values(state="cancelled")
        .returning(col(Requisition.key))
    )
    return sorted(rows.scalars())


async def _cancel_purchase_orders(session: AsyncSession, order_no: str) -> list[str]:
    """The order's open purchase orders → cancelled (what was received stays received). One
    the supplier has delivered in full has nothing left to cancel: it is closed, not listed."""
    owing = select(col(PoLine.po_no)).where(col(PoLine.qty) > col(PoLine.qty_received))
    open_po = (col(PurchaseOrder.order_no) == order_no, col(PurchaseOrder.state) == "open")
    await session.execute(
        update(PurchaseOrder)
        .where(*open_po, col(PurchaseOrder.po_no).not_in(owing))
        .values(state="closed")
    )
    rows = await session.execute(
        update(PurchaseOrder)
        .where(*open_po)
        .values(state="cancelled")
        .returning(col(PurchaseOrder.po_no))
    )
    return sorted(rows.scalars())


async def _cancel_work_orders(session: AsyncSession, order_no: str) -> list[str]:
    """Semi-finished work orders and the production work order not finished → cancelled."""
    semi = await session.execute(
        update(WorkOrder)
        .where(
            col(WorkOrder.order_no) == order_no,
            col(WorkOrder.state).not_in(FINISHED_WORK_ORDER),
        )
        .values(state="cancelled")
        .returning(col(WorkOrder.key))
    )
    production = await session.execute(
        update(ProductionOrder)
        .where(
            col(ProductionOrder.order_no) == order_no,
            col(ProductionOrder.state).not_in(FINISHED_WORK_ORDER),
        )
        .values(state="cancelled")
        .returning(col(ProductionOrder.wo_no))
    )
    return sorted(semi.scalars()) + sorted(production.scalars())


async def _release_reservations(
    session: AsyncSession, request: UnwindOrder, ref: str
) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """Give back what the order holds on the shelf (ledger `unreserved`); what it picked is in
    the workshop and stays with it. Returns (released, picked) per item."""
    held_items = select(col(Reservation.item)).where(col(Reservation.order_no) == request.order_no)
    # Stock rows first, in item order, as allocation on a receipt takes them: no deadlock.
    await session.execute(
        select(col(StockItem.item))
        .where(col(StockItem.item).in_(held_items))
        .order_by(col(StockItem.item))
        .with_for_update()
    )
    rows = (
        await session.execute(
            select(Reservation)
            .where(col(Reservation.order_no) == request.order_no)
            .order_by(col(Reservation.item))
            .with_for_update()
        )
    ).scalars()
    released: dict[str, Decimal] = {}
    picked: dict[str, Decimal] = {}
    for row in rows.all():
        on_picked, on_shelf = Decimal(row.picked), Decimal(row.qty) - Decimal(row.picked)
        if on_picked > 0:
            picked[row.item] = on_picked
        if on_shelf <= 0:
            continue
        released[row.item] = on_shelf
        if on_picked > 0:
            row.qty = on_picked
        else:
            await session.delete(row)
        await record(
            session,
            kind="unreserved",
            item=row.item,
            qty=on_shelf,
            by=request.by,
            at=request.at,
            order_no=request.order_no,
            ref=ref,
            detail={"reason": "order cancelled"},
        )
    await session.flush()  # allocation below reads reservations with plain queries
    return released, picked


async def _close_issues(session: AsyncSession, request: UnwindOrder) -> None:
    """Assembly issues still open end with the order: nothing will resolve them now."""
    await session.execute(
        update(ProductionIssue)
        .where(
            col(ProductionIssue.order_no) == request.order_no,
            col(ProductionIssue.state) == "open",
        )
        .values(
            state="closed",
            resolution=f"order cancelled: {request.reason}",
            closed_at=request.at,
        )
    )


async def _withdraw_late_tasks(session: AsyncSession, order: Order, request: UnwindOrder) -> None:
    """Before it unwinds the order, its workflow has withdrawn every task of its own and its
    design changes (`dcn-<issue>`) have ended, withdrawing theirs. A row of theirs still open
    in an inbox is one whose opening landed after that (its activity was under way when the
    cancellation came): it is withdrawn too, as the workflows see it."""
    for table in INBOXES.values():
        await session.execute(
            update(table)
            .where(
                table.c.state == TASK_OPEN,
                (table.c.workflow_id == order.workflow_id)
                | (
                    (table.c.order_no == order.order_no)
                    & table.c.workflow_id.startswith("dcn-", autoescape=True)
                ),
            )
            .values(state=WITHDRAWN, completed_at=request.at)
        )


async def _resolve_escalations(session: AsyncSession, request: UnwindOrder) -> list[int]:
    """The order's open escalations → acknowledged by the cancellation, which resolves them:
    the clocks they were about no longer run. One about a task that carries on without the
    order (the inspection of its goods, now for stock) stays open: that work is still owed.
    Returns the ids acknowledged."""
    rows = (
        await session.execute(
            select(col(Escalation.id), col(Escalation.task_id)).where(
                col(Escalation.order_no) == request.order_no,
                col(Escalation.state) == ESCALATION_OPEN,
            )
        )
    ).all()
    task_ids = {task_id for _, task_id in rows if task_id}
    carried_on: set[str] = set()
    if task_ids:
        still_open = union_all(
            *(
                select(table.c.task_id).where(
                    table.c.task_id.in_(task_ids),
                    table.c.state == TASK_OPEN,
                    table.c.order_no != request.order_no,
                )
                for table in INBOXES.values()
            )
        )
        carried_on = set((await session.execute(still_open)).scalars())
    resolved = [esc_id for esc_id, task_id in rows if task_id not in carried_on]
    if not resolved:
        return []
    acked = await session.execute(
        update(Escalation)
        .where(col(Escalation.id).in_(resolved), col(Escalation.state) == ESCALATION_OPEN)
        .values(state=ACKED, acked_by=CANCELLED_BY, acked_at=request.at)
        .returning(col(Escalation.id))
    )
    return sorted(esc_id for esc_id in acked.scalars() if esc_id is not None)


async def _timeline(
    session: AsyncSession, request: UnwindOrder, result: CancellationResult
) -> None:
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
