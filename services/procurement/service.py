"""Procurement's service: its lists (requisitions, work orders, purchase orders) and the reads
and changes other departments ask of its tables. Every function takes the caller's session, so
a caller that changes several departments' rows (a cancellation, a receipt, an NCR judgement)
keeps them in one transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.procurement.models import PoLine, PurchaseOrder, Requirement, Requisition, WorkOrder
from services.procurement.mrp.bulk import among
from services.procurement.schemas import (
    PoLinePublic,
    PurchaseOrderPublic,
    RequisitionPublic,
    WorkOrderPublic,
)

Row = TypeVar("Row", Requisition, WorkOrder, PurchaseOrder)


async def _rows(
    session: AsyncSession, model: type[Row], *, order_no: str | None, state: str | None
) -> list[Row]:
    """Rows of `model`, oldest first (then by key), filtered by order and state when given."""
    keys = model.__table__.primary_key.columns  # type: ignore[attr-defined]
    query = select(model).order_by(col(model.created_at), *keys)
    if order_no:
        query = query.where(col(model.order_no) == order_no)
    if state:
        query = query.where(col(model.state) == state)
    return list((await session.execute(query)).scalars())


async def list_requisitions(
    session: AsyncSession, *, order_no: str | None, state: str | None
) -> list[RequisitionPublic]:
    rows = await _rows(session, Requisition, order_no=order_no, state=state)
    return [RequisitionPublic.model_validate(row, from_attributes=True) for row in rows]


async def list_work_orders(
    session: AsyncSession, *, order_no: str | None, state: str | None
) -> list[WorkOrderPublic]:
    rows = await _rows(session, WorkOrder, order_no=order_no, state=state)
    return [WorkOrderPublic.model_validate(row, from_attributes=True) for row in rows]


async def list_purchase_orders(
    session: AsyncSession, *, order_no: str | None, state: str | None
) -> list[PurchaseOrderPublic]:
    orders = await _rows(session, PurchaseOrder, order_no=order_no, state=state)
    lines: dict[str, list[PoLinePublic]] = defaultdict(list)
    if orders:
        rows = (
            await session.execute(
                select(PoLine)
                .where(col(PoLine.po_no).in_([o.po_no for o in orders]))
                .order_by(col(PoLine.po_no), col(PoLine.line_no))
            )
        ).scalars()
        promised = {o.po_no: o.promised_date for o in orders}
        for row in rows:
            lines[row.po_no].append(
                PoLinePublic(
                    line_no=row.line_no,
                    item=row.item,
                    qty=row.qty,
                    qty_received=row.qty_received,
                    promised_date=row.promised_date or promised[row.po_no],
                )
            )
    return [
        PurchaseOrderPublic(
            po_no=o.po_no,
            supplier=o.supplier,
            order_no=o.order_no,
            promised_date=o.promised_date,
            state=o.state,
            lines=lines[o.po_no],
        )
        for o in orders
    ]


# -- for other departments ------------------------------------------------------------------

# Requisitions that could still become a purchase order.
OPEN_REQUISITION = ("open", "approved")
# A work order in any other state is still open and is cancelled with the order.
FINISHED_WORK_ORDER = ("closed", "done", "cancelled")


# One open PO line of an order's item as the completeness check reads it.
@dataclass(frozen=True)
class OpenPoLine:
    item: str
    qty: Decimal
    qty_received: Decimal
    promised_date: date


async def requirements_of(session: AsyncSession, *, order_no: str) -> list[Requirement]:
    """The order's requirements from stock, by item."""
    return list(
        (
            await session.execute(
                select(Requirement)
                .where(col(Requirement.order_no) == order_no)
                .order_by(col(Requirement.item))
            )
        ).scalars()
    )


async def requirements_of_orders(
    session: AsyncSession, *, order_nos: Iterable[str], item: str | None = None
) -> list[Requirement]:
    """The requirements of the given orders (of one item when given), in no set order."""
    wanted = sorted(set(order_nos))
    if not wanted:
        return []
    query = select(Requirement).where(col(Requirement.order_no).in_(wanted))
    if item is not None:
        query = query.where(col(Requirement.item) == item)
    return list((await session.execute(query)).scalars())


async def requirements_for_items(
    session: AsyncSession, *, items: Iterable[str]
) -> list[Requirement]:
    """Every order's requirements of the given items, in no set order."""
    query = select(Requirement).where(among(col(Requirement.item), items))
    return list((await session.execute(query)).scalars())


