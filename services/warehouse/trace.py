"""Traceability reads (scope 二): a lot forwards from its supplier to the orders that picked it
(`order_trace.py` reads an order back to the supplier lot of every quantity picked for it).

Everything is read from what receiving, inspection, quality and picking already keep: the
receipt and its lines, the inspection and its clock, NCRs and release passes, the stock lots,
and the movement ledger.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.quality.schemas import LotInspection, LotReleasePass
from services.quality.service import ncrs_of_lots
from services.warehouse.lots import ZERO, LotFacts, lot_facts, supplier_lot
from services.warehouse.models import Movement, Receipt, ReceiptLine, Reservation, StockLot
from services.warehouse.trace_schemas import (
    ItemInspection,
    LotItem,
    LotStock,
    LotTrace,
    LotUse,
    TraceInspection,
    TraceMovement,
    TraceNcr,
    TracePublic,
    TraceReceipt,
    TraceReleasePass,
)

# Who reads genealogy (API.md): quality and ops; admin always may.
TRACE_READERS = ("quality", "ops")


# What one lot gave one order of an item: picked less what came back to it.
async def trace_lots(
    session: AsyncSession, *, lot_no: str | None = None, item: str | None = None
) -> TracePublic | None:
    """The genealogy of one lot (optionally one item of it) or of every lot of an item, newest
    first; None when nothing is recorded of it."""
    lots = {lot_no} if lot_no else await _lots_of_item(session, item or "")
    if not lots:
        return None
    facts = await lot_facts(session, lots)
    own_receipts = {r.receipt_no: lot for lot, r in facts.receipts.items() if r.lot_no == lot}
    moves = await _movements(session, lots, own_receipts, item)
    ncrs = await _ncrs(session, {facts.inspection_key(lot) for lot in lots}, item)
    reservations = await _reservations(
        session, {(m.order_no, m.item) for ms in moves.values() for m in ms if m.order_no}
    )
    traces = []
    for lot in lots:
        trace = _lot_trace(lot, facts, moves.get(lot, []), ncrs, reservations, item)
        if trace is not None:
            traces.append(trace)
    if not traces:
        return None
    traces.sort(key=lambda t: (_origin(t), t.lot_no), reverse=True)
    return TracePublic(lot_no=lot_no, item=item, lots=traces)


async def _lots_of_item(session: AsyncSession, item: str) -> set[str]:
    """Every lot the item was ever received into, stocked in or moved through."""
    queries = (
        select(col(StockLot.lot_no)).where(col(StockLot.item) == item),
        select(col(Receipt.lot_no))
        .join(ReceiptLine, col(ReceiptLine.receipt_no) == col(Receipt.receipt_no))
        .where(col(ReceiptLine.item) == item, col(Receipt.lot_no).is_not(None)),
        select(col(Movement.lot_no))
        .where(col(Movement.item) == item, col(Movement.lot_no).is_not(None))
        .distinct(),
    )
    lots: set[str] = set()
    for query in queries:
        lots |= {lot for lot in (await session.execute(query)).scalars() if lot}
    return lots


async def _movements(
    session: AsyncSession, lots: set[str], own_receipts: dict[str, str], item: str | None
) -> dict[str, list[Movement]]:
    """The ledger of each lot, oldest first, with the refusals at the door of its receipt."""
    query = (
        select(Movement)
        .where(
            or_(
                col(Movement.lot_no).in_(lots),
                and_(
                    col(Movement.lot_no).is_(None),
                    col(Movement.kind) == "refused",
                    col(Movement.receipt_no).in_(own_receipts),
                ),
            )
        )
        .order_by(col(Movement.at), col(Movement.id))
    )
    if item is not None:
        query = query.where(col(Movement.item) == item)
    by_lot: dict[str, list[Movement]] = defaultdict(list)
    for move in (await session.execute(query)).scalars():
        lot = move.lot_no or own_receipts[move.receipt_no or ""]
        by_lot[lot].append(move)
    return by_lot


async def _ncrs(
    session: AsyncSession, inspection_lots: set[str], item: str | None
) -> dict[tuple[str, str], list[TraceNcr]]:
    """NCRs per (inspection lot, item), each with its release pass, oldest first."""
    found: dict[tuple[str, str], list[TraceNcr]] = defaultdict(list)
    for ncr in await ncrs_of_lots(session, lot_nos=inspection_lots, item=item):
        found[(ncr.lot_no, ncr.item)].append(
            TraceNcr(
                ncr_no=ncr.ncr_no,
                qty=ncr.qty,
                defect=ncr.defect,
                state=ncr.state,
                disposition=ncr.disposition,
                judged_by=ncr.judged_by,
                judged_at=ncr.judged_at,
                release_pass=None if ncr.release_pass is None else _release_pass(ncr.release_pass),
            )
        )
    return found


def _release_pass(release: LotReleasePass) -> TraceReleasePass:
    return TraceReleasePass(
        pass_no=release.pass_no,
        reason=release.reason,
        qty=release.qty,
        issued_by=release.issued_by,
        issued_at=release.issued_at,
    )


async def _reservations(
    session: AsyncSession, pairs: set[tuple[str, str]]
) -> dict[tuple[str, str], Reservation]:
    """The reservations of the given (order, item) pairs."""
    if not pairs:
        return {}
    orders = {order for order, _ in pairs}
    rows = (
        await session.execute(select(Reservation).where(col(Reservation.order_no).in_(orders)))
    ).scalars()
    return {(r.order_no, r.item): r for r in rows if (r.order_no, r.item) in pairs}


def _lot_trace(
    lot: str,
    facts: LotFacts,
    moves: list[Movement],
    ncrs: dict[tuple[str, str], list[TraceNcr]],
    reservations: dict[tuple[str, str], Reservation],
    item: str | None,
) -> LotTrace | None:
    """One lot's genealogy, or None when nothing of it (or of `item` in it) is recorded."""
    receipt = facts.receipts.get(lot)
    key = facts.inspection_key(lot)
    inspection = facts.inspections.get(key)
    stock = {it: row for (lot_no, it), row in facts.stock.items() if lot_no == lot}
    items = set(stock) | {move.item for move in moves}
    if key == lot:  # the inspection lot itself: every line received and every NCR on it
        items |= {it for (lot_no, it) in ncrs if lot_no == lot}
        if receipt is not None:
            items |= {it for (no, it) in facts.lines if no == receipt.receipt_no}
    if item is not None:
        items &= {item}
    if not items and (item is not None or (receipt is None and inspection is None)):
        return None
    first_stock = stock[min(stock)] if stock else None
    return LotTrace(
        lot_no=lot,
        source="receipt" if receipt else (first_stock.source if first_stock else None),
        supplier=receipt.supplier if receipt else (first_stock.supplier if first_stock else None),
        po_no=receipt.po_no if receipt else (first_stock.po_no if first_stock else None),
        receipt=_receipt(receipt) if receipt else None,
        inspection=_inspection(inspection) if inspection else None,
        items=[
            LotItem(
                item=it,
                supplier_lot=supplier_lot(stock.get(it), facts.receipt_lines(lot, it)),
                received=sum((line.qty_accepted for line in facts.receipt_lines(lot, it)), ZERO),
                refused=sum((line.qty_refused for line in facts.receipt_lines(lot, it)), ZERO),
                inspection=_item_inspection(inspection, facts.receipt_lines(lot, it)),
                ncrs=ncrs.get((key, it), []),
                stock=_stock(stock.get(it)),
                orders=_uses([m for m in moves if m.item == it], reservations),
            )
            for it in sorted(items)
        ],
        movements=[_movement(move) for move in moves],
    )


