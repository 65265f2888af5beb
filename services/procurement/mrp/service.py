"""An order's material as MRP reads and writes it: the BOM revision, the order quantity, the
supply it may net against, and the proposals and requirements a run stores. Shared by the run
on a released BOM (`activities.py`), MRP on a design or customer change (`changes.py`) and the
assessment of a customer change (`services/sales/changes.py`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.engineering.service import bom_rows
from services.procurement import mrp
from services.procurement.models import Requirement, Requisition, WorkOrder
from services.procurement.mrp.bulk import insert_batches, table_of
from services.procurement.service import open_stock_po_qty
from services.sales.service import order_lines
from services.warehouse.stock import free_stock
from shared.types import MrpRun, RequisitionSummary


async def order_bom(session: AsyncSession, order_no: str, revision: int) -> list[mrp.BomItem]:
    """One revision of the order's BOM, as MRP reads it."""
    return bom_items(await bom_rows(session, order_no=order_no, revision=revision))


def bom_items(lines: Iterable[Any]) -> list[mrp.BomItem]:
    """BOM lines (stored rows or a payload's lines) as MRP's items."""
    return [
        mrp.BomItem(
            item=line.item,
            parent=line.parent,
            qty_per=Decimal(str(line.qty_per)),
            make_or_buy="make" if line.make_or_buy == "make" else "buy",
            lead_days=line.lead_days,
            supplier=line.supplier,
            special=bool(line.special),
        )
        for line in lines
    ]


async def order_qty(session: AsyncSession, order_no: str, bom: list[mrp.BomItem]) -> Decimal:
    """How many of the BOM's product the order wants: the order line of its top item, else 1
    (the BOM's top-level quantities then describe the whole order)."""
    tops = {line.item for line in bom if line.parent is None}
    lines = await order_lines(session, order_no=order_no)
    matching = [Decimal(line.qty) for line in lines if line.item in tops]
    return sum(matching, Decimal(0)) if matching else Decimal(1)


async def free_supply(
    session: AsyncSession, order_no: str, items: set[str]
) -> dict[str, mrp.Supply]:
    """Free stock (on hand less every reservation) and open PO quantity not bought for an order."""
    free = await free_stock(session, items=items, except_order=order_no)
    open_po = await open_stock_po_qty(session, items=items)
    return {
        item: mrp.Supply(free_stock=free[item], open_po=open_po.get(item, Decimal(0)))
        for item in items
    }


def requisition_summary(
    proposal: mrp.RequisitionProposal, *, engineering_change: bool = False
) -> RequisitionSummary:
    """What the order's workflow buys from a stored requisition proposal."""
    return RequisitionSummary(
        key=proposal.key,
        item=proposal.item,
        qty=proposal.qty,
        supplier=proposal.supplier,
        special=engineering_change or proposal.special,
        reason=proposal.reason,
    )


async def store_proposals(
    session: AsyncSession,
    *,
    order_no: str,
    bom_revision: int,
    requisitions: Iterable[mrp.RequisitionProposal],
    work_orders: Iterable[mrp.WorkOrderProposal],
    required_date: date | None,
    at: datetime,
    engineering_change: bool = False,
) -> None:
    """MRP's requisitions and work orders for an order, once per key (ON CONFLICT DO NOTHING:
    a retried run inserts nothing), in batches of rows rather than a statement per proposal.
    An engineering change's requisitions are special: they go to the division leader (§4.4)."""
    requisition_rows = [
        {
            "key": req.key,
            "order_no": order_no,
            "bom_revision": bom_revision,
            "item": req.item,
            "qty": req.qty,
            "supplier": req.supplier,
            "lead_days": req.lead_days,
            "special": engineering_change or req.special,
            "reason": req.reason,
            "state": "open",
            "required_date": required_date,
            "created_at": at,
        }
        for req in requisitions
    ]
    await insert_batches(
        session,
        insert(table_of(Requisition)).on_conflict_do_nothing(index_elements=["key"]),
        requisition_rows,
    )
    work_order_rows = [
        {
            "key": wo.key,
            "order_no": order_no,
            "bom_revision": bom_revision,
            "item": wo.item,
            "qty": wo.qty,
            "state": "open",
            "required_date": required_date,
            "created_at": at,
        }
        for wo in work_orders
    ]
    await insert_batches(
        session,
        insert(table_of(WorkOrder)).on_conflict_do_nothing(index_elements=["key"]),
        work_order_rows,
    )


async def store_requirements(session: AsyncSession, run: MrpRun, result: mrp.MrpResult) -> None:
    """What the order needs from stock under this revision: buy items in full, make items for
    the part stock covers (the rest is made on a work order from its own components). One
    upsert per batch of items; a stored item's row takes the new values."""
    rows = []
    for line in result.lines.values():
        from_stock = (
            line.requirement
            if line.make_or_buy == "buy"
            else line.requirement - line.order_shortage
        )
        if from_stock <= 0:
            continue
        rows.append(
            {
                "order_no": run.order_no,
                "item": line.item,
                "bom_revision": run.bom_revision,
                "qty": from_stock,
                "make_or_buy": line.make_or_buy,
                "special": line.special,
                "required_date": run.required_date,
                "updated_at": run.at,
            }
        )
    upsert = insert(table_of(Requirement))
    updated = ("bom_revision", "qty", "make_or_buy", "special", "required_date", "updated_at")
    await insert_batches(
        session,
        upsert.on_conflict_do_update(
            index_elements=["order_no", "item"],
            set_={name: upsert.excluded[name] for name in updated},
        ),
        rows,
    )
