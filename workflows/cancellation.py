"""Cancelling an order at any stage ("At any time"): the order's own clocks and branches stop,
every task it has open is withdrawn, design changes under way are cancelled, inspections of its
goods carry on for stock, and every department's tables are unwound by one activity that also
computes what the order cost so far.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from services.quality.activities import QualityActivities
    from services.sales.cancellation import CancellationActivities
    from shared.material_types import MaterialNotice
    from shared.production_types import CancellationResult, CancelOrder, UnwindOrder
    from workflows.common import notify_order

if TYPE_CHECKING:
    from workflows.order import OrderWorkflow

# The update rejection the API turns into 409.
NOT_CANCELLABLE = "OrderNotCancellable"


async def cancel_order(order: OrderWorkflow, cmd: CancelOrder) -> CancellationResult:
    order.cancellation = cmd
    stage = order.stage
    # No longer active: a material notice or an assembly issue arriving from now on starts
    # nothing (a branch started now would open tasks after they were all withdrawn).
    order.status = "cancelling"
    order.describe(f"cancelling: {cmd.reason}")
    # A customer change being taken in or taking effect finishes first: what it bought is then
    # unwound too, and a change left awaiting agreement is withdrawn below.
    if order.changes.busy:
        await workflow.wait_condition(lambda: not order.changes.busy)
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
    for child_id in sorted(set(order.production.design_change_ids()) - _ids(design_changes)):
        try:
            await workflow.get_external_workflow_handle(child_id).cancel()
        except FailureError:
            workflow.logger.info("design change %s already ended", child_id)
    await asyncio.gather(*running, *design_changes, return_exceptions=True)
    # Each requisition's workflow withdraws its own tasks before the unwind cancels its row.
    bought = await order.purchasing.cancel_requisitions()
    withdrawn = [task.task_id for task in order.book.open_tasks()] + bought
    await order.book.withdraw_all()
    await order.changes.withdraw_pending(f"order cancelled: {cmd.reason}")
    detached: list[str] = await order.activity(
        QualityActivities.detach_inspections,
        order.inp.order_no,
        "quality",
        f"inspections of {order.inp.order_no}'s goods carry on for stock",
    )
    result: CancellationResult = await order.activity(
        CancellationActivities.unwind_order,
        UnwindOrder(order_no=order.inp.order_no, reason=cmd.reason, by=cmd.by, at=workflow.now()),
        "sales",
        f"unwind {order.inp.order_no}: requisitions, POs, work orders, reservations, cost",
    )
    # A lot received just before the purchase orders were cancelled may not have reached
    # quality's tables yet: its inspection is told too, and detaches itself once it has.
    waiting: list[str] = await order.activity(
        CancellationActivities.inspections_of,
        order.inp.order_no,
        "sales",
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
    for order_no, items in getattr(result, "allocated", {}).items():
        for item, qty in items.items():
            await notify_order(
                order_no,
                MaterialNotice(
                    kind="reserved",
                    item=item,
                    qty=qty,
                    message=f"{qty} {item} freed by cancelled {order.inp.order_no}",
                ),
            )
    await order.set_stage("cancelled", "cancelled", cmd.reason)
    order.cancelled = result
    return result


def _design_changes(order: OrderWorkflow) -> list[workflow.ChildWorkflowHandle[Any, Any]]:
    """The handles of the order's design changes still running (a child workflow's handle is
    one of the workflow's asyncio tasks), in id order."""
    running = set(order.production.design_change_ids())
    handles = [
        task
        for task in asyncio.all_tasks()
        if isinstance(task, workflow.ChildWorkflowHandle) and task.id in running
    ]
    return sorted((h for h in handles if not h.done()), key=lambda handle: handle.id)


def _ids(handles: list[workflow.ChildWorkflowHandle[Any, Any]]) -> set[str]:
    return {handle.id for handle in handles}


def _running(order: OrderWorkflow) -> list[asyncio.Task[None]]:
    """Everything of the order that runs: its phases, branches, and every clock it watches."""
    tasks = [
        order._lifecycle,
        *order._branch_tasks,
        *order.book.watchers,
        *order.plan.watchers,
        *order.materials.watchers,
    ]
    return [task for task in tasks if task is not None and not task.done()]