def _origin(trace: LotTrace) -> datetime:
    """When a lot began: its receipt, else its first movement, else its inspection request."""
    if trace.receipt is not None:
        return trace.receipt.received_at
    if trace.movements:
        return trace.movements[0].at
    if trace.inspection is not None:
        return trace.inspection.requested_at
    return datetime.min.replace(tzinfo=UTC)


def _receipt(receipt: Receipt) -> TraceReceipt:
    return TraceReceipt(
        receipt_no=receipt.receipt_no,
        po_no=receipt.po_no,
        supplier=receipt.supplier,
        delivery_note_no=receipt.delivery_note_no,
        received_at=receipt.received_at,
        received_by=receipt.received_by,
        state=receipt.state,
    )


def _inspection(inspection: LotInspection) -> TraceInspection:
    return TraceInspection(
        state=inspection.state,
        requested_at=inspection.requested_at,
        due_at=inspection.due_at,
        inspected_at=inspection.inspected_at,
        inspected_by=inspection.inspected_by,
        within_sla=inspection.within_sla,
    )


def _item_inspection(
    inspection: LotInspection | None, lines: list[ReceiptLine]
) -> ItemInspection | None:
    """Quality's verdict on one item of a lot; None when the item never went to inspection."""
    if inspection is None and not lines:
        return None

    def total(values: list[Decimal | None]) -> Decimal | None:
        known = [value for value in values if value is not None]
        return sum(known, ZERO) if known else None

    return ItemInspection(
        inspected_by=inspection.inspected_by if inspection else None,
        inspected_at=inspection.inspected_at if inspection else None,
        within_sla=inspection.within_sla if inspection else None,
        qualified=total([line.qty_qualified for line in lines]),
        rejected=total([line.qty_rejected for line in lines]),
    )


def _stock(row: StockLot | None) -> LotStock | None:
    if row is None:
        return None
    return LotStock(source=row.source, qty_in=row.qty_in, qty_left=row.qty_left)


def _uses(moves: list[Movement], reservations: dict[tuple[str, str], Reservation]) -> list[LotUse]:
    """Per order: what it picked from the lot, returned to it, and still holds on the shelf."""
    picked: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    returned: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for move in moves:
        if move.order_no and move.kind == "picked":
            picked[(move.order_no, move.item)] += Decimal(move.qty)
        elif move.order_no and move.kind == "returned":
            returned[(move.order_no, move.item)] += Decimal(move.qty)
    uses = []
    for order_no, item in sorted(set(picked) | set(returned)):
        held = reservations.get((order_no, item))
        uses.append(
            LotUse(
                order_no=order_no,
                picked=picked[(order_no, item)],
                returned=returned[(order_no, item)],
                reserved=Decimal(held.qty) - Decimal(held.picked) if held else ZERO,
            )
        )
    return uses


def _movement(move: Movement) -> TraceMovement:
    return TraceMovement(
        at=move.at,
        kind=move.kind,
        item=move.item,
        qty=move.qty,
        lot_no=move.lot_no,
        order_no=move.order_no,
        receipt_no=move.receipt_no,
        ref=move.ref,
        by=move.by,
        detail=move.detail,
    )
