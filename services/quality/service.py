"""Quality's reads: the inspection basis engineering and sales hand over (§3.3)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.engineering.service import released_bom, released_drawings
from services.quality.schemas import InspectionBasis
from services.sales.models import Order


async def inspection_basis(session: AsyncSession, order_no: str) -> InspectionBasis | None:
    """The agreement, drawings and bought-in items quality inspects against; None if no order."""
    order = await session.get(Order, order_no)
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
