"""P4 purchasing (§4.3-4.9): each requisition MRP proposed is approved where it must be, put
on a purchase order, and a promised date later than the material-required date warns the
planner at once and moves the order's forecast.

Each requisition runs as its own RequisitionWorkflow, started by the order in batches; it
tells the order by signal when it has settled (rejected, ordered, cancelled), and the order
keeps only the keys of those still open, so it may continue as new while they run. Orders
started before that run each requisition as a branch of their own and still do
(`workflow.patched("requisition-children")`).

Since issue 17 the requisitions of a BOM release are started by one procurement activity that
reads them from the database (`start_released`, patch `requisitions-in-bulk`): the order
counts them (`bulk`) instead of keeping their keys, hears from them only of a late promise,
and asks the database whether any is still being bought when it closes, and procurement to
cancel them when it is cancelled.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from temporalio import workflow
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import FailureError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from services.planning.scheduling import shift_forecast
    from services.procurement.requisition_starts import RequisitionStartActivities
    from shared import payloads as p
    from shared.temporal import department_queue, workflow_queue
    from shared.types import (
        RequisitionInput,
        RequisitionsCancelled,
        RequisitionSettled,
        RequisitionSummary,
        StartRequisitions,
    )
    from shared.workflow_ids import requisition_workflow_id
    from workflows.common import DB_RETRY
    from workflows.requisition import Buying, RequisitionWorkflow, promise_violation

if TYPE_CHECKING:
    from shared.order_state import PurchasingState
    from workflows.context import OrderContext

# Child starts (or cancellations) per workflow task: a 2,000-line BOM does not flood one task.
BATCH = 50
# Patch: a BOM release's requisitions are started by one procurement activity.
REQUISITIONS_IN_BULK = "requisitions-in-bulk"
# The bulk activities start or cancel thousands of workflows, heartbeating per batch: a
# retry resumes where the heartbeat left off.
BULK_TIMEOUT = timedelta(minutes=30)
BULK_HEARTBEAT = timedelta(minutes=1)
# Patch: a late promise the forecast has taken in already is not recorded again.
LATE_PROMISE_TAKEN = "late-promise-taken"
# How often a closing order asks again whether its bulk requisitions are all settled.
SETTLED_RECHECK = timedelta(days=1)


class PurchasingPhase:
    def __init__(self, state: PurchasingState, ctx: OrderContext) -> None:
        self.state, self.ctx = state, ctx
        # Batches of starts under way (each on a branch, so never across continue-as-new).
        self._starting = 0

    def start(self, requisitions: list[RequisitionSummary]) -> None:
        """Buy every requisition, each in its own workflow (in its own branch for orders
        started before that)."""
        if not workflow.patched("requisition-children"):
            for requisition in requisitions:
                self.ctx.branch(self._procure(requisition))
            return
        if not requisitions or self.ctx.state.cancellation is not None:
            return  # a cancelled order buys nothing more
        self._starting += 1
        self.ctx.branch(self._start_children(list(requisitions)))

    def start_released(self, bom_revision: int) -> None:
        """Buy every requisition MRP stored for the released `bom_revision`: procurement
        starts their workflows, the order's history gets one activity."""
        if self.ctx.state.cancellation is not None:
            return
        self._starting += 1
        self.ctx.branch(self._start_in_bulk(bom_revision))

    def all_settled(self) -> bool:
        """Every requisition the order started has settled (none is being started); those
        started in bulk are asked of the database by `bulk_settled`."""
        return not self.state.open and self._starting == 0

    async def bulk_settled(self) -> None:
        """Once none of the requisitions procurement started for the order is still being
        bought (orders with none take no step here)."""
        if not self.state.bulk:
            return
        order = self.ctx
        while await order.activity(
            RequisitionStartActivities.unsettled_requisitions,
            order.inp.order_no,
            f"requisitions of {order.inp.order_no} still being bought",
        ):
            await order.sleep_until(
                workflow.now() + SETTLED_RECHECK,
                "waiting for the order's requisitions to be ordered or rejected",
            )

    def settled(self, outcome: RequisitionSettled) -> None:
        """A requisition's workflow has settled; a late promise moves the forecast (§4.9)."""
        if self.state.open.pop(outcome.key, None) is not None:
            self.state.settled += 1
        self.state.withdrawn += outcome.withdrawn
        if outcome.late:
            self.ctx.branch(self._late_promise(outcome))

    async def starts_done(self) -> None:
        """Once no requisition is being started (a cancelled order starts none after this)."""
        # Only awaited when there is something to wait for: orders replaying from before
        # requisitions had their own workflows take no extra step here.
        if self._starting:
            await workflow.wait_condition(lambda: self._starting == 0)

    async def cancel_requisitions(self) -> list[str]:
        """Cancel every requisition still open; each withdraws its tasks and says it settled.
        Returns, once all have, the tasks they withdrew."""
        await self.starts_done()
        running = list(self.state.open.items())
        for first in range(0, len(running), BATCH):
            await asyncio.gather(*(self._cancel(*kv) for kv in running[first : first + BATCH]))
        if self.state.open:
            await self.ctx.until(
                lambda: not self.state.open,
                "waiting for the requisitions' own workflows to withdraw their tasks",
            )
        if not self.state.bulk:
            return self.state.withdrawn
        stopped: RequisitionsCancelled = await self._bulk(
            RequisitionStartActivities.cancel_requisitions,
            self.ctx.inp.order_no,
            f"cancel the requisitions of {self.ctx.inp.order_no} still being bought",
        )
        return [*self.state.withdrawn, *stopped.withdrawn]

    def rule_violation(self, payload: p.Payload) -> str | None:
        return promise_violation(payload, self.ctx.today())

    # -- requisitions started in bulk by procurement -------------------------------------------

    async def _start_in_bulk(self, bom_revision: int) -> None:
        order = self.ctx
        try:
            started: int = await self._bulk(
                RequisitionStartActivities.start_requisitions,
                StartRequisitions(
                    order_no=order.inp.order_no,
                    bom_revision=bom_revision,
                    queue_prefix=order.inp.queue_prefix,
                    required_date=order.state.plan.milestones.get("material_required"),
                ),
                f"start the requisitions of BOM revision {bom_revision} of {order.inp.order_no}",
            )
            self.state.bulk += started
        finally:
            self._starting -= 1

    async def _bulk(self, method: Any, arg: Any, summary: str) -> Any:
        """A bulk activity of procurement's, with the time and heartbeat it needs."""
        return await workflow.execute_activity_method(
            method,
            arg,
            task_queue=department_queue(self.ctx.inp.queue_prefix, "procurement"),
            start_to_close_timeout=BULK_TIMEOUT,
            heartbeat_timeout=BULK_HEARTBEAT,
            retry_policy=DB_RETRY,
            summary=summary[:200],
        )

    # -- requisitions as child workflows --------------------------------------------------------

    async def _start_children(self, requisitions: list[RequisitionSummary]) -> None:
        try:
            for first in range(0, len(requisitions), BATCH):
                batch = requisitions[first : first + BATCH]
                await asyncio.gather(*(self._start_child(r) for r in batch))
        finally:
            self._starting -= 1

    async def _start_child(self, requisition: RequisitionSummary) -> None:
        order = self.ctx
        child_id = requisition_workflow_id(requisition.key)
        if requisition.key in self.state.open:
            return
        self.state.open[requisition.key] = child_id
        try:
            await workflow.start_child_workflow(
                RequisitionWorkflow.run,
                RequisitionInput(
                    requisition=requisition,
                    order_no=order.inp.order_no,
                    queue_prefix=order.inp.queue_prefix,
                    required_date=order.state.plan.milestones.get("material_required"),
                ),
                id=child_id,
                task_queue=workflow_queue(order.inp.queue_prefix),
                # A continue-as-new of the order must not end its requisitions; a cancellation
                # of the order cancels them itself.
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                static_summary=f"buy {requisition.qty} {requisition.item} for {order.inp.order_no}"[
                    :200
                ],
            )
        except WorkflowAlreadyStartedError:
            # Started before (a repeated start): that one buys it, and may have settled
            # already, so the order does not wait for it.
            self.state.open.pop(requisition.key, None)

    async def _cancel(self, key: str, child_id: str) -> None:
        try:
            await workflow.get_external_workflow_handle(child_id).cancel()
        except FailureError:  # it has ended already: it told the order before it did
            self.state.open.pop(key, None)

    async def _late_promise(self, outcome: RequisitionSettled) -> None:
        """Move the forecast to the promise, then let the requisition answer its buyer."""
        try:
            promised, plan = outcome.promised_date, self.ctx.state.plan
            if promised and self.ctx.state.status == "active":
                # A promise the forecast has taken in already (another requisition's as late)
                # records nothing again.
                unchanged = plan.forecast == shift_forecast(
                    plan.milestones, plan.forecast, "material_required", promised
                )
                if not (unchanged and workflow.patched(LATE_PROMISE_TAKEN)):
                    await self.ctx.reforecast("material_required", promised)
        finally:
            child = workflow.get_external_workflow_handle(requisition_workflow_id(outcome.key))
            try:
                await child.signal(RequisitionWorkflow.forecast_moved)
            except FailureError:
                workflow.logger.info("requisition %s ended before its answer", outcome.key)

    # -- the in-order branches of orders started before requisitions had their own workflows ---

    async def _procure(self, requisition: RequisitionSummary) -> None:
        order = self.ctx
        buying = Buying(order, requisition, order.inp.order_no)
        outcome = await buying.run(lambda: order.state.plan.milestones.get("material_required"))
        if outcome.state == "rejected":
            self.state.rejected.append(requisition.key)
        if buying.placed is not None:
            self.state.placed[requisition.key] = buying.placed
        if outcome.late and outcome.promised_date:
            await order.reforecast("material_required", outcome.promised_date)
