"""What the trace reads share: which lots an order picked from, and the receipts, lines,
stock and inspections behind a set of lots."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.quality.schemas import LotInspection
from services.quality.service import inspections_of_lots
from services.warehouse.models import Movement, Receipt, ReceiptLine, StockLot

ZERO = Decimal(0)


@dataclass(frozen=True)
class LotPick:
    item: str
    lot_no: str | None
    qty: Decimal
    last_picked_at: datetime


async def picked_lots(
    session: AsyncSession, order_no: str, item: str | None = None
) -> list[LotPick]:
    """What each lot gave an order (picked less returned to it, and less what an assembly NCR
    took away), most recently picked first.

    An after-sales return is goods back from the customer, not a pick undone, so it does not
    reduce what the order took from its lots; nor do an incoming NCR's release or scrap, which
    concern goods never picked.
    """
    query = (
        select(Movement)
        .where(
            col(Movement.order_no) == order_no,
            col(Movement.kind).in_(("picked", "returned", "released", "scrapped")),
        )
        .order_by(col(Movement.at), col(Movement.id))
    )
    if item is not None:
        query = query.where(col(Movement.item) == item)
    net: dict[tuple[str, str | None], Decimal] = defaultdict(Decimal)
    last: dict[tuple[str, str | None], datetime] = {}
    for move in (await session.execute(query)).scalars():
        key = (move.item, move.lot_no)
        if move.kind == "picked":
            net[key] += Decimal(move.qty)
            last[key] = move.at
        elif move.kind == "returned":
            if move.detail.get("kind") != "aftersales":
                net[key] -= Decimal(move.qty)
        elif move.detail.get("found_in") == "assembly":
            net[key] -= Decimal(move.qty)
    picks = [
        LotPick(item=key[0], lot_no=key[1], qty=qty, last_picked_at=last[key])
        for key, qty in net.items()
        if key in last and qty > 0
    ]
    return sorted(picks, key=lambda pick: pick.last_picked_at, reverse=True)


# Receipts, receipt lines, inspections and stock rows behind a set of lots.
@dataclass
class LotFacts:
    stock: dict[tuple[str, str], StockLot] = field(default_factory=dict)
    receipts: dict[str, Receipt] = field(default_factory=dict)
    lines: dict[tuple[str, str], list[ReceiptLine]] = field(default_factory=dict)
    inspections: dict[str, LotInspection] = field(default_factory=dict)

    def inspection_key(self, lot_no: str) -> str:
        """The inspection lot behind a stock lot: its receipt's, or the lot itself."""
        receipt = self.receipts.get(lot_no)
        return receipt.lot_no if receipt is not None and receipt.lot_no else lot_no

    def receipt_lines(self, lot_no: str, item: str) -> list[ReceiptLine]:
        receipt = self.receipts.get(lot_no)
        return self.lines.get((receipt.receipt_no, item), []) if receipt else []


async def lot_facts(session: AsyncSession, lots: Iterable[str]) -> LotFacts:
    """Load what stands behind `lots`: stock rows, the receipt of each, its lines, inspections."""
    lots = set(lots)
    facts = LotFacts()
    if not lots:
        return facts
    for row in (
        await session.execute(select(StockLot).where(col(StockLot.lot_no).in_(lots)))
    ).scalars():
        facts.stock[(row.lot_no, row.item)] = row
    receipt_nos = {row.receipt_no for row in facts.stock.values() if row.receipt_no}
    receipts = list(
        (
            await session.execute(
                select(Receipt).where(
                    or_(col(Receipt.lot_no).in_(lots), col(Receipt.receipt_no).in_(receipt_nos))
                )
            )
        ).scalars()
    )
    by_no = {receipt.receipt_no: receipt for receipt in receipts}
    facts.receipts = {r.lot_no: r for r in receipts if r.lot_no in lots}
    for row in facts.stock.values():
        if row.lot_no not in facts.receipts and row.receipt_no in by_no:
            facts.receipts[row.lot_no] = by_no[row.receipt_no]
    for line in (
        await session.execute(
            select(ReceiptLine)
            .where(col(ReceiptLine.receipt_no).in_(by_no))
            .order_by(col(ReceiptLine.line_no))
        )
    ).scalars():
        facts.lines.setdefault((line.receipt_no, line.item), []).append(line)
    keys = {facts.inspection_key(lot) for lot in lots}
    facts.inspections.update(await inspections_of_lots(session, lot_nos=keys))
    return facts


def supplier_lot(stock: StockLot | None, lines: list[ReceiptLine]) -> str | None:
    if stock is not None and stock.supplier_lot:
        return stock.supplier_lot
    return next((line.supplier_lot for line in lines if line.supplier_lot), None)


async def lot_sources(
    session: AsyncSession, *, lots: Iterable[str]
) -> dict[tuple[str, str], str | None]:
    """The purchase order each (lot, item) of the given lots came in on (None: not bought)."""
    names = set(lots)
    if not names:
        return {}
    rows = (
        await session.execute(select(StockLot).where(col(StockLot.lot_no).in_(names)))
    ).scalars()
    return {(row.lot_no, row.item): row.po_no for row in rows.all()}
