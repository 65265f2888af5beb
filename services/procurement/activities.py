"""Procurement activities: MRP on a released BOM, writing requisitions, work orders and
reservations once per order and BOM revision (P4.1)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import col
from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.procurement import mrp
from services.procurement.models import (
    PoLine,
    PurchaseOrder,
    Requisition,
)
from services.procurement.mrp.changes import DcnMrpActivities
from services.procurement.mrp.daily import DailyMrpActivities
from services.procurement.mrp.service import (
    free_supply,
    order_bom,
    order_qty,
    store_proposals,
    store_requirements,
)
from services.procurement.promises import PromiseActivities
from services.procurement.requisition_starts import RequisitionStartActivities
from services.warehouse.stock import reserve_once_many
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
            bom = await order_bom(session, run.order_no, run.bom_revision)
            qty = await order_qty(session, run.order_no, bom)
            supply = await free_supply(session, run.order_no, {line.item for line in bom})
            result = mrp.plan(run.order_no, run.bom_revision, bom, qty, supply)
            await store_proposals(
                session,
                order_no=run.order_no,
                bom_revision=run.bom_revision,
                requisitions=result.requisitions,
                work_orders=result.work_orders,
                required_date=run.required_date,
                at=run.at,
            )
            await store_requirements(session, run, result)
            reserved = {item: qty for item, qty in result.reserve.items() if qty > 0}
            await reserve_once_many(session, order_no=run.order_no, reserved=reserved, at=run.at)
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
        # Counts only (issue 17): the order's workflow carries no list that grows with its
        # BOM; `start_requisitions` reads the requisitions back from the database.
        return MrpRunResult(
            work_orders=len(result.work_orders),
            requisition_count=len(result.requisitions),
            reserved_count=len(reserved),
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


ACTIVITIES: list[type] = [
    TaskActivities,
    EscalationActivities,
    ProcurementActivities,
    DailyMrpActivities,
    DcnMrpActivities,
    PromiseActivities,
    RequisitionStartActivities,
]
