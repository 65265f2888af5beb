"""Writing a BOM revision and growing the item master: what a BOM release and a DCN share."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.engineering.models import BomLineRow, BomRevision, Item
from shared.payloads import BomLine


async def store_revision(
    session: AsyncSession,
    *,
    order_no: str,
    revision: int,
    task_id: str,
    by: str,
    at: datetime,
    lines: list[BomLine],
) -> None:
    """Revision `revision` of the order's BOM, released through task `task_id`."""
    session.add(
        BomRevision(
            order_no=order_no, revision=revision, task_id=task_id, released_by=by, released_at=at
        )
    )
    for number, line in enumerate(lines, start=1):
        session.add(
            BomLineRow(
                order_no=order_no,
                revision=revision,
                line_no=number,
                item=line.item,
                parent=line.parent,
                qty_per=Decimal(str(line.qty_per)),
                make_or_buy=line.make_or_buy,
                lead_days=line.lead_days,
                supplier=line.supplier,
                special=bool(line.special),
            )
        )


async def grow_item_master(
    session: AsyncSession, *, order_no: str, at: datetime, lines: list[BomLine]
) -> list[str]:
    """Add the items the item master does not know yet; returns them."""
    new_items: list[str] = []
    for line in lines:
        inserted = await session.execute(
            insert(Item)
            .values(
                item=line.item,
                make_or_buy=line.make_or_buy,
                supplier=line.supplier,
                lead_days=line.lead_days,
                special=bool(line.special),
                first_order_no=order_no,
                created_at=at,
            )
            .on_conflict_do_nothing(index_elements=["item"])
            .returning(col(Item.item))
        )
        if inserted.scalar_one_or_none() is not None:
            new_items.append(line.item)
    return new_items
