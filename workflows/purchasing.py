"""P4 purchasing (§4.3-4.9): each requisition MRP proposed is approved where it must be, put
on a purchase order, and a promised date later than the material-required date warns the
planner at once and moves the order's forecast. One branch per requisition, side by side."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.procurement.activities import ProcurementActivities
    from shared import payloads as p
    from shared.types import (
        PlacePoInput,
        PoPlaced,
        RequisitionDecision,
        RequisitionSummary,
    )
    from workflows.common import end_of_day

if TYPE_CHECKING:
    from shared.order_state import PurchasingState
    from workflows.context import OrderContext


class PurchasingPhase:
    def __init__(self, state: PurchasingState, ctx: OrderContext) -> None:
        self.state, self.ctx = state, ctx

    def start(self, requisitions: list[RequisitionSummary]) -> None:
        """Work every requisition in its own branch of the order."""
        for requisition in requisitions:
            self.ctx.branch(self._procure(requisition))

    def rule_violation(self, payload: p.Payload) -> str | None:
        today = self.ctx.today()
        if isinstance(payload, p.PlacePo) and payload.promised_date <= today:
            return f"promised_date must be after today ({today})"
        return None

    async def _procure(self, requisition: RequisitionSummary) -> None:
        needs_approval = requisition.special or requisition.reason == "safety_stock"
        if needs_approval and not await self._approved(requisition):
            return
        await self._place(requisition)

    async def _approved(self, requisition: RequisitionSummary) -> bool:
        """Special items go to the division leader (§4.4), safety stock to the head (§4.5)."""
        order = self.ctx
        kind = (
            "procurement.special_approval"
            if requisition.special
            else ("procurement.stock_approval")
        )
        task = await order.book.open(
            kind,
            f"Approve buying {requisition.qty} {requisition.item} for {order.inp.order_no}",
            requisition.model_dump(mode="json"),
        )
        await order.wait_tasks(task)
        decision = p.Approval.parse(task.payload)
        state = "approved" if decision.approved else "rejected"
        await order.activity(
            ProcurementActivities.decide_requisition,
            RequisitionDecision(
                requisition_key=requisition.key,
                state=state,
                by=task.completed_by or "procurement",
                comment=decision.comment,
                at=workflow.now(),
            ),
            f"requisition {requisition.item} {state}",
        )
        if not decision.approved:
            self.state.rejected.append(requisition.key)
        return decision.approved

    async def _place(self, requisition: RequisitionSummary) -> None:
        order = self.ctx
        required = order.state.plan.milestones.get("material_required")
        task = await order.book.open(
            "procurement.place_po",
            f"Order {requisition.qty} {requisition.item} for {order.inp.order_no}",
            {
                **requisition.model_dump(mode="json"),
                "required_date": required.isoformat() if required else None,
            },
        )
        await order.wait_tasks(task)
        answer = p.PlacePo.parse(task.payload)
        placed: PoPlaced = await order.activity(
            ProcurementActivities.place_po,
            PlacePoInput(
                order_no=order.inp.order_no,
                requisition_key=requisition.key,
                po_no=answer.po_no,
                supplier=answer.supplier,
                promised_date=answer.promised_date,
                by=task.completed_by or "procurement",
                at=workflow.now(),
                unit_price=answer.unit_price,
            ),
            f"place PO for {requisition.qty} {requisition.item} with {answer.supplier}",
        )
        self.state.placed[requisition.key] = placed
        if required and answer.promised_date > required:
            await self._late_supply(requisition, placed, answer.promised_date, required)

    async def _late_supply(
        self, requisition: RequisitionSummary, placed: PoPlaced, promised: date, required: date
    ) -> None:
        """A promise after the required date warns the planner at once (§4.8-4.9)."""
        order = self.ctx
        await order.escalate(
            key=f"{requisition.key}:late_supply",
            kind="late_supply",
            level=1,
            department="planning",
            role="planning",
            due_at=end_of_day(required),
            message=f"{placed.po_no}: {requisition.item} promised {promised}, "
            f"{(promised - required).days} day(s) after it is required ({required})",
        )
        await order.reforecast("material_required", promised)
