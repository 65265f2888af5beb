"""Stock bookkeeping inside one database transaction: the movement ledger, stock per item and
per lot, and allocation of free stock to the orders that need it (earliest required first).

Every function takes the caller's session, so a receipt, an inspection or a pick changes stock,
lots, reservations and the ledger together or not at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.procurement.models import Requirement
from services.sales.models import Order
from services.warehouse.models import Movement, Reservation, StockItem, StockLot

ZERO = Decimal(0)


async def record(
    session: AsyncSession,
    *,
    kind: str,
    item: str,
    qty: Decimal,
    by: str,
    at: datetime,
    lot_no: str | None = None,
    order_no: str | None = None,
    receipt_no: str | None = None,
    ref: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one movement to the ledger traceability reads."""
    session.add(
        Movement(
            kind=kind,
            item=item,
            qty=qty,
            lot_no=lot_no,
            order_no=order_no,
            receipt_no=receipt_no,
            ref=ref,
            by=by,
            at=at,
            detail=detail or {},
        )
    )


async def change_stock(
    session: AsyncSession,
    item: str,
    *,
    at: datetime,
    on_hand: Decimal = ZERO,
    pending: Decimal = ZERO,
) -> None:
    """Add (or, negative, take) on-hand and pending-inspection quantity of an item."""
    table = StockItem.__table__  # type: ignore[attr-defined]
    await session.execute(
        insert(StockItem)
        .values(item=item, on_hand=on_hand, pending_inspection=pending, updated_at=at)
        .on_conflict_do_update(
            index_elements=["item"],
            set_={
                "on_hand": table.c.on_hand + on_hand,
                "pending_inspection": table.c.pending_inspection + pending,
                "updated_at": at,
            },
        )
    )


async def add_lot(
    session: AsyncSession,
    *,
    lot_no: str,
    item: str,
    qty: Decimal,
    source: str,
    at: datetime,
    receipt_no: str | None = None,
    po_no: str | None = None,
    supplier: str | None = None,
    supplier_lot: str | None = None,
) -> None:
    """Qualified quantity of an item into a stock lot (a second call for the lot adds to it)."""
    table = StockLot.__table__  # type: ignore[attr-defined]
    await session.execute(
        insert(StockLot)
        .values(
            lot_no=lot_no,
            item=item,
            source=source,
            receipt_no=receipt_no,
            po_no=po_no,
            supplier=supplier,
            supplier_lot=supplier_lot,
            qty_in=qty,
            qty_left=qty,
            created_at=at,
        )
        .on_conflict_do_update(
            index_elements=["lot_no", "item"],
            set_={"qty_in": table.c.qty_in + qty, "qty_left": table.c.qty_left + qty},
        )
    )
    await change_stock(session, item, at=at, on_hand=qty)


async def free_qty(session: AsyncSession, item: str) -> Decimal:
    """On hand less what is reserved and still on the shelf; locks the item's stock row."""
    row = (
        await session.execute(
            select(StockItem).where(col(StockItem.item) == item).with_for_update()
        )
    ).scalar_one_or_none()
    if row is None:
        return ZERO
    held = (
        await session.execute(
            select(
                func.coalesce(func.sum(col(Reservation.qty) - col(Reservation.picked)), 0)
            ).where(col(Reservation.item) == item)
        )
    ).scalar_one()
    return max(Decimal(row.on_hand) - Decimal(held), ZERO)


async def reserve(
    session: AsyncSession,
    *,
    order_no: str,
    item: str,
    qty: Decimal,
    by: str,
    at: datetime,
    ref: str | None = None,
) -> None:
    """Set `qty` more of an item aside for an order, and say so in the ledger."""
    table = Reservation.__table__  # type: ignore[attr-defined]
    await session.execute(
        insert(Reservation)
        .values(order_no=order_no, item=item, qty=qty, picked=ZERO, created_at=at)
        .on_conflict_do_update(index_elements=["order_no", "item"], set_={"qty": table.c.qty + qty})
    )
    await record(
        session, kind="reserved", item=item, qty=qty, by=by, at=at, order_no=order_no, ref=ref
    )


async def shortfalls(session: AsyncSession, item: str) -> list[tuple[str, Decimal]]:
    """Active orders still short of an item, earliest required date first: (order, short)."""
    rows = (
        await session.execute(
            select(
                col(Requirement.order_no),
                col(Requirement.qty) - func.coalesce(col(Reservation.qty), 0),
            )
            .join(Order, col(Order.order_no) == col(Requirement.order_no))
            .outerjoin(
                Reservation,
                (col(Reservation.order_no) == col(Requirement.order_no))
                & (col(Reservation.item) == col(Requirement.item)),
            )
            .where(
                col(Requirement.item) == item,
                col(Order.status) == "active",
                col(Requirement.qty) > func.coalesce(col(Reservation.qty), 0),
            )
            .order_by(
                col(Requirement.required_date).asc().nulls_last(),
                col(Order.created_at),
                col(Requirement.order_no),
            )
        )
    ).all()
    return [(order_no, Decimal(short)) for order_no, short in rows]


async def allocate(
    session: AsyncSession,
    items: Iterable[str],
    *,
    by: str,
    at: datetime,
    ref: str | None = None,
    only_order: str | None = None,
) -> dict[str, dict[str, Decimal]]:
    """Reserve free stock of `items` for the orders short of them, earliest required date
    first (or only for `only_order`); returns what each order got, per item."""
    given: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for item in sorted(set(items)):
        free = await free_qty(session, item)
        for order_no, short in await shortfalls(session, item):
            if free <= 0:
                break
            if only_order is not None and order_no != only_order:
                continue
            qty = min(free, short)
            await reserve(session, order_no=order_no, item=item, qty=qty, by=by, at=at, ref=ref)
            given[order_no][item] = qty
            free -= qty
    return dict(given)


async def reserved_by(session: AsyncSession, ref: str) -> dict[str, dict[str, Decimal]]:
    """What the allocations booked under `ref` reserved, per order and item, from the ledger:
    the result of an activity that a retry after its commit must answer again."""
    given: dict[str, dict[str, Decimal]] = defaultdict(dict)
    rows = await session.execute(
        select(col(Movement.order_no), col(Movement.item), func.sum(col(Movement.qty)))
        .where(col(Movement.kind) == "reserved", col(Movement.ref) == ref)
        .group_by(col(Movement.order_no), col(Movement.item))
    )
    for order_no, item, qty in rows.all():
        if order_no:
            given[order_no][item] = Decimal(qty)
    return dict(given)
