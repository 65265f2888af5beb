"""Quality's reads: the inspection basis engineering and sales hand over (§3.3), and the
inspections and NCRs other departments read (trace, the daily MRP run)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.engineering.service import released_bom, released_drawings
from services.quality.models import Inspection, Ncr, ReleasePass
from services.quality.schemas import InspectionBasis, LotInspection, LotNcr, LotReleasePass
from services.sales.service import get_order


async def inspection_basis(session: AsyncSession, order_no: str) -> InspectionBasis | None:
    """The agreement, drawings and bought-in items quality inspects against; None if no order."""
    order = await get_order(session, order_no=order_no)
    if order is None:
        return None
    bom = await released_bom(session, order_no)
    lines = bom.lines if bom else []
    return InspectionBasis(
        order_no=order_no,
        technical_agreement_ref=order.technical_agreement_ref,
        customer_drawing_refs=[str(ref) for ref in order.drawing_refs],
        drawings=await released_drawings(session, order_no),
        bom_revision=bom.revision if bom else None,
        outsourced_items=[line for line in lines if line.make_or_buy == "buy"],
        special_items=sorted({line.item for line in lines if line.special}),
    )


# -- for other departments ------------------------------------------------------------------


async def inspections_of_lots(
    session: AsyncSession, *, lot_nos: Iterable[str]
) -> dict[str, LotInspection]:
    """The incoming inspections of the given lots that exist, by lot."""
    rows = await session.execute(select(Inspection).where(col(Inspection.lot_no).in_(set(lot_nos))))
    return {
        row.lot_no: LotInspection(
            lot_no=row.lot_no,
            state=row.state,
            requested_at=row.requested_at,
            due_at=row.due_at,
            inspected_at=row.inspected_at,
            inspected_by=row.inspected_by,
            within_sla=row.within_sla,
        )
        for row in rows.scalars()
    }


async def ncrs_of_lots(
    session: AsyncSession, *, lot_nos: Iterable[str], item: str | None = None
) -> list[LotNcr]:
    """The NCRs of the given lots (of one item when given), each with its release pass if one
    was issued, oldest first."""
    query = (
        select(Ncr, ReleasePass)
        .outerjoin(ReleasePass, col(ReleasePass.ncr_no) == col(Ncr.ncr_no))
        .where(col(Ncr.lot_no).in_(set(lot_nos)))
        .order_by(col(Ncr.created_at), col(Ncr.ncr_no))
    )
    if item is not None:
        query = query.where(col(Ncr.item) == item)
    return [
        LotNcr(
            ncr_no=ncr.ncr_no,
            lot_no=ncr.lot_no,
            item=ncr.item,
            qty=ncr.qty,
            defect=ncr.defect,
            state=ncr.state,
            disposition=ncr.disposition,
            judged_by=ncr.judged_by,
            judged_at=ncr.judged_at,
            release_pass=None
            if release is None
            else LotReleasePass(
                pass_no=release.pass_no,
                reason=release.reason,
                qty=release.qty,
                issued_by=release.issued_by,
                issued_at=release.issued_at,
            ),
        )
        for ncr, release in (await session.execute(query)).all()
        if ncr.lot_no is not None  # every NCR the query finds has one: it matched a lot
    ]


async def open_ncr_qty(session: AsyncSession, *, items: Iterable[str]) -> dict[str, Decimal]:
    """Per item, the rejected quantity open incoming NCRs still hold (goods an assembly NCR
    concerns are the order's, picked, not on their way into stock)."""
    rows = await session.execute(
        select(col(Ncr.item), func.sum(col(Ncr.qty)))
        .where(
            col(Ncr.item).in_(list(items)),
            col(Ncr.state) == "open",
            col(Ncr.found_in) == "incoming",
        )
        .group_by(col(Ncr.item))
    )
    return {item: Decimal(qty or 0) for item, qty in rows.all()}
