"""Warehouse reads: stock with its reservations."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.warehouse.models import Reservation, StockItem
from services.warehouse.schemas import StockPublic


async def stock(session: AsyncSession, item: str | None = None) -> list[StockPublic]:
    """Stock of every item (or one), with what each order has reserved and what is free."""
    items_query = select(StockItem).order_by(col(StockItem.item))
    reservations_query = select(Reservation)
    if item:
        items_query = items_query.where(col(StockItem.item) == item)
        reservations_query = reservations_query.where(col(Reservation.item) == item)
    reserved: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for held_row in (await session.execute(reservations_query)).scalars():
        on_shelf = Decimal(held_row.qty) - Decimal(held_row.picked)
        if on_shelf > 0:
            reserved[held_row.item][held_row.order_no] = on_shelf
    rows = {row.item: row for row in (await session.execute(items_query)).scalars()}
    names = sorted(set(rows) | set(reserved)) if not item else [item]
    result = []
    for name in names:
        row = rows.get(name)
        on_hand = Decimal(row.on_hand) if row else Decimal(0)
        pending = Decimal(row.pending_inspection) if row else Decimal(0)
        held = reserved.get(name, {})
        result.append(
            StockPublic(
                item=name,
                on_hand=on_hand,
                pending_inspection=pending,
                reserved=held,
                free=max(on_hand - sum(held.values(), Decimal(0)), Decimal(0)),
            )
        )
    return result
