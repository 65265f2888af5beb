"""Cancelling an order at any stage ("At any time"): the order's own clocks and branches stop,
every task it has open is withdrawn, design changes under way are cancelled, inspections of its
goods carry on for stock, and every department's tables are unwound by one activity that also
computes what the order cost so far.

With that cost, sales agrees with the customer the cancellation fee or the compensation
(`sales.cancellation_settlement`, due like every task and escalated when late); the order is
`cancelled` once that is recorded. The `cancel` update does not wait for it: it answers the
cost as soon as the order is unwound, and the settlement task is open by then.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from services.quality.activities import QualityActivities
    from services.sales.cancellation import CancellationActivities
    from shared.payloads_customer import CancellationSettlement
    from shared.production_types import CancellationResult, CancelOrder, UnwindOrder
    from shared.rejections import Rejection
    from workflows.common import notify_reserved
    from workflows.tasks import TaskState

if TYPE_CHECKING:
    from workflows.order import OrderWorkflow

# The update rejection the API turns into 409.
NOT_CANCELLABLE = Rejection.NOT_CANCELLABLE
# The patch behind which a cancelled order waits for its settlement with the customer (orders
# cancelled before it were `cancelled` as soon as they were unwound).
CANCELLATION_SETTLEMENT = "cancellation-settlement"


async def cancel_order(order: OrderWorkflow, cmd: CancelOrder) -> CancellationResult:
    state = order.state
    state.cancellation = cmd
    stage = state.stage
    # No longer active: a material notice or an assembly issue arriving from now on starts
    # nothing (a branch started now would open tasks after they were all withdrawn).
    state.status = "cancelling"
    order.describe(f"cancelling: {cmd.reason}")
    # A customer change being taken in or taking effect finishes first: what it bought is then
    # unwound too, and a change left awaiting agreement is withdrawn below.
    if order.change_lock.locked():
        await workflow.wait_condition(lambda: not order.change_lock.locked())
    # No requisition starts from now on, and those being started are started before the
    # order's branches stop, so that each is cancelled below.
    await order.purchasing.starts_done()
    running = _running(order)
    for task in running:
        task.cancel()
    # Design changes under way are cancelled through their handles, so the order can wait
    # for each to end (it withdraws its own task first): completing before that would
    # terminate it with its task still open.
    design_changes = _design_changes(order)
    for child in design_changes:
        child.cancel()
    cancelled = {child.id for child in design_changes}
    for child_id in order.production.design_change_ids():
        if child_id not in cancelled:
            try:
                await workflow.get_external_workflow_handle(child_id).cancel()
            except FailureError:
                workflow.logger.info("design change %s already ended", child_id)
    await asyncio.gather(*running, *design_changes, return_exceptions=True)
    if order.state.production.issue_workflows:  # (only orders that track issues apart)
        await order.production.cancel_issues()
    # Each requisition's workflow withdraws its own tasks before the unwind cancels its row.
    bought = await order.purchasing.cancel_requisitions()
    withdrawn = [task.task_id for task in order.book.open_tasks()] + bought
    await order.book.withdraw_all()
    await order.changes.withdraw_pending(f"order cancelled: {cmd.reason}")
    detached: list[str] = await order.activity(
        QualityActivities.detach_inspections,
        order.inp.order_no,
        f"inspections of {order.inp.order_no}'s goods carry on for stock",
    )
    result: CancellationResult = await order.activity(
        CancellationActivities.unwind_order,
        UnwindOrder(order_no=order.inp.order_no, reason=cmd.reason, by=cmd.by, at=workflow.now()),
        f"unwind {order.inp.order_no}: requisitions, POs, work orders, reservations, cost",
    )
    # A lot received just before the purchase orders were cancelled may not have reached
    # quality's tables yet: its inspection is told too, and detaches itself once it has.
    waiting: list[str] = await order.activity(
        CancellationActivities.inspections_of,
        order.inp.order_no,
        f"inspections of {order.inp.order_no}'s receipts still waiting for quality",
    )
    for workflow_id in sorted({*detached, *waiting}):
        try:
            await workflow.get_external_workflow_handle(workflow_id).signal("order_cancelled")
        except FailureError:
            workflow.logger.info("inspection %s already ended", workflow_id)
    result = result.model_copy(
        update={
            "stage_at_cancel": stage,
            "unwound": result.unwound.model_copy(update={"tasks": withdrawn}),
        }
    )
    await notify_reserved(result.allocated, f"freed by cancelled {order.inp.order_no}")
    if workflow.patched(CANCELLATION_SETTLEMENT):
        settlement = await _open_settlement(order, result)
        order.branch(_settle(order, settlement, result))
        return result
    await order.set_stage("cancelled", "cancelled", cmd.reason)
    state.cancelled = result
    return result


async def _open_settlement(order: OrderWorkflow, result: CancellationResult) -> TaskState:
    """Sales' task to agree the fee or compensation with the customer, given the cost."""
    cost = result.cost
    return await order.book.open(
        "sales.cancellation_settlement",
        f"Agree the cancellation of {order.inp.order_no} with {order.inp.customer}: cost so "
        f"far {cost.total} {cost.currency}",
        {
            "reason": result.reason,
            "stage_at_cancel": result.stage_at_cancel,
            "currency": cost.currency,
            "cost_total": str(cost.total),
            "received_material": str(cost.received_material),
            "work_done": str(cost.work_done),
            "open_commitments": str(cost.open_commitments),
            "contract_amount": str(order.inp.amount),
        },
    )


async def _settle(order: OrderWorkflow, task: TaskState, result: CancellationResult) -> None:
    """Once the settlement is agreed: on the timeline, then the order is `cancelled`."""
    await order.wait_tasks(task)
    agreed = CancellationSettlement.parse(task.payload)
    currency = result.cost.currency
    if agreed.settlement == "none":
        what = "no fee and no compensation"
    else:
        payer = "customer pays" if agreed.settlement == "fee" else "plant pays"
        what = f"{agreed.settlement} {agreed.amount:.2f} {currency} ({payer})"
    await order.event(
        "cancellation_settled",
        task.completed_by or "sales",
        f"cancellation settled with {order.inp.customer}: {what}, ref {agreed.reference}",
        {
            "settlement": agreed.settlement,
            "amount": f"{agreed.amount:.2f}",
            "currency": currency,
            "reference": agreed.reference,
            "notes": agreed.notes,
            "cost_total": str(result.cost.total),
        },
    )
    # The status reason stays the cancellation's; the settlement is on the timeline.
    await order.set_stage("cancelled", "cancelled", result.reason)
    order.state.cancelled = result


def _design_changes(order: OrderWorkflow) -> list[workflow.ChildWorkflowHandle[Any, Any]]:
    """The handles of the order's design changes still running, in id order."""
    handles = order.production.design_change_handles
    return [
        handle for _, handle in sorted(handles.items()) if handle is not None and not handle.done()
    ]


def _running(order: OrderWorkflow) -> list[asyncio.Task[None]]:
    """Everything of the order that runs: its phases, branches, and every clock it watches."""
    tasks = [
        order.lifecycle,
        *order.branch_tasks,
        *order.book.watchers,
        *order.plan_watchers,
        *order.watchers,
    ]
    return [task for task in tasks if task is not None and not task.done()]