async def requirement(session: AsyncSession, *, order_no: str, item: str) -> Requirement | None:
    """The order's requirement of one item, if it has one."""
    return await session.get(Requirement, (order_no, item))


async def has_requirement(session: AsyncSession, *, order_no: str, item: str) -> bool:
    """Whether the order has a requirement row for the item."""
    query = select(col(Requirement.item)).where(
        col(Requirement.order_no) == order_no, col(Requirement.item) == item
    )
    return (await session.execute(query.limit(1))).first() is not None


async def first_required_date(session: AsyncSession, *, order_no: str) -> date | None:
    """The earliest date the order needs any of its material (what MRP stored)."""
    return (
        await session.execute(
            select(func.min(col(Requirement.required_date))).where(
                col(Requirement.order_no) == order_no
            )
        )
    ).scalar_one_or_none()


async def shrink_requirement(
    session: AsyncSession, *, order_no: str, item: str, qty: Decimal
) -> None:
    """Goods come back from the order: its requirement (locked) shrinks by `qty`, not below 0."""
    row = await session.get(Requirement, (order_no, item), with_for_update=True)
    if row is not None:
        row.qty = max(Decimal(row.qty) - qty, Decimal(0))


async def drop_requirements(session: AsyncSession, *, order_no: str) -> None:
    """A cancelled order needs nothing more: nothing reserves or buys for it again."""
    await session.execute(delete(Requirement).where(col(Requirement.order_no) == order_no))


async def cancel_requisitions(session: AsyncSession, *, order_no: str) -> list[str]:
    """The order's requisitions not yet on a purchase order → cancelled; their keys."""
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


async def cancel_purchase_orders(session: AsyncSession, *, order_no: str) -> list[str]:
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


async def cancel_work_orders(session: AsyncSession, *, order_no: str) -> list[str]:
    """The order's semi-finished work orders not finished → cancelled; their keys."""
    rows = await session.execute(
        update(WorkOrder)
        .where(
            col(WorkOrder.order_no) == order_no,
            col(WorkOrder.state).not_in(FINISHED_WORK_ORDER),
        )
        .values(state="cancelled")
        .returning(col(WorkOrder.key))
    )
    return sorted(rows.scalars())


async def po_lines_of_order(session: AsyncSession, *, order_no: str) -> list[PoLine]:
    """Every line of the purchase orders placed for the order, by PO and line."""
    return list(
        (
            await session.execute(
                select(PoLine)
                .join(PurchaseOrder, col(PurchaseOrder.po_no) == col(PoLine.po_no))
                .where(col(PurchaseOrder.order_no) == order_no)
                .order_by(col(PoLine.po_no), col(PoLine.line_no))
            )
        ).scalars()
    )


async def priced_lines(session: AsyncSession, *, po_nos: Iterable[str]) -> list[PoLine]:
    """The lines of the given POs that carry a unit price, in no set order."""
    return list(
        (
            await session.execute(
                select(PoLine).where(
                    col(PoLine.po_no).in_(set(po_nos)),
                    col(PoLine.unit_price).is_not(None),
                )
            )
        ).scalars()
    )


async def last_prices(session: AsyncSession, *, items: list[str]) -> dict[str, Decimal]:
    """Each item's unit price on its newest purchase order line that has one."""
    if not items:
        return {}
    rows = await session.execute(
        select(col(PoLine.item), col(PoLine.unit_price))
        .join(PurchaseOrder, col(PurchaseOrder.po_no) == col(PoLine.po_no))
        .where(col(PoLine.item).in_(items), col(PoLine.unit_price).is_not(None))
        .order_by(col(PurchaseOrder.created_at).desc(), col(PoLine.po_no).desc())
    )
    prices: dict[str, Decimal] = {}
    for item, price in rows.all():
        if price is not None:
            prices.setdefault(item, Decimal(price))
    return prices


