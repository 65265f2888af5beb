"""The services' one door into workflows/: the workflow classes the API starts, updates and
signals by method reference (so mypy checks the argument and the result at both ends), and
typed handles on running workflows. Services import nothing else from workflows/."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client, WorkflowHandle

from shared.workflow_ids import order_workflow_id
from workflows.base import TaskWorkflow
from workflows.inspection import IncomingInspectionWorkflow
from workflows.order import OrderWorkflow

__all__ = [
    "IncomingInspectionWorkflow",
    "OrderWorkflow",
    "TaskWorkflow",
    "order_handle",
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
