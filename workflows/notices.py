"""Customer progress notices from an order (shared/notices.py): a sales activity puts the
notice on the timeline and plans its deliveries; a `NoticeDeliveryWorkflow` of its own sends
them when a route names `customer_notice`, so a dead bot never holds up the order.

The history holds channel names and delivery ids only (workflows/escalation.py)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from pydantic import BaseModel
from temporalio import workflow
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from services.sales.notices import NOTICE_DEPARTMENT, NoticeActivities
    from shared.escalations.delivery_types import PlannedDelivery
    from shared.notices import CustomerNotice
    from shared.temporal import department_queue, workflow_queue
    from workflows.escalation import raise_failing_channels, send_all

if TYPE_CHECKING:
    from workflows.base import TaskWorkflow

# The patch behind which an order gives customer notices (orders from before it give none for
# the steps they replay).
CUSTOMER_NOTICES = "customer-notices"


# What NoticeDeliveryWorkflow sends: one notice's planned deliveries, through sales' queue.
class NoticeDelivery(BaseModel):
    order_no: str
    key: str
    task_queue: str
    deliveries: list[PlannedDelivery]


@workflow.defn
class NoticeDeliveryWorkflow:
    """One per customer notice that has channels (id `notice-<order_no>-<key>`)."""

    @workflow.run
    async def run(self, delivery: NoticeDelivery) -> list[str]:
        what = f"customer notice {delivery.key} of {delivery.order_no}"
        names = [p.channel for p in delivery.deliveries]
        workflow.set_current_details(f"delivering {what} to {', '.join(names)}")
        outcomes = await send_all(delivery.deliveries, queue=delivery.task_queue, what=what)
        workflow.set_current_details(
            f"{what}: " + ", ".join(f"{o.channel} {o.state}" for o in outcomes)
        )
        await raise_failing_channels(
            outcomes, department=NOTICE_DEPARTMENT, queue=delivery.task_queue
        )
        return names


async def give_notice(host: TaskWorkflow, notice: CustomerNotice) -> None:
    """Record the notice (timeline, planned deliveries) and start sending it, if routed."""
    queue_prefix = host.queue_prefix
    queue = department_queue(queue_prefix, NOTICE_DEPARTMENT)
    planned = await host.activity(
        NoticeActivities.record_customer_notice, notice, notice.summary()[:200]
    )
    if not planned:
        return
    # An earlier attempt may have started it already: then the delivery is under way.
    with contextlib.suppress(WorkflowAlreadyStartedError):
        await workflow.start_child_workflow(
            NoticeDeliveryWorkflow.run,
            NoticeDelivery(
                order_no=notice.order_no, key=notice.key, task_queue=queue, deliveries=planned
            ),
            id=f"notice-{notice.order_no}-{notice.key}",
            task_queue=workflow_queue(queue_prefix),
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            static_summary=f"deliver customer notice {notice.key} of {notice.order_no}",
        )
