"""Cancelling an order at any stage (PROCESS "At any time"): in one transaction, and once,
cancel what the order still has open in every department's tables, give its shelf stock to
other orders, close its assembly issues and the escalations it no longer needs, and count what
the order has cost so far.

The order workflow's `cancel` update calls `unwind_order` after it has withdrawn the order's
tasks and stopped its timers; it fills in the tasks itself.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import delete, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.planning.models import Milestone
from services.planning.scheduling import working_days_between
from services.procurement.models import PoLine, PurchaseOrder, Requirement, Requisition, WorkOrder
from services.production.models import ProductionIssue, ProductionOrder
from services.sales.models import Cancellation, Order
from services.warehouse.models import Receipt, Reservation, StockItem, StockLot
from services.warehouse.stock import allocate, record
from services.warehouse.trace import picked_lots
from shared.activities import DbActivities
from shared.db import session_scope
from shared.escalations.models import ACKED, Escalation
from shared.escalations.models import OPEN as ESCALATION_OPEN
from shared.tasks.models import INBOXES, WITHDRAWN
from shared.tasks.models import OPEN as TASK_OPEN
from shared.timeline import add_event
from shared.types import CancellationCost, CancellationResult, UnwindOrder, Unwound

ZERO = Decimal(0)
CENT = Decimal("0.01")
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
                    type="OrderNotCancellable",
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
            return sorted(f"inspection-{lot}" for lot in lots.all() if lot)


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
    charges = await _charges(
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
        cost=_cost(order.currency, charges),
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


# One contribution to a cancellation's cost, as the result's `detail` lists it.
@dataclass
class _Charge:
    kind: str  # received, open_commitment, picked, labour
    counted_in: str  # received_material, open_commitments, work_done
    item: str | None
    qty: Decimal
    unit_price: Decimal | None
    po_no: str | None = None
    note: str | None = None
    counts: bool = True  # False: listed, but its value is already in another line

    @property
    def amount(self) -> Decimal:
        if self.unit_price is None or not self.counts:
            return ZERO.quantize(CENT)
        return (self.qty * self.unit_price).quantize(CENT, rounding=ROUND_HALF_UP)

    def detail(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "kind": self.kind,
            "counted_in": self.counted_in,
            "item": self.item,
            "qty": _text(self.qty),
            "unit_price": None if self.unit_price is None else _text(self.unit_price),
            "amount": str(self.amount),
            "po_no": self.po_no,
            "unpriced": self.unit_price is None,
        }
        if self.note:
            entry["note"] = self.note
        return entry


def _text(value: Decimal) -> str:
    """A quantity or price as plain text without trailing zeros (`4`, `12.5`)."""
    return f"{value.normalize():f}"


def _cost(currency: str, charges: list[_Charge]) -> CancellationCost:
    """The three sums of the charges (in the order's currency), with every charge listed."""
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for charge in charges:
        totals[charge.counted_in] += charge.amount
    received, work, committed = (
        totals["received_material"],
        totals["work_done"],
        totals["open_commitments"],
    )
    return CancellationCost(
        currency=currency,
        received_material=received.quantize(CENT),
        work_done=work.quantize(CENT),
        open_commitments=committed.quantize(CENT),
        total=(received + work + committed).quantize(CENT),
        detail=[charge.detail() for charge in charges],
    )


async def _charges(
    session: AsyncSession,
    order_no: str,
    *,
    cancelled_pos: set[str],
    picked: dict[str, Decimal],
    on: date,
    labour_per_day: Decimal,
) -> list[_Charge]:
    """Received material and open commitments of the order's POs, picked material and labour."""
    lines = (
        await session.execute(
            select(PoLine)
            .join(PurchaseOrder, col(PurchaseOrder.po_no) == col(PoLine.po_no))
            .where(col(PurchaseOrder.order_no) == order_no)
            .order_by(col(PoLine.po_no), col(PoLine.line_no))
        )
    ).scalars()
    charges: list[_Charge] = []
    own_pos: set[str] = set()
    for line in lines.all():
        own_pos.add(line.po_no)
        price = None if line.unit_price is None else Decimal(line.unit_price)
        received, ordered = Decimal(line.qty_received), Decimal(line.qty)
        if received > 0:
            charges.append(
                _Charge("received", "received_material", line.item, received, price, line.po_no)
            )
        if line.po_no in cancelled_pos and ordered > received:
            charges.append(
                _Charge(
                    "open_commitment",
                    "open_commitments",
                    line.item,
                    ordered - received,
                    price,
                    line.po_no,
                    note="ordered, not delivered: the supplier may still charge it",
                )
            )
    charges += await _picked_charges(session, order_no, picked, own_pos)
    labour = await _labour(session, order_no, on, labour_per_day)
    return charges + ([labour] if labour is not None else [])


async def _picked_charges(
    session: AsyncSession, order_no: str, picked: dict[str, Decimal], own_pos: set[str]
) -> list[_Charge]:
    """Material picked into production, priced at the PO its lot came in on. Material bought on
    the order's own POs is already counted as received, so it is listed without adding again."""
    picks = [pick for pick in await picked_lots(session, order_no) if pick.item in picked]
    lots = await _lot_pos(session, {(pick.lot_no, pick.item) for pick in picks if pick.lot_no})
    prices = await _po_prices(session, {(po, item) for (_, item), po in lots.items() if po})
    charges: list[_Charge] = []
    for item in sorted(picked):
        left = picked[item]
        for pick in sorted((p for p in picks if p.item == item), key=lambda p: p.lot_no or ""):
            qty = min(left, pick.qty)
            if qty <= 0:
                break
            left -= qty
            po_no = lots.get((pick.lot_no or "", item))
            charges.append(_picked(item, qty, pick.lot_no, po_no, prices, own_pos))
        if left > 0:
            charges.append(
                _Charge(
                    "picked",
                    "work_done",
                    item,
                    left,
                    None,
                    note="picked, but the ledger names no lot to price it by",
                )
            )
    return charges


def _picked(
    item: str,
    qty: Decimal,
    lot_no: str | None,
    po_no: str | None,
    prices: dict[tuple[str, str], Decimal],
    own_pos: set[str],
) -> _Charge:
    """One lot's share of a picked item."""
    if po_no is not None and po_no in own_pos:
        return _Charge(
            "picked",
            "received_material",
            item,
            qty,
            prices.get((po_no, item)),
            po_no,
            note=f"from lot {lot_no}, bought on this order's {po_no}: counted as received",
            counts=False,
        )
    source = f"from lot {lot_no}" + (f" (bought on {po_no})" if po_no else " (no purchase order)")
    return _Charge(
        "picked",
        "work_done",
        item,
        qty,
        prices.get((po_no, item)) if po_no else None,
        po_no,
        note=f"{source}; in the workshop, stays with the order",
    )


async def _lot_pos(
    session: AsyncSession, lots: set[tuple[str | None, str]]
) -> dict[tuple[str, str], str | None]:
    """The purchase order each (lot, item) came in on."""
    names = {lot for lot, _ in lots if lot}
    if not names:
        return {}
    rows = (
        await session.execute(select(StockLot).where(col(StockLot.lot_no).in_(names)))
    ).scalars()
    return {(row.lot_no, row.item): row.po_no for row in rows.all()}


async def _po_prices(
    session: AsyncSession, wanted: set[tuple[str, str]]
) -> dict[tuple[str, str], Decimal]:
    """The unit price of an item on a PO (quantity-weighted over its priced lines)."""
    if not wanted:
        return {}
    rows = (
        await session.execute(
            select(PoLine).where(
                col(PoLine.po_no).in_({po for po, _ in wanted}),
                col(PoLine.unit_price).is_not(None),
            )
        )
    ).scalars()
    value: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    qty: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for line in rows.all():
        key = (line.po_no, line.item)
        value[key] += Decimal(line.qty) * Decimal(line.unit_price or 0)
        qty[key] += Decimal(line.qty)
    return {
        key: (value[key] / qty[key]).quantize(Decimal("0.0001")) for key in wanted if qty.get(key)
    }


async def _labour(
    session: AsyncSession, order_no: str, on: date, per_day: Decimal
) -> _Charge | None:
    """Production working days from the production start actual to the cancellation (or to
    the production end actual, when production had ended), at the labour cost per day."""
    actual = {
        row.name: row.actual
        for row in (
            await session.execute(
                select(Milestone).where(
                    col(Milestone.order_no) == order_no,
                    col(Milestone.name).in_(("production_start", "production_end")),
                )
            )
        ).scalars()
    }
    start = actual.get("production_start")
    if start is None:
        return None
    end = min(on, actual.get("production_end") or on)
    days = Decimal(working_days_between(start, end))
    return _Charge(
        "labour",
        "work_done",
        None,
        days,
        per_day if per_day > 0 else None,
        note=f"production working days from {start.isoformat()} to {end.isoformat()}"
        + ("" if per_day > 0 else "; ORDERFLOW_LABOUR_COST_PER_DAY is not set"),
    )


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
