"""Production activities: opening the order's production work order (§4.2), plus the
department's inbox and escalations."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col
from temporalio import activity

from services.engineering.models import BomLineRow
from services.production.models import ProductionOrder
from services.sales.models import OrderLine
from shared.activities import DbActivities
from shared.db import session_scope
from shared.escalations.activities import EscalationActivities
from shared.tasks.activities import TaskActivities
from shared.timeline import add_event
from shared.types import OpenProductionOrder


class ProductionActivities(DbActivities):
    """Production's automatic work; the worker registers the bound methods."""

    @activity.defn
    async def open_production_order(self, request: OpenProductionOrder) -> str:
        """Open the order's production work order for its BOM's product; once per order."""
        wo_no = f"PWO-{request.order_no}"
        async with session_scope(self._engine) as session:
            product = (
                await session.execute(
                    select(col(BomLineRow.item))
                    .where(
                        col(BomLineRow.order_no) == request.order_no,
                        col(BomLineRow.revision) == request.bom_revision,
                        col(BomLineRow.parent).is_(None),
                    )
                    .order_by(col(BomLineRow.line_no))
                )
            ).scalars().first() or request.order_no
            ordered = [
                Decimal(line.qty)
                for line in (
                    await session.execute(
                        select(OrderLine).where(col(OrderLine.order_no) == request.order_no)
                    )
                ).scalars()
                if line.item == product
            ]
            qty = sum(ordered, Decimal(0)) if ordered else Decimal(1)
            await session.execute(
                insert(ProductionOrder)
                .values(
                    wo_no=wo_no,
                    order_no=request.order_no,
                    bom_revision=request.bom_revision,
                    product=product,
                    qty=qty,
                    planned_start=request.planned_start,
                    planned_end=request.planned_end,
                    state="open",
                    created_at=request.at,
                )
                .on_conflict_do_nothing(index_elements=["wo_no"])
            )
            await add_event(
                session,
                key=f"{wo_no}:opened",
                order_no=request.order_no,
                at=request.at,
                kind="work_order",
                actor="orderflow",
                summary=f"production work order {wo_no} opened: {qty} {product}, "
                f"{request.planned_start} to {request.planned_end}",
                detail={"wo_no": wo_no},
            )
        return wo_no


ACTIVITIES: list[type] = [TaskActivities, EscalationActivities, ProductionActivities]
