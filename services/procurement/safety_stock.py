"""Safety-stock levels (§4.5), kept by procurement with their history.

Why procurement keeps its own table rather than writing engineering's item master: the level is
the procurement head's decision (`PUT /procurement/items/{item}/safety-stock`), a department's
tables are written by its own code only, and the history belongs with whoever changes it.
Engineering's `items.safety_stock` stays the default an item starts with; a level procurement
has set overrides it (0 included: no safety stock), and the daily MRP run reads the two
together through `safety_stock_items`.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.engineering.schemas import ItemMaster
from services.engineering.service import item_masters
from services.engineering.service import safety_stock_items as engineering_levels
from services.procurement.models import SafetyStockChange, SafetyStockLevel

ZERO = Decimal(0)


async def current_level(session: AsyncSession, master: ItemMaster) -> Decimal:
    """The item's safety stock: procurement's level when set, else the item master's."""
    row = await session.get(SafetyStockLevel, master.item)
    return Decimal(row.level) if row is not None else Decimal(master.safety_stock)


async def set_level(
    session: AsyncSession,
    master: ItemMaster,
    *,
    level: Decimal,
    reason: str,
    by: str,
    at: datetime,
) -> SafetyStockChange:
    """Set the item's safety stock and record the change (also when the level stays)."""
    row = await session.get(SafetyStockLevel, master.item, with_for_update=True)
    previous = Decimal(row.level) if row is not None else Decimal(master.safety_stock)
    if row is None:
        session.add(SafetyStockLevel(item=master.item, level=level, updated_by=by, updated_at=at))
    else:
        row.level, row.updated_by, row.updated_at = level, by, at
    change = SafetyStockChange(
        item=master.item,
        previous=previous,
        level=level,
        reason=reason,
        changed_by=by,
        changed_at=at,
    )
    session.add(change)
    await session.flush()
    return change


async def level_history(session: AsyncSession, item: str) -> list[SafetyStockChange]:
    """Every change of the item's safety stock, oldest first."""
    rows = await session.execute(
        select(SafetyStockChange)
        .where(col(SafetyStockChange.item) == item)
        .order_by(col(SafetyStockChange.changed_at), col(SafetyStockChange.id))
    )
    return list(rows.scalars())


async def safety_stock_items(session: AsyncSession) -> list[ItemMaster]:
    """The bought items that keep a safety stock, by item, each with its level: procurement's
    where set, the item master's elsewhere."""
    levels = {
        row.item: Decimal(row.level)
        for row in (await session.execute(select(SafetyStockLevel))).scalars()
    }
    masters = {m.item: m for m in await engineering_levels(session)}
    masters.update(await item_masters(session, items=levels))
    found = []
    for name in sorted(masters):
        master = masters[name]
        level = levels.get(name, Decimal(master.safety_stock))
        if master.make_or_buy == "buy" and level > ZERO:
            found.append(dataclasses.replace(master, safety_stock=level))
    return found
