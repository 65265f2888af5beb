"""Builders and readers shared by the traceability and returns tests.

Lots, receipts, inspections and picks are built with the warehouse's own bookkeeping helpers
(receiving, inspection and picking write the same rows); every read and every return goes
over HTTP.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col

from services.procurement.models import Requirement
from services.quality.models import Inspection, Ncr, ReleasePass
from services.warehouse.models import (
    Movement,
    Receipt,
    ReceiptLine,
    Reservation,
    StockLot,
)
from services.warehouse.stock import add_lot, change_stock, record
from shared.db import session_scope
from tests.conftest import Stack

D = Decimal
BASE = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)


def hours(n: float) -> datetime:
    return BASE + timedelta(hours=n)


def sfx() -> str:
    return uuid.uuid4().hex[:8]


# A lot received against a PO and delivery note, inspected, and qualified into stock.
@dataclass
class ReceivedLot:
    lot_no: str
    receipt_no: str
    po_no: str
    delivery_note_no: str
    supplier: str
    supplier_lot: str


async def received_lot(
    session: AsyncSession,
    item: str,
    *,
    received: int,
    rejected: int = 0,
    at: datetime,
    supplier: str = "Chint",
) -> ReceivedLot:
    """Receipt, inspection and stock lot of `received` units, `rejected` of them on an NCR
    that left on a release pass; the rest qualified into stock."""
    s = sfx()
    lot = ReceivedLot(f"IL-{s}", f"GR-{s}", f"PO-{s}", f"DN-{s}", supplier, f"SL-{s}")
    qualified = received - rejected
    session.add(
        Receipt(
            receipt_no=lot.receipt_no,
            lot_no=lot.lot_no,
            po_no=lot.po_no,
            delivery_note_no=lot.delivery_note_no,
            supplier=supplier,
            state="inspected",
            received_by="wh-wang",
            received_at=at,
        )
    )
    session.add(
        ReceiptLine(
            receipt_no=lot.receipt_no,
            line_no=1,
            item=item,
            supplier_lot=lot.supplier_lot,
            qty_noted=D(received),
            qty_counted=D(received),
            qty_damaged=D(0),
            qty_accepted=D(received),
            qty_refused=D(0),
            qty_qualified=D(qualified),
            qty_rejected=D(rejected),
            defect="scratched housing" if rejected else None,
        )
    )
    session.add(
        Inspection(
            lot_no=lot.lot_no,
            receipt_no=lot.receipt_no,
            po_no=lot.po_no,
            supplier=supplier,
            workflow_id=f"inspection-{lot.lot_no}",
            state="done",
            requested_at=at,
            due_at=at + timedelta(hours=8),
            inspected_at=at + timedelta(hours=3),
            inspected_by="qa-li",
            within_sla=True,
        )
    )
    moved: dict[str, Any] = {"by": "wh-wang", "lot_no": lot.lot_no, "item": item}
    await record(
        session,
        kind="received",
        qty=D(received),
        at=at,
        receipt_no=lot.receipt_no,
        ref=lot.po_no,
        detail={"supplier": supplier, "supplier_lot": lot.supplier_lot},
        **moved,
    )
    await record(session, kind="qualified", qty=D(qualified), at=at + timedelta(hours=3), **moved)
    if rejected:
        ncr_no, pass_no = f"NCR-{s}", f"RP-{s}"
        session.add(
            Ncr(
                ncr_no=ncr_no,
                lot_no=lot.lot_no,
                receipt_no=lot.receipt_no,
                po_no=lot.po_no,
                supplier=supplier,
                item=item,
                qty=D(rejected),
                defect="scratched housing",
                state="closed",
                disposition="return",
                judged_by="qa-li",
                judged_at=at + timedelta(hours=4),
                created_at=at + timedelta(hours=3),
            )
        )
        session.add(
            ReleasePass(
                pass_no=pass_no,
                ncr_no=ncr_no,
                supplier=supplier,
                item=item,
                qty=D(rejected),
                reason="return",
                issued_by="qa-li",
                issued_at=at + timedelta(hours=5),
            )
        )
        await record(session, kind="rejected", qty=D(rejected), at=at + timedelta(hours=3), **moved)
    await add_lot(
        session,
        lot_no=lot.lot_no,
        item=item,
        qty=D(qualified),
        source="receipt",
        at=at + timedelta(hours=3),
        receipt_no=lot.receipt_no,
        po_no=lot.po_no,
        supplier=supplier,
        supplier_lot=lot.supplier_lot,
    )
    return lot


async def pick(
    session: AsyncSession, order_no: str, item: str, lot_no: str, qty: int, at: datetime
) -> None:
    """What picking books: the lot and on-hand down, the reservation's picked up, the ledger."""
    await record(
        session,
        kind="picked",
        item=item,
        qty=D(qty),
        by="wh-zhao",
        at=at,
        lot_no=lot_no,
        order_no=order_no,
        ref=f"task-{sfx()}",
    )
    await session.execute(
        update(Reservation)
        .where(col(Reservation.order_no) == order_no, col(Reservation.item) == item)
        .values(picked=col(Reservation.picked) + qty)
    )
    await session.execute(
        update(StockLot)
        .where(col(StockLot.lot_no) == lot_no, col(StockLot.item) == item)
        .values(qty_left=col(StockLot.qty_left) - qty)
    )
    await change_stock(session, item, at=at, on_hand=D(-qty))


def requirement(order_no: str, item: str, qty: int, required_in_days: int) -> Requirement:
    return Requirement(
        order_no=order_no,
        item=item,
        bom_revision=1,
        qty=D(qty),
        make_or_buy="buy",
        required_date=date.today() + timedelta(days=required_in_days),
        updated_at=datetime.now(UTC),
    )


async def get(stack: Stack, path: str, *roles: str, **params: str) -> Any:
    response = await stack.http.get(path, params=params, headers=stack.token("u", *roles))
    assert response.status_code == 200, response.text
    return response.json()


async def stock_of(stack: Stack, item: str) -> dict[str, Any]:
    (row,) = await get(stack, "/warehouse/stock", "sales", item=item)
    return {
        "on_hand": D(row["on_hand"]),
        "free": D(row["free"]),
        "reserved": {order: D(qty) for order, qty in row["reserved"].items()},
    }


async def post_return(stack: Stack, body: dict[str, Any], *roles: str) -> Any:
    return await stack.http.post(
        "/warehouse/returns", json=body, headers=stack.token("wh-zhao", *(roles or ("warehouse",)))
    )


async def lot_left(engine: AsyncEngine, lot_no: str, item: str) -> Decimal:
    async with session_scope(engine) as session:
        row = await session.get(StockLot, (lot_no, item))
        assert row is not None
        return D(row.qty_left)


async def holding(engine: AsyncEngine, order_no: str, item: str) -> tuple[Decimal, Decimal]:
    """(reserved in total, picked) of an order's reservation."""
    async with session_scope(engine) as session:
        row = await session.get(Reservation, (order_no, item))
        assert row is not None
        return D(row.qty), D(row.picked)


async def movement_count(engine: AsyncEngine, item: str) -> int:
    async with session_scope(engine) as session:
        query = select(func.count()).select_from(Movement).where(col(Movement.item) == item)
        return int((await session.execute(query)).scalar_one())
