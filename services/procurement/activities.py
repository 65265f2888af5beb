"""Procurement activities: MRP on a released BOM, writing requisitions, work orders and
reservations once per order and BOM revision (P4.1)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.engineering.models import BomLineRow
from services.procurement import mrp
from services.procurement.daily import DailyMrpActivities
from services.procurement.delta import DcnMrpActivities
from services.procurement.models import (
    PoLine,
    PurchaseOrder,
    Requirement,
    Requisition,
    WorkOrder,
)
from services.sales.models import OrderLine
from services.warehouse.models import Reservation, StockItem
from shared.activities import DbActivities
from shared.db import session_scope
from shared.escalations.activities import EscalationActivities
from shared.tasks.activities import TaskActivities
from shared.timeline import add_event
from shared.types import (
    MrpRun,
    MrpRunResult,
    PlacePoInput,
    PoPlaced,
    RequisitionDecision,
    RequisitionSummary,
)


class ProcurementActivities(DbActivities):
    """Material control's automatic work; the worker registers the bound methods."""

    @activity.defn
    async def run_mrp(self, run: MrpRun) -> MrpRunResult:
        """Net the order's BOM against free stock and unallocated supply; store the proposals.

        Safety stock is left to the daily run over all items (P4.2), so an order's run proposes
        what the order itself needs.
        """
        async with session_scope(self._engine) as session:
            bom = await _bom(session, run.order_no, run.bom_revision)
            order_qty = await _order_qty(session, run.order_no, bom)
            supply = await _supply(session, run.order_no, {line.item for line in bom})
            result = mrp.plan(run.order_no, run.bom_revision, bom, order_qty, supply)
            for req in result.requisitions:
                await session.execute(
                    insert(Requisition)
                    .values(
                        key=req.key,
                        order_no=run.order_no,
                        bom_revision=run.bom_revision,
                        item=req.item,
                        qty=req.qty,
                        supplier=req.supplier,
                        lead_days=req.lead_days,
                        special=req.special,
                        reason=req.reason,
                        state="open",
                        required_date=run.required_date,
                        created_at=run.at,
                    )
                    .on_conflict_do_nothing(index_elements=["key"])
                )
            for wo in result.work_orders:
                await session.execute(
                    insert(WorkOrder)
                    .values(
                        key=wo.key,
                        order_no=run.order_no,
                        bom_revision=run.bom_revision,
                        item=wo.item,
                        qty=wo.qty,
                        state="open",
                        required_date=run.required_date,
                        created_at=run.at,
                    )
                    .on_conflict_do_nothing(index_elements=["key"])
                )
            await _store_requirements(session, run, result)
            reserved = {item: qty for item, qty in result.reserve.items() if qty > 0}
            for item, qty in reserved.items():
                await session.execute(
                    insert(Reservation)
                    .values(order_no=run.order_no, item=item, qty=qty, created_at=run.at)
                    .on_conflict_do_nothing()
                )
            await add_event(
                session,
                key=f"{run.order_no}:mrp:{run.bom_revision}",
                order_no=run.order_no,
                at=run.at,
                kind="mrp",
                actor="orderflow",
                summary=f"MRP on BOM revision {run.bom_revision}: {len(result.requisitions)} "
                f"requisition(s), {len(result.work_orders)} work order(s), "
                f"{len(reserved)} item(s) reserved from stock",
                detail={"net": {k: str(v) for k, v in result.net.items() if v > 0}},
            )
        return MrpRunResult(
            requisitions=[
                RequisitionSummary(
                    key=r.key,
                    item=r.item,
                    qty=r.qty,
                    supplier=r.supplier,
                    special=r.special,
                    reason=r.reason,
                )
                for r in result.requisitions
            ],
            work_orders=len(result.work_orders),
            reserved=reserved,
        )

    @activity.defn
    async def decide_requisition(self, decision: RequisitionDecision) -> None:
        """Record an approval or rejection of a requisition (P4.3)."""
        async with session_scope(self._engine) as session:
            requisition = await session.get(Requisition, decision.requisition_key)
            if requisition is None or requisition.state not in ("open", decision.state):
                return
            requisition.state = decision.state
            if requisition.order_no:  # stock requisitions have no order timeline
                await add_event(
                    session,
                    key=f"{decision.requisition_key}:{decision.state}",
                    order_no=requisition.order_no,
                    at=decision.at,
                    kind="requisition",
                    actor=decision.by,
                    summary=f"requisition for {requisition.qty} {requisition.item} {decision.state}"
                    + (f": {decision.comment}" if decision.comment else ""),
                    detail={"key": decision.requisition_key, "state": decision.state},
                )

    @activity.defn
    async def place_po(self, placing: PlacePoInput) -> PoPlaced:
        """Put a requisition on a purchase order (a new one, or a line of the supplier's PO of
        the same number); once per requisition."""
        async with session_scope(self._engine) as session:
            requisition = await session.get(Requisition, placing.requisition_key)
            if requisition is None:
                raise ApplicationError(
                    f"requisition {placing.requisition_key} does not exist", non_retryable=True
                )
            existing = (
                await session.execute(
                    select(PoLine).where(col(PoLine.requisition_key) == placing.requisition_key)
                )
            ).scalar_one_or_none()
            if existing is not None:  # a retry after the first attempt committed
                return PoPlaced(po_no=existing.po_no, item=existing.item, qty=existing.qty)
            owner = placing.order_no or "STOCK"  # a stock PO (§4.5) belongs to no order
            po_no = placing.po_no or f"PO-{owner}-{placing.requisition_key[:8]}"
            po = await session.get(PurchaseOrder, po_no)
            if po is not None and po.supplier != placing.supplier:
                # The number is another supplier's: keep theirs intact, number this one apart.
                po_no = f"{po_no}-{placing.requisition_key[:8]}"
                po = await session.get(PurchaseOrder, po_no)
            if po is None:
                session.add(
                    PurchaseOrder(
                        po_no=po_no,
                        supplier=placing.supplier,
                        order_no=placing.order_no,
                        promised_date=placing.promised_date,
                        state="open",
                        created_by=placing.by,
                        created_at=placing.at,
                    )
                )
                await session.flush()
            lines = await session.execute(select(func.count()).where(col(PoLine.po_no) == po_no))
            session.add(
                PoLine(
                    po_no=po_no,
                    line_no=lines.scalar_one() + 1,
                    requisition_key=requisition.key,
                    item=requisition.item,
                    qty=requisition.qty,
                    unit_price=placing.unit_price,
                )
            )
            requisition.state = "ordered"
            if placing.order_no is not None:  # stock bought for no order has no timeline
                await add_event(
                    session,
                    key=f"{requisition.key}:ordered",
                    order_no=placing.order_no,
                    at=placing.at,
                    kind="purchase_order",
                    actor=placing.by,
                    summary=f"{requisition.qty} {requisition.item} ordered from "
                    f"{placing.supplier} on {po_no}, promised {placing.promised_date}",
                    detail={"po_no": po_no, "promised_date": placing.promised_date.isoformat()},
                )
        return PoPlaced(po_no=po_no, item=requisition.item, qty=requisition.qty)


