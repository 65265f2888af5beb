"""Traceability backwards (scope 二): from an order to the supplier lot of every quantity
picked for it, through the receipt and the inspection behind each lot."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.procurement.service import requirements_of
from services.sales.service import order_exists
from services.warehouse.lots import ZERO, LotFacts, LotPick, lot_facts, picked_lots, supplier_lot
from services.warehouse.models import Reservation
from services.warehouse.trace_schemas import OrderItemTrace, OrderTrace, PickedLot


async def order_trace(session: AsyncSession, order_no: str) -> OrderTrace | None:
    """Backwards from an order: per item what it needs, holds and picked, and the supplier lot
    of every picked quantity; None when there is no such order."""
    if not await order_exists(session, order_no):
        return None
    required = {
        row.item: Decimal(row.qty) for row in await requirements_of(session, order_no=order_no)
    }
    held = {
        row.item: row
        for row in (
            await session.execute(select(Reservation).where(col(Reservation.order_no) == order_no))
        ).scalars()
    }
    picks = await picked_lots(session, order_no)
    facts = await lot_facts(session, {pick.lot_no for pick in picks if pick.lot_no})
    items = []
    for item in sorted(set(required) | set(held) | {pick.item for pick in picks}):
        lots = [_picked_lot(pick, facts) for pick in reversed(picks) if pick.item == item]
        reservation = held.get(item)
        picked = Decimal(reservation.picked) if reservation else sum((p.qty for p in lots), ZERO)
        traced = sum((p.qty for p in lots if p.traceable), ZERO)
        items.append(
            OrderItemTrace(
                item=item,
                required=required.get(item, ZERO),
                reserved=Decimal(reservation.qty) if reservation else ZERO,
                picked=picked,
                untraced=max(picked - traced, ZERO),
                lots=lots,
            )
        )
    return OrderTrace(
        order_no=order_no,
        complete_traceability=all(entry.untraced == 0 for entry in items),
        items=items,
    )


def _picked_lot(pick: LotPick, facts: LotFacts) -> PickedLot:
    """One lot an order picked from, with the receipt and inspection behind it."""
    lot = pick.lot_no
    stock = facts.stock.get((lot, pick.item)) if lot else None
    receipt = facts.receipts.get(lot) if lot else None
    inspection = facts.inspections.get(facts.inspection_key(lot)) if lot else None
    lines = facts.receipt_lines(lot, pick.item) if lot else []
    return PickedLot(
        lot_no=lot,
        qty=pick.qty,
        source=stock.source if stock else ("receipt" if receipt else None),
        supplier=receipt.supplier if receipt else (stock.supplier if stock else None),
        supplier_lot=supplier_lot(stock, lines),
        po_no=receipt.po_no if receipt else (stock.po_no if stock else None),
        receipt_no=receipt.receipt_no if receipt else None,
        delivery_note_no=receipt.delivery_note_no if receipt else None,
        received_at=receipt.received_at if receipt else None,
        inspected_by=inspection.inspected_by if inspection else None,
        inspected_at=inspection.inspected_at if inspection else None,
        traceable=receipt is not None or (stock is not None and stock.source == "return"),
    )