async def open_po_lines(
    session: AsyncSession, *, order_no: str, items: Iterable[str]
) -> list[OpenPoLine]:
    """The lines of the order's open purchase orders for the given items, with their PO's
    promised date, in no set order."""
    rows = await session.execute(
        select(
            col(PoLine.item),
            col(PoLine.qty),
            col(PoLine.qty_received),
            # A line whose date the buyer moved has its own (§4.9).
            func.coalesce(col(PoLine.promised_date), col(PurchaseOrder.promised_date)),
        )
        .join(PurchaseOrder, col(PurchaseOrder.po_no) == col(PoLine.po_no))
        .where(
            col(PurchaseOrder.order_no) == order_no,
            col(PurchaseOrder.state) == "open",
            col(PoLine.item).in_(list(items)),
        )
    )
    return [
        OpenPoLine(item=item, qty=Decimal(qty), qty_received=Decimal(received), promised_date=day)
        for item, qty, received, day in rows.all()
    ]


async def lock_purchase_order(session: AsyncSession, *, po_no: str) -> PurchaseOrder | None:
    """The PO, locked for a receipt (its lines next, with `lock_po_lines`); None if none."""
    return (
        await session.execute(
            select(PurchaseOrder).where(col(PurchaseOrder.po_no) == po_no).with_for_update()
        )
    ).scalar_one_or_none()


# A purchase order locked for a receipt, with its lines locked (by line number).
@dataclass
class Receivable:
    po: PurchaseOrder
    lines: list[PoLine]

    @property
    def items(self) -> set[str]:
        """The items the PO orders."""
        return {line.item for line in self.lines}

    def outstanding(self, item: str) -> Decimal:
        """What the PO still expects of an item, over its lines of it."""
        return sum(
            (Decimal(pl.qty) - Decimal(pl.qty_received) for pl in self.lines if pl.item == item),
            Decimal(0),
        )

    def book(self, item: str, qty: Decimal) -> None:
        """Count accepted goods against the PO's lines of the item, first line first."""
        for line in self.lines:
            if line.item != item:
                continue
            take = min(qty, Decimal(line.qty) - Decimal(line.qty_received))
            if take > 0:
                line.qty_received = Decimal(line.qty_received) + take
                qty -= take


async def lock_po_lines(session: AsyncSession, *, po: PurchaseOrder) -> Receivable:
    """The locked PO (`lock_purchase_order`) with its lines, locked after it as every writer
    locks them."""
    lines = (
        await session.execute(
            select(PoLine)
            .where(col(PoLine.po_no) == po.po_no)
            .order_by(col(PoLine.line_no))
            .with_for_update()
        )
    ).scalars()
    return Receivable(po=po, lines=list(lines))


async def owe_again(session: AsyncSession, *, po_no: str, item: str, qty: Decimal) -> None:
    """Goods that leave (or are scrapped) are owed again by the supplier: the PO line reopens."""
    po = await session.get(PurchaseOrder, po_no, with_for_update=True)
    lines = (
        await session.execute(
            select(PoLine)
            .where(col(PoLine.po_no) == po_no, col(PoLine.item) == item)
            .order_by(col(PoLine.line_no).desc())
            .with_for_update()
        )
    ).scalars()
    for line in lines:
        back = min(qty, Decimal(line.qty_received))
        line.qty_received = Decimal(line.qty_received) - back
        qty -= back
    if po is not None and po.state != "cancelled":
        po.state = "open"


async def open_stock_po_qty(session: AsyncSession, *, items: Iterable[str]) -> dict[str, Decimal]:
    """Per item, what the open POs bought for stock (no order) still owe, never below 0."""
    rows = await session.execute(
        select(col(PoLine.item), func.sum(col(PoLine.qty) - col(PoLine.qty_received)))
        .join(PurchaseOrder, col(PurchaseOrder.po_no) == col(PoLine.po_no))
        .where(
            among(col(PoLine.item), items),
            col(PurchaseOrder.state) == "open",
            col(PurchaseOrder.order_no).is_(None),
        )
        .group_by(col(PoLine.item))
    )
    return {item: max(Decimal(qty), Decimal(0)) for item, qty in rows.all()}


async def open_po_qty(session: AsyncSession, *, items: Iterable[str]) -> dict[str, Decimal]:
    """Per item, what every open PO still owes (each line counted at least 0)."""
    outstanding = func.greatest(col(PoLine.qty) - col(PoLine.qty_received), 0)
    rows = await session.execute(
        select(col(PoLine.item), func.sum(outstanding))
        .join(PurchaseOrder, col(PurchaseOrder.po_no) == col(PoLine.po_no))
        .where(col(PoLine.item).in_(list(items)), col(PurchaseOrder.state) == "open")
        .group_by(col(PoLine.item))
    )
    return {item: Decimal(qty or 0) for item, qty in rows.all()}
