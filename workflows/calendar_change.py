"""CalendarChangeWorkflow: tell every running workflow that the plant's calendar changed, so
each re-times its open clocks, and remind planning of years whose holidays are not published.

Started by planning's API after each change of the exceptions (id `<prefix>-calendar-<n>`, n
the change's number), and by the worker at start once a day without a change
(`<prefix>-calendar-check-<date>`): that run reminds, then starts the last change's run if it
never ran (the API answers 503 when Temporal did not take it; it is made up for here).
"""

from __future__ import annotations

import asyncio
import contextlib

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import FailureError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from shared.escalations.activities import EscalationDelivery
    from shared.temporal import department_queue, workflow_queue
    from shared.workflow_ids import calendar_change_workflow_id
    from shared.working_time.changes import CalendarActivities, RunningQuery
    from shared.working_time.clocks import CALENDAR_CHANGED, CalendarChanged
    from workflows.common import DB_HEARTBEAT, DB_RETRY, DB_TIMEOUT
    from workflows.escalation import EscalationDeliveryWorkflow

# Signals sent at once: enough to be quick, few enough to keep each workflow task small.
BATCH = 100


# A change to tell (`change` None: only the reminders).
class CalendarChangeInput(BaseModel):
    queue_prefix: str
    change: int | None = None
    version: str = ""


# What a run did: how many workflows it told, how many had ended meanwhile, the years reminded,
# and (a check) the change whose run it started because it never ran.
class CalendarChangeResult(BaseModel):
    signalled: int = 0
    gone: int = 0
    reminded: list[int] = []
    made_up: int | None = None


@workflow.defn
class CalendarChangeWorkflow:
    """One per calendar change: remind, list the running workflows, signal each."""

    @workflow.run
    async def run(self, inp: CalendarChangeInput) -> CalendarChangeResult:
        queue = department_queue(inp.queue_prefix, "planning")
        result = CalendarChangeResult()
        reminded = await workflow.execute_activity_method(
            CalendarActivities.remind_unconfirmed_years,
            task_queue=queue,
            start_to_close_timeout=DB_TIMEOUT,
            heartbeat_timeout=DB_HEARTBEAT,
            retry_policy=DB_RETRY,
            summary="remind planning of years whose public holidays are not published",
        )
        for reminder in reminded:
            await self._deliver(inp.queue_prefix, reminder.escalation_id, reminder.year)
        result.reminded = [r.year for r in reminded]
        if inp.change is None:
            result.made_up = await self._make_up(inp.queue_prefix)
            return result
        ids = await workflow.execute_activity_method(
            CalendarActivities.running_workflows,
            RunningQuery(queue_prefix=inp.queue_prefix, exclude=workflow.info().workflow_id),
            task_queue=queue,
            start_to_close_timeout=DB_TIMEOUT,
            heartbeat_timeout=DB_HEARTBEAT,
            retry_policy=DB_RETRY,
            summary=f"list the running workflows to re-time for calendar {inp.version}",
        )
        workflow.set_current_details(
            f"calendar change {inp.change} (version {inp.version}): telling {len(ids)} workflow(s)"
        )
        changed = CalendarChanged(version=inp.version)
        for first in range(0, len(ids), BATCH):
            told = await asyncio.gather(
                *(self._tell(i, changed) for i in ids[first : first + BATCH])
            )
            result.signalled += sum(told)
            result.gone += len(told) - sum(told)
        workflow.set_current_details(
            f"calendar change {inp.change} (version {inp.version}): told {result.signalled} "
            f"workflow(s); {result.gone} had ended"
        )
        return result

    async def _make_up(self, prefix: str) -> int | None:
        """Start the last change's run unless it ran or runs: the change it started, if any."""
        last = await workflow.execute_activity_method(
            CalendarActivities.last_change,
            task_queue=department_queue(prefix, "planning"),
            start_to_close_timeout=DB_TIMEOUT,
            heartbeat_timeout=DB_HEARTBEAT,
            retry_policy=DB_RETRY,
            summary="read the last calendar change",
        )
        if last is None:
            return None
        try:
            await workflow.start_child_workflow(
                CalendarChangeWorkflow.run,
                CalendarChangeInput(queue_prefix=prefix, change=last.change, version=last.version),
                id=calendar_change_workflow_id(prefix, last.change),
                task_queue=workflow_queue(prefix),
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                static_summary=f"calendar change {last.change}: {last.what}"[:200],
            )
        except WorkflowAlreadyStartedError:
            return None
        return last.change

    async def _tell(self, workflow_id: str, changed: CalendarChanged) -> bool:
        """Signal one workflow; False when it ended after it was listed."""
        try:
            await workflow.get_external_workflow_handle(workflow_id).signal(
                CALENDAR_CHANGED, changed
            )
        except FailureError:
            return False
        return True

    async def _deliver(self, prefix: str, escalation_id: int, year: int) -> None:
        # The reminder goes to the escalation bots like any other escalation.
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await workflow.start_child_workflow(
                EscalationDeliveryWorkflow.run,
                EscalationDelivery(
                    escalation_id=escalation_id, task_queue=department_queue(prefix, "planning")
                ),
                id=f"escalation-{escalation_id}",
                task_queue=workflow_queue(prefix),
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                static_summary=f"deliver escalation {escalation_id} (calendar of {year})",
            )
