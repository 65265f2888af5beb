"""Warehouse reads: stock with its reservations, and an order's material line by line."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.procurement.service import open_po_lines, requirements_of
from services.warehouse.models import Reservation, StockItem
from services.warehouse.schemas import StockPublic
from shared.material_types import Completeness, MaterialLine

ZERO = Decimal(0)


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


async def material_status(session: AsyncSession, order_no: str) -> Completeness:
    """The order's material, line by line (what the completeness check and pick list read)."""
    requirements = await requirements_of(session, order_no=order_no)
    items = [r.item for r in requirements]
    held = {
        r.item: r
        for r in (
            await session.execute(
                select(Reservation).where(
                    col(Reservation.order_no) == order_no, col(Reservation.item).in_(items)
                )
            )
        ).scalars()
    }
    pending = {
        s.item: Decimal(s.pending_inspection)
        for s in (
            await session.execute(select(StockItem).where(col(StockItem.item).in_(items)))
        ).scalars()
    }
    on_order: dict[str, Decimal] = defaultdict(Decimal)
    promised: dict[str, date] = {}
    for line in await open_po_lines(session, order_no=order_no, items=items):
        open_qty = line.qty - line.qty_received
        if open_qty > 0:
            on_order[line.item] += open_qty
            day = line.promised_date
            promised[line.item] = max(promised.get(line.item, day), day)
    lines = []
    for requirement in requirements:
        reservation = held.get(requirement.item)
        lines.append(
            MaterialLine(
                item=requirement.item,
                required=Decimal(requirement.qty),
                reserved=Decimal(reservation.qty) if reservation else ZERO,
                picked=Decimal(reservation.picked) if reservation else ZERO,
                special=requirement.special,
                pending_inspection=pending.get(requirement.item, ZERO),
                on_order=on_order[requirement.item],
                promised_date=promised.get(requirement.item),
            )
        )
    return Completeness(order_no=order_no, lines=lines)
