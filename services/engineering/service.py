"""Reading what engineering released: a BOM revision with its lines, the drawing set."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.engineering.models import BomLineRow, BomRevision, DrawingRelease
from services.engineering.schemas import BomLinePublic, BomPublic, DrawingPublic


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
