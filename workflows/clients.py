"""The services' one door into workflows/: the workflow classes the API starts, updates and
signals by method reference (so mypy checks the argument and the result at both ends), and
typed handles on running workflows. Services import nothing else from workflows/."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from shared.aftersales_types import ServiceCaseInput, service_case_workflow_id
from shared.procurement_types import PromiseWatchInput
from shared.temporal import workflow_queue
from shared.types import RequisitionInput
from shared.workflow_ids import (
    order_workflow_id,
    promise_watch_workflow_id,
    requisition_workflow_id,
)
from workflows.base import TaskWorkflow
from workflows.calendar_change import CalendarChangeInput, CalendarChangeWorkflow
from workflows.channel_test import ChannelTestWorkflow
from workflows.inspection import IncomingInspectionWorkflow
from workflows.order import OrderWorkflow
from workflows.promise_watch import PromiseWatchWorkflow
from workflows.requisition import RequisitionWorkflow
from workflows.service_case import ServiceCaseWorkflow

__all__ = [
    "CalendarChangeInput",
    "CalendarChangeWorkflow",
    "ChannelTestWorkflow",
    "IncomingInspectionWorkflow",
    "OrderWorkflow",
    "PromiseWatchWorkflow",
    "RequisitionWorkflow",
    "ServiceCaseWorkflow",
    "TaskWorkflow",
    "order_handle",
    "promise_watch_handle",
    "start_calendar_change",
    "start_promise_watch",
    "start_requisition",
    "start_service_case",
    "task_handle",
    "tell_promise_watches",
]


def order_handle(client: Client, order_no: str) -> WorkflowHandle[OrderWorkflow, str]:
    """The OrderWorkflow of an order, typed for its updates (`cancel`, `change`,
    `report_issue`) and signals (`material_notice`)."""
    return client.get_workflow_handle_for(OrderWorkflow.run, order_workflow_id(order_no))


def task_handle(client: Client, workflow_id: str) -> WorkflowHandle[TaskWorkflow, Any]:
    """Any workflow that keeps human tasks (an order, a lot's inspection, a DCN, a purchase for
    stock), typed for `complete_task`."""
    handle: WorkflowHandle[TaskWorkflow, Any] = client.get_workflow_handle(workflow_id)
    return handle


async def start_calendar_change(
    client: Client, workflow_id: str, inp: CalendarChangeInput, summary: str
) -> bool:
    """Start a CalendarChangeWorkflow; False when one with that id ran or runs already (each
    id runs once: a change is told once, a day's check made once)."""
    try:
        await client.start_workflow(
            CalendarChangeWorkflow.run,
            inp,
            id=workflow_id,
            task_queue=workflow_queue(inp.queue_prefix),
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            static_summary=summary[:200],
        )
    except WorkflowAlreadyStartedError:
        return False
    return True


async def start_service_case(client: Client, inp: ServiceCaseInput) -> None:
    """Start a service case's workflow (`service-case-<case_id>`); a case's id runs once."""
    await client.start_workflow(
        ServiceCaseWorkflow.run,
        inp,
        id=service_case_workflow_id(inp.case_id),
        task_queue=workflow_queue(inp.queue_prefix),
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        static_summary=f"{inp.order_no} · service case {inp.case_id} ({inp.kind})"[:200],
    )


def promise_watch_handle(
    client: Client, requisition_key: str
) -> WorkflowHandle[PromiseWatchWorkflow, str]:
    """The PromiseWatchWorkflow of the PO line bought for a requisition, typed for its
    `move_promise` update."""
    return client.get_workflow_handle_for(
        PromiseWatchWorkflow.run, promise_watch_workflow_id(requisition_key)
    )


async def tell_promise_watches(client: Client, requisition_keys: Iterable[str]) -> None:
    """Goods came in on these PO lines: each line's watch looks at it again at once. A watch
    that has ended (or never ran) has nothing to withdraw; should Temporal not answer, the
    watch's daily look finds the goods."""
    for key in requisition_keys:
        with contextlib.suppress(RPCError):
            await promise_watch_handle(client, key).signal(PromiseWatchWorkflow.line_changed)


async def start_promise_watch(client: Client, inp: PromiseWatchInput) -> None:
    """Start a PO line's PromiseWatchWorkflow again (its earlier one, if any, has ended); one
    started meanwhile by someone else is left as it is."""
    with contextlib.suppress(WorkflowAlreadyStartedError):
        await client.start_workflow(
            PromiseWatchWorkflow.run,
            inp,
            id=promise_watch_workflow_id(inp.requisition_key),
            task_queue=workflow_queue(inp.queue_prefix),
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            static_summary=f"watch the promise of {inp.po_no}: {inp.qty} {inp.item}"[:200],
        )


async def start_requisition(client: Client, inp: RequisitionInput, summary: str) -> None:
    """Start the RequisitionWorkflow of a requisition raised by hand (approval, then the PO)."""
    await client.start_workflow(
        RequisitionWorkflow.run,
        inp,
        id=requisition_workflow_id(inp.requisition.key),
        task_queue=workflow_queue(inp.queue_prefix),
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        static_summary=summary[:200],
    )
