"""Procurement reads: requisitions, work orders and purchase orders, filtered."""

from __future__ import annotations

from collections import defaultdict

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


async def list_requisitions(
    session: AsyncSession, *, order_no: str | None, state: str | None
) -> list[RequisitionPublic]:
    query = select(Requisition).order_by(col(Requisition.created_at), col(Requisition.item))
    if order_no:
        query = query.where(col(Requisition.order_no) == order_no)
    if state:
        query = query.where(col(Requisition.state) == state)
    rows = (await session.execute(query)).scalars()
    return [RequisitionPublic.model_validate(row, from_attributes=True) for row in rows]


async def list_work_orders(
    session: AsyncSession, *, order_no: str | None, state: str | None
) -> list[WorkOrderPublic]:
    query = select(WorkOrder).order_by(col(WorkOrder.created_at), col(WorkOrder.item))
    if order_no:
        query = query.where(col(WorkOrder.order_no) == order_no)
    if state:
        query = query.where(col(WorkOrder.state) == state)
    rows = (await session.execute(query)).scalars()
    return [WorkOrderPublic.model_validate(row, from_attributes=True) for row in rows]


async def list_purchase_orders(
    session: AsyncSession, *, order_no: str | None, state: str | None
) -> list[PurchaseOrderPublic]:
    query = select(PurchaseOrder).order_by(col(PurchaseOrder.created_at))
    if order_no:
        query = query.where(col(PurchaseOrder.order_no) == order_no)
    if state:
        query = query.where(col(PurchaseOrder.state) == state)
    orders = list((await session.execute(query)).scalars())
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
