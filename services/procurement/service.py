"""Procurement reads: requisitions, work orders and purchase orders, filtered."""

from __future__ import annotations

from collections import defaultdict
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.procurement.models import PoLine, PurchaseOrder, Requisition, WorkOrder
from services.procurement.schemas import (
    PoLinePublic,
    PurchaseOrderPublic,
    RequisitionPublic,
    WorkOrderPublic,
)

Row = TypeVar("Row", Requisition, WorkOrder, PurchaseOrder)


async def _rows(
    session: AsyncSession, model: type[Row], *, order_no: str | None, state: str | None
) -> list[Row]:
    """Rows of `model`, oldest first (then by key), filtered by order and state when given."""
    keys = model.__table__.primary_key.columns  # type: ignore[attr-defined]
    query = select(model).order_by(col(model.created_at), *keys)
    if order_no:
        query = query.where(col(model.order_no) == order_no)
    if state:
        query = query.where(col(model.state) == state)
    return list((await session.execute(query)).scalars())


async def list_requisitions(
    session: AsyncSession, *, order_no: str | None, state: str | None
) -> list[RequisitionPublic]:
    rows = await _rows(session, Requisition, order_no=order_no, state=state)
    return [RequisitionPublic.model_validate(row, from_attributes=True) for row in rows]


async def list_work_orders(
    session: AsyncSession, *, order_no: str | None, state: str | None
) -> list[WorkOrderPublic]:
    rows = await _rows(session, WorkOrder, order_no=order_no, state=state)
    return [WorkOrderPublic.model_validate(row, from_attributes=True) for row in rows]


async def list_purchase_orders(
    session: AsyncSession, *, order_no: str | None, state: str | None
) -> list[PurchaseOrderPublic]:
    orders = await _rows(session, PurchaseOrder, order_no=order_no, state=state)
    lines: dict[str, list[PoLinePublic]] = defaultdict(list)
    if orders:
        rows = (
            await session.execute(
                select(PoLine)
                .where(col(PoLine.po_no).in_([o.po_no for o in orders]))
                .order_by(col(PoLine.po_no), col(PoLine.line_no))
            )
        ).scalars()
        for row in rows:
            lines[row.po_no].append(PoLinePublic.model_validate(row, from_attributes=True))
    return [
        PurchaseOrderPublic(
            po_no=o.po_no,
            supplier=o.supplier,
            order_no=o.order_no,
            promised_date=o.promised_date,
            state=o.state,
            lines=lines[o.po_no],
        )
        for o in orders
    ]
