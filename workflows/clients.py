"""The services' one door into workflows/: the workflow classes the API starts, updates and
signals by method reference (so mypy checks the argument and the result at both ends), and
typed handles on running workflows. Services import nothing else from workflows/."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from shared.aftersales_types import ServiceCaseInput, service_case_workflow_id
from shared.temporal import workflow_queue
from shared.workflow_ids import order_workflow_id
from workflows.base import TaskWorkflow
from workflows.calendar_change import CalendarChangeInput, CalendarChangeWorkflow
from workflows.channel_test import ChannelTestWorkflow
from workflows.inspection import IncomingInspectionWorkflow
from workflows.order import OrderWorkflow
from workflows.service_case import ServiceCaseWorkflow

__all__ = [
    "CalendarChangeInput",
    "CalendarChangeWorkflow",
    "ChannelTestWorkflow",
    "IncomingInspectionWorkflow",
    "OrderWorkflow",
    "ServiceCaseWorkflow",
    "TaskWorkflow",
    "order_handle",
    "start_calendar_change",
    "start_service_case",
    "task_handle",
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
