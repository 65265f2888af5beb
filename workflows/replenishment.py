"""StockReplenishmentWorkflow (§4.5): one safety-stock requisition of the daily MRP run
(id `replenish-<requisition key>`) approved by the procurement head, then put on a purchase
order that belongs to no customer order. Its tasks sit in the procurement inbox with an empty
order number."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.procurement.activities import ProcurementActivities
    from shared import payloads as p
    from shared.material_types import StockReplenishment
    from shared.types import PlacePoInput, PoPlaced, RequisitionDecision, RequisitionSummary
    from workflows.base import TaskWorkflow
    from workflows.tasks import TaskState

# Stock bought for no order: the inbox column is NOT NULL, so its tasks carry "".
NO_ORDER = ""


@workflow.defn
class StockReplenishmentWorkflow(TaskWorkflow):
    """Approve and buy one safety-stock requisition; returns its state at the end."""

    @workflow.init
    def __init__(self, inp: StockReplenishment) -> None:
        self.inp = inp
        self._init_tasks(NO_ORDER, inp.queue_prefix)
        self.state = "open"
        self.placed: PoPlaced | None = None

    @workflow.run
    async def run(self, inp: StockReplenishment) -> str:
        requisition = inp.requisition
        if await self._approved(requisition):
            await self._place(requisition)
        self.describe(f"requisition {self.state}")
        self._finished = True
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.state

    @workflow.query
    def status(self) -> dict[str, object]:
        """Where the requisition stands (for operations and tests)."""
        return {
            "requisition": self.inp.requisition.key,
            "state": self.state,
            "po_no": self.placed.po_no if self.placed else None,
            "open_tasks": [t.model_dump(mode="json") for t in self.book.open_tasks()],
        }

    def headline(self) -> str:
        r = self.inp.requisition
        return f"**safety stock** · {r.qty} {r.item} · `{r.key}`"

    def stage_of_update(self) -> str:
        return self.state

    def rule_violation(self, task: TaskState, payload: p.Payload) -> str | None:
        today = self.today()
        if isinstance(payload, p.PlacePo) and payload.promised_date <= today:
            return f"promised_date must be after today ({today})"
        return None

    async def _approved(self, requisition: RequisitionSummary) -> bool:
        """Safety-stock requisitions need the procurement head (§4.5)."""
        task = await self.book.open(
            "procurement.stock_approval",
            f"Approve buying {requisition.qty} {requisition.item} for safety stock",
            requisition.model_dump(mode="json"),
        )
        await self.wait_tasks(task)
        decision = p.Approval.parse(task.payload)
        self.state = "approved" if decision.approved else "rejected"
        await self.activity(
            ProcurementActivities.decide_requisition,
            RequisitionDecision(
                requisition_key=requisition.key,
                state=self.state,
                by=task.completed_by or "procurement",
                comment=decision.comment,
                at=workflow.now(),
            ),
            f"safety-stock requisition {requisition.item} {self.state}",
        )
        return decision.approved

    async def _place(self, requisition: RequisitionSummary) -> None:
        task = await self.book.open(
            "procurement.place_po",
            f"Order {requisition.qty} {requisition.item} for safety stock",
            {**requisition.model_dump(mode="json"), "required_date": None},
        )
        await self.wait_tasks(task)
        answer = p.PlacePo.parse(task.payload)
        self.placed = await self.activity(
            ProcurementActivities.place_po,
            PlacePoInput(
                order_no=None,
                requisition_key=requisition.key,
                po_no=answer.po_no,
                supplier=answer.supplier,
                promised_date=answer.promised_date,
                by=task.completed_by or "procurement",
                at=workflow.now(),
                unit_price=answer.unit_price,
            ),
            f"place stock PO for {requisition.qty} {requisition.item} with {answer.supplier}",
        )
        self.state = "ordered"
