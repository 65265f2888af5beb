"""Stock read for many items at once: what allocation and the daily MRP run look at for every
item they touch (free stock, the orders short of it), in a few statements whatever the number
of items, rather than several statements per item."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.procurement.mrp.bulk import among
from services.procurement.service import requirements_for_items
from services.sales.service import ACTIVE, orders_by_no
from services.warehouse.models import Reservation, StockItem

ZERO = Decimal(0)


async def free_qty_many(session: AsyncSession, items: Iterable[str]) -> dict[str, Decimal]:
    """Per item, on hand less what is reserved and still on the shelf (0 without a stock row),
    as `stock.free_qty`; the items' stock rows are locked in item order, the order allocation
    on a receipt takes them in, so two runs cannot deadlock."""
    wanted = sorted(set(items))
    if not wanted:
        return {}
    on_hand = {
        item: Decimal(qty)
        for item, qty in (
            await session.execute(
                select(col(StockItem.item), col(StockItem.on_hand))
                .where(among(col(StockItem.item), wanted))
                .order_by(col(StockItem.item))
                .with_for_update()
            )
        ).all()
    }
    held = {
        item: Decimal(qty)
        for item, qty in (
            await session.execute(
                select(
                    col(Reservation.item),
                    func.coalesce(func.sum(col(Reservation.qty) - col(Reservation.picked)), 0),
                )
                .where(among(col(Reservation.item), list(on_hand)))
                .group_by(col(Reservation.item))
            )
        ).all()
    }
    return {
        item: max(on_hand[item] - held.get(item, ZERO), ZERO) if item in on_hand else ZERO
        for item in wanted
    }


async def shortfalls_many(
    session: AsyncSession, items: Iterable[str]
) -> dict[str, list[tuple[str, Decimal]]]:
    """Per item, the active orders still short of it, earliest required date first (then the
    older order first): (order, short), as `stock.shortfalls` answers for one item."""
    wanted = sorted(set(items))
    needs = await requirements_for_items(session, items=wanted)
    orders = await orders_by_no(session, order_nos=[need.order_no for need in needs])
    held: dict[tuple[str, str], Decimal] = {}
    if orders and wanted:
        rows = await session.execute(
            select(col(Reservation.order_no), col(Reservation.item), col(Reservation.qty)).where(
                among(col(Reservation.order_no), orders), among(col(Reservation.item), wanted)
            )
        )
        held = {(order_no, item): Decimal(qty) for order_no, item, qty in rows.all()}
    ranked: dict[str, list[tuple[tuple[bool, date], datetime, str, Decimal]]] = defaultdict(list)
    for need in needs:
        order = orders.get(need.order_no)
        gap = Decimal(need.qty) - held.get((need.order_no, need.item), ZERO)
        if order is not None and order.status == ACTIVE and gap > 0:
            # Nulls last, as the plan's date may not be known yet.
            rank = (need.required_date is None, need.required_date or date.min)
            ranked[need.item].append((rank, order.created_at, need.order_no, gap))
    return {
        item: [(order_no, gap) for _, _, order_no, gap in sorted(ranked[item])] for item in wanted
    }