async def _store_requirements(session: AsyncSession, run: MrpRun, result: mrp.MrpResult) -> None:
    """What the order needs from stock under this revision: buy items in full, make items for
    the part stock covers (the rest is made on a work order from its own components)."""
    for line in result.lines.values():
        from_stock = (
            line.requirement
            if line.make_or_buy == "buy"
            else line.requirement - line.order_shortage
        )
        if from_stock <= 0:
            continue
        values = {
            "bom_revision": run.bom_revision,
            "qty": from_stock,
            "make_or_buy": line.make_or_buy,
            "special": line.special,
            "required_date": run.required_date,
            "updated_at": run.at,
        }
        await session.execute(
            insert(Requirement)
            .values(order_no=run.order_no, item=line.item, **values)
            .on_conflict_do_update(index_elements=["order_no", "item"], set_=values)
        )


async def _bom(session: AsyncSession, order_no: str, revision: int) -> list[mrp.BomItem]:
    rows = (
        await session.execute(
            select(BomLineRow)
            .where(col(BomLineRow.order_no) == order_no, col(BomLineRow.revision) == revision)
            .order_by(col(BomLineRow.line_no))
        )
    ).scalars()
    return [
        mrp.BomItem(
            item=row.item,
            parent=row.parent,
            qty_per=Decimal(row.qty_per),
            make_or_buy="make" if row.make_or_buy == "make" else "buy",
            lead_days=row.lead_days,
            supplier=row.supplier,
            special=row.special,
        )
        for row in rows
    ]


async def _order_qty(session: AsyncSession, order_no: str, bom: list[mrp.BomItem]) -> Decimal:
    """How many of the BOM's product the order wants: the order line of its top item, else 1
    (the BOM's top-level quantities then describe the whole order)."""
    tops = {line.item for line in bom if line.parent is None}
    lines = (
        await session.execute(select(OrderLine).where(col(OrderLine.order_no) == order_no))
    ).scalars()
    matching = [Decimal(line.qty) for line in lines if line.item in tops]
    return sum(matching, Decimal(0)) if matching else Decimal(1)


async def _supply(session: AsyncSession, order_no: str, items: set[str]) -> dict[str, mrp.Supply]:
    """Free stock (on hand less every reservation) and open PO quantity not bought for an order."""
    on_hand = {
        row.item: Decimal(row.on_hand)
        for row in (
            await session.execute(select(StockItem).where(col(StockItem.item).in_(items)))
        ).scalars()
    }
    reserved: dict[str, Decimal] = defaultdict(Decimal)
    for item, qty in (
        await session.execute(
            select(
                col(Reservation.item),
                func.sum(col(Reservation.qty) - col(Reservation.picked)),
            )
            .where(col(Reservation.item).in_(items), col(Reservation.order_no) != order_no)
            .group_by(col(Reservation.item))
        )
    ).all():
        reserved[item] = Decimal(qty)
    open_po: dict[str, Decimal] = defaultdict(Decimal)
    for item, qty in (
        await session.execute(
            select(col(PoLine.item), func.sum(col(PoLine.qty) - col(PoLine.qty_received)))
            .join(PurchaseOrder, col(PurchaseOrder.po_no) == col(PoLine.po_no))
            .where(
                col(PoLine.item).in_(items),
                col(PurchaseOrder.state) == "open",
                col(PurchaseOrder.order_no).is_(None),
            )
            .group_by(col(PoLine.item))
        )
    ).all():
        open_po[item] = max(Decimal(qty), Decimal(0))
    return {
        item: mrp.Supply(
            free_stock=max(on_hand.get(item, Decimal(0)) - reserved[item], Decimal(0)),
            open_po=open_po[item],
        )
        for item in items
    }


ACTIVITIES: list[type] = [
    TaskActivities,
    EscalationActivities,
    ProcurementActivities,
    DailyMrpActivities,
    DcnMrpActivities,
]
