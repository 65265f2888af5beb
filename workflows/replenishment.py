"""StockReplenishmentWorkflow (§4.5): one safety-stock requisition of a daily MRP run from
before safety stock was bought by RequisitionWorkflow (id `replenish-<requisition key>`),
approved by the procurement head, then put on a purchase order that belongs to no customer
order. Kept so those still running finish; it runs the same `Buying` flow. Its tasks sit in
the procurement inbox with an empty order number."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from shared import payloads as p
    from shared.material_types import StockReplenishment
    from workflows.base import TaskWorkflow
    from workflows.requisition import NO_ORDER, Buying, promise_violation
    from workflows.tasks import TaskState


@workflow.defn
class StockReplenishmentWorkflow(TaskWorkflow):
    """Approve and buy one safety-stock requisition; returns its state at the end."""

    @workflow.init
    def __init__(self, inp: StockReplenishment) -> None:
        self.inp = inp
        self._init_tasks(NO_ORDER, inp.queue_prefix)
        self.buying = Buying(self, inp.requisition, None)

    @workflow.run
    async def run(self, inp: StockReplenishment) -> str:
        await self.buying.run(lambda: None)
        self.describe(f"requisition {self.buying.state}")
        self._finished = True
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.buying.state

    @workflow.signal
    def still_running(self) -> None:
        """The daily MRP run asks whether this one still buys its requisition (it does)."""

    @workflow.query
    def status(self) -> dict[str, object]:
        """Where the requisition stands (for operations and tests)."""
        return {
            "requisition": self.inp.requisition.key,
            "state": self.buying.state,
            "po_no": self.buying.placed.po_no if self.buying.placed else None,
            "open_tasks": [t.model_dump(mode="json") for t in self.book.open_tasks()],
        }

    def headline(self) -> str:
        r = self.inp.requisition
        return f"**safety stock** · {r.qty} {r.item} · `{r.key}`"

    def stage_of_update(self) -> str:
        return self.buying.state

    def rule_violation(self, task: TaskState, payload: p.Payload) -> str | None:
        return promise_violation(payload, self.today())
