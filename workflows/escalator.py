"""How a workflow raises an escalation: stored by an activity, then delivered to the bots by an
`EscalationDeliveryWorkflow` of its own, so a dead bot never holds up the workflow."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from temporalio import workflow
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from shared.activity_errors import clip
    from shared.escalations.activities import EscalationActivities, EscalationDelivery
    from shared.temporal import department_queue, workflow_queue
    from shared.types import RaiseEscalation
    from workflows.common import DB_HEARTBEAT, DB_RETRY, DB_TIMEOUT
    from workflows.escalation import EscalationDeliveryWorkflow


class EscalateFn(Protocol):
    """Raise an escalation of the workflow's order, breached now (`Escalator.escalate`)."""

    async def __call__(
        self,
        *,
        key: str,
        kind: str,
        level: int,
        department: str,
        role: str,
        message: str,
        due_at: datetime | None = None,
        task_id: str | None = None,
    ) -> None: ...


class Escalator:
    """Raises escalations for one order: stored by an activity, delivered by its own workflow."""

    def __init__(
        self, *, order_no: str, queue_prefix: str, on_raised: Callable[[RaiseEscalation], None]
    ) -> None:
        self.order_no = order_no
        self._prefix = queue_prefix
        self._on_raised = on_raised

    async def escalate(
        self,
        *,
        key: str,
        kind: str,
        level: int,
        department: str,
        role: str,
        message: str,
        due_at: datetime | None = None,
        task_id: str | None = None,
    ) -> None:
        """Raise an escalation of this workflow's order, breached now."""
        await self.raise_(
            RaiseEscalation(
                key=key,
                kind=kind,
                level=level,
                order_no=self.order_no,
                task_id=task_id,
                department=department,
                role=role,
                due_at=due_at,
                breached_at=workflow.now(),
                message=message,
            )
        )

    async def raise_(self, esc: RaiseEscalation) -> None:
        # A message quoting bad data (a NUL, megabytes) must not make the escalation bad data.
        esc = esc.model_copy(update={"message": clip(esc.message)})
        raised = await workflow.execute_activity_method(
            EscalationActivities.raise_escalation,
            esc,
            task_queue=department_queue(self._prefix, esc.department),
            start_to_close_timeout=DB_TIMEOUT,
            heartbeat_timeout=DB_HEARTBEAT,
            retry_policy=DB_RETRY,
            summary=f"escalate to {esc.role}: {esc.message}"[:200],
        )
        self._on_raised(esc)
        # An earlier attempt may have started it already: then the delivery is under way.
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await workflow.start_child_workflow(
                EscalationDeliveryWorkflow.run,
                EscalationDelivery(
                    escalation_id=raised.id,
                    task_queue=department_queue(self._prefix, esc.department),
                ),
                id=f"escalation-{raised.id}",
                task_queue=workflow_queue(self._prefix),
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                static_summary=f"deliver escalation {raised.id} ({esc.kind}, level {esc.level})",
            )
