"""Reading what engineering released: a BOM revision with its lines, the drawing set."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.engineering.models import BomLineRow, BomRevision, DrawingRelease, Item
from services.engineering.schemas import BomLinePublic, BomPublic, DrawingPublic, ItemMaster


async def released_bom(
    session: AsyncSession, order_no: str, revision: int | None = None
) -> BomPublic | None:
    """The order's BOM at `revision` (the newest when None); None when nothing is released."""
    revisions = (
        (
            await session.execute(
                select(BomRevision)
                .where(col(BomRevision.order_no) == order_no)
                .order_by(col(BomRevision.revision))
            )
        )
        .scalars()
        .all()
    )
    chosen = next(
        (r for r in reversed(revisions) if revision is None or r.revision == revision), None
    )
    if chosen is None:
        return None
    lines = (
        await session.execute(
            select(BomLineRow)
            .where(
                col(BomLineRow.order_no) == order_no, col(BomLineRow.revision) == chosen.revision
            )
            .order_by(col(BomLineRow.line_no))
        )
    ).scalars()
    return BomPublic(
        order_no=order_no,
        revision=chosen.revision,
        released_by=chosen.released_by,
        released_at=chosen.released_at,
        revisions=[r.revision for r in revisions],
        lines=[BomLinePublic.model_validate(line, from_attributes=True) for line in lines],
    )


async def released_drawings(session: AsyncSession, order_no: str) -> list[DrawingPublic]:
    """Every drawing released for the order, by number and revision."""
    rows = (
        await session.execute(
            select(DrawingRelease)
            .where(col(DrawingRelease.order_no) == order_no)
            .order_by(col(DrawingRelease.number), col(DrawingRelease.rev))
        )
    ).scalars()
    return [DrawingPublic.model_validate(row, from_attributes=True) for row in rows]


# -- for other departments ------------------------------------------------------------------


async def bom_lines(session: AsyncSession, *, order_no: str, revision: int) -> list[BomLineRow]:
    """One revision of the order's BOM, line by line."""
    rows = await session.execute(
        select(BomLineRow)
        .where(col(BomLineRow.order_no) == order_no, col(BomLineRow.revision) == revision)
        .order_by(col(BomLineRow.line_no))
    )
    return list(rows.scalars())


async def bom_rows(session: AsyncSession, *, order_no: str, revision: int) -> list[Any]:
    """One revision of the order's BOM as plain rows of the columns MRP reads, in line order:
    at 10,000 lines building `BomLineRow` objects costs more than the query takes."""
    rows = await session.execute(
        select(
            col(BomLineRow.item),
            col(BomLineRow.parent),
            col(BomLineRow.qty_per),
            col(BomLineRow.make_or_buy),
            col(BomLineRow.lead_days),
            col(BomLineRow.supplier),
            col(BomLineRow.special),
        )
        .where(col(BomLineRow.order_no) == order_no, col(BomLineRow.revision) == revision)
        .order_by(col(BomLineRow.line_no))
    )
    return list(rows.all())


async def top_item(session: AsyncSession, *, order_no: str, revision: int) -> str | None:
    """The product of one revision of the order's BOM: its first top-level line's item."""
    rows = await session.execute(
        select(col(BomLineRow.item))
        .where(
            col(BomLineRow.order_no) == order_no,
            col(BomLineRow.revision) == revision,
            col(BomLineRow.parent).is_(None),
        )
        .order_by(col(BomLineRow.line_no))
    )
    return rows.scalars().first()


async def newest_revision(session: AsyncSession, *, order_no: str) -> int | None:
    """The order's newest BOM revision number; None before the first release."""
    return (
        await session.execute(
            select(func.max(col(BomRevision.revision))).where(col(BomRevision.order_no) == order_no)
        )
    ).scalar_one_or_none()


def _master(row: Item) -> ItemMaster:
    return ItemMaster(
        item=row.item,
        make_or_buy=row.make_or_buy,
        supplier=row.supplier,
        lead_days=row.lead_days,
        special=row.special,
        safety_stock=Decimal(row.safety_stock),
    )


async def safety_stock_items(session: AsyncSession) -> list[ItemMaster]:
    """The bought items that keep a safety stock, by item."""
    rows = await session.execute(
        select(Item)
        .where(col(Item.safety_stock) > 0, col(Item.make_or_buy) == "buy")
        .order_by(col(Item.item))
    )
    return [_master(row) for row in rows.scalars()]


async def item_masters(session: AsyncSession, *, items: Iterable[str]) -> dict[str, ItemMaster]:
    """The item master rows of the given items that exist, by item."""
    rows = await session.execute(select(Item).where(col(Item.item).in_(sorted(set(items)))))
    return {row.item: _master(row) for row in rows.scalars()}
