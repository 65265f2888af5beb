"""Stock bookkeeping inside one database transaction: the movement ledger, stock per item and
per lot, and allocation of free stock to the orders that need it (earliest required first).

Every function takes the caller's session, so a receipt, an inspection or a pick changes stock,
lots, reservations and the ledger together or not at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.procurement.mrp.bulk import among, insert_batches, table_of
from services.warehouse.models import Movement, Reservation, StockItem, StockLot
from services.warehouse.stock_many import free_qty_many, shortfalls_many

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
    """Active orders still short of an item, earliest required date first (then the older
    order first): (order, short)."""
    return (await shortfalls_many(session, [item]))[item]


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
    wanted = sorted(set(items))
    # Stock rows locked (item order) and shortfalls read up front: items never affect each other.
    free_of = await free_qty_many(session, wanted)
    short_of = await shortfalls_many(session, wanted)
    booked: list[dict[str, Any]] = []
    for item in wanted:
        free = free_of[item]
        for order_no, short in short_of[item]:
            if free <= 0:
                break
            if only_order is not None and order_no != only_order:
                continue
            qty = min(free, short)
            booked.append(
                {"order_no": order_no, "item": item, "qty": qty, "picked": ZERO, "created_at": at}
            )
            await record(
                session,
                kind="reserved",
                item=item,
                qty=qty,
                by=by,
                at=at,
                order_no=order_no,
                ref=ref,
            )
            given[order_no][item] = qty
            free -= qty
    # What `reserve` does row by row, for every (order, item) booked above (each once).
    upsert = insert(table_of(Reservation))
    added = {"qty": upsert.table.c.qty + upsert.excluded.qty}
    await insert_batches(
        session,
        upsert.on_conflict_do_update(index_elements=["order_no", "item"], set_=added),
        booked,
    )
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


async def held_qty(
    session: AsyncSession, *, order_nos: Iterable[str], item: str | None = None
) -> dict[tuple[str, str], Decimal]:
    """What the given orders have reserved (on the shelf and picked), per (order, item)."""
    wanted = sorted(set(order_nos))
    if not wanted:
        return {}
    query = select(Reservation).where(col(Reservation.order_no).in_(wanted))
    if item is not None:
        query = query.where(col(Reservation.item) == item)
    return {
        (row.order_no, row.item): Decimal(row.qty)
        for row in (await session.execute(query)).scalars()
    }


async def reserve_once_many(
    session: AsyncSession, *, order_no: str, reserved: Mapping[str, Decimal], at: datetime
) -> None:
    """MRP's reservations of free stock for an order, many items a statement; an item the
    order holds a reservation of already is left as it is (a retried run changes nothing)."""
    rows = [
        {"order_no": order_no, "item": item, "qty": qty, "picked": ZERO, "created_at": at}
        for item, qty in reserved.items()
    ]
    await insert_batches(session, insert(table_of(Reservation)).on_conflict_do_nothing(), rows)


async def lock_reservations(
    session: AsyncSession, *, order_no: str, items: Iterable[str]
) -> dict[str, Reservation]:
    """The order's reservations of the given items, locked in item order, by item (an item the
    order holds none of is missing)."""
    rows = await session.execute(
        select(Reservation)
        .where(col(Reservation.order_no) == order_no, among(col(Reservation.item), items))
        .order_by(col(Reservation.item))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {row.item: row for row in rows.scalars()}


async def unreserve(
    session: AsyncSession,
    held: Reservation,
    *,
    qty: Decimal,
    by: str,
    at: datetime,
    ref: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Give `qty` of a locked reservation (`lock_reservations`) back to free stock, in the
    ledger as `unreserved`."""
    held.qty = Decimal(held.qty) - qty
    await record(
        session,
        kind="unreserved",
        item=held.item,
        qty=qty,
        by=by,
        at=at,
        order_no=held.order_no,
        ref=ref,
        detail=detail,
    )


async def release_order(
    session: AsyncSession, *, order_no: str, by: str, at: datetime, ref: str, reason: str
) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """Give back what an order holds on the shelf (ledger `unreserved`); what it picked is in
    the workshop and stays with it. Returns (released, picked) per item."""
    held_items = select(col(Reservation.item)).where(col(Reservation.order_no) == order_no)
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
            .where(col(Reservation.order_no) == order_no)
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
            by=by,
            at=at,
            order_no=order_no,
            ref=ref,
            detail={"reason": reason},
        )
    await session.flush()  # allocation next reads reservations with plain queries
    return released, picked


async def released_by(session: AsyncSession, ref: str) -> dict[str, Decimal]:
    """What the ledger gave back to free stock under `ref`, per item."""
    rows = await session.execute(
        select(col(Movement.item), func.sum(col(Movement.qty)))
        .where(col(Movement.kind) == "unreserved", col(Movement.ref) == ref)
        .group_by(col(Movement.item))
    )
    return {item: Decimal(qty) for item, qty in rows.all()}


async def free_stock(
    session: AsyncSession, *, items: Iterable[str], except_order: str
) -> dict[str, Decimal]:
    """Per item, on hand less what every other order holds on the shelf, not below 0 (no locks:
    MRP's view of what it may net against)."""
    wanted = set(items)
    on_hand = {
        item: Decimal(on_hand)
        for item, on_hand in (
            await session.execute(
                select(col(StockItem.item), col(StockItem.on_hand)).where(
                    among(col(StockItem.item), wanted)
                )
            )
        ).all()
    }
    reserved: dict[str, Decimal] = defaultdict(Decimal)
    for item, qty in (
        await session.execute(
            select(
                col(Reservation.item),
                func.sum(col(Reservation.qty) - col(Reservation.picked)),
            )
            .where(among(col(Reservation.item), wanted), col(Reservation.order_no) != except_order)
            .group_by(col(Reservation.item))
        )
    ).all():
        reserved[item] = Decimal(qty)
    return {item: max(on_hand.get(item, ZERO) - reserved[item], ZERO) for item in wanted}


async def pending_inspection(session: AsyncSession, *, items: Iterable[str]) -> dict[str, Decimal]:
    """Per item with a stock row, the goods received and waiting for quality."""
    rows = await session.execute(
        select(col(StockItem.item), col(StockItem.pending_inspection)).where(
            col(StockItem.item).in_(list(items))
        )
    )
    return {item: Decimal(qty or 0) for item, qty in rows.all()}
