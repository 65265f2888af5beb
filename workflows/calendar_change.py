"""CalendarChangeWorkflow: tell every running workflow that the plant's calendar changed, so
each re-times its open clocks, and remind planning of years whose holidays are not published.

Started by planning's API after each change of the exceptions (id `<prefix>-calendar-<n>`, n
the change's number), and at worker start for the last change (a start the API could not make
is made then) and for the reminders alone (`change` None).
"""

from __future__ import annotations

import asyncio
import contextlib

from pydantic import BaseModel
from temporalio import workflow
from temporalio.exceptions import FailureError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from shared.escalations.activities import EscalationDelivery
    from shared.temporal import department_queue, workflow_queue
    from shared.working_time.changes import CalendarActivities, RunningQuery
    from shared.working_time.clocks import CALENDAR_CHANGED, CalendarChanged
    from workflows.common import DB_RETRY, DB_TIMEOUT
    from workflows.escalation import EscalationDeliveryWorkflow

# Signals sent at once: enough to be quick, few enough to keep each workflow task small.
BATCH = 100


# A change to tell (`change` None: only the reminders).
class CalendarChangeInput(BaseModel):
    queue_prefix: str
    change: int | None = None
    version: str = ""


# What a run did: how many workflows it told, how many had ended meanwhile, the years reminded.
class CalendarChangeResult(BaseModel):
    signalled: int = 0
    gone: int = 0
    reminded: list[int] = []


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
            retry_policy=DB_RETRY,
            summary="remind planning of years whose public holidays are not published",
        )
        for reminder in reminded:
            await self._deliver(inp.queue_prefix, reminder.escalation_id, reminder.year)
        result.reminded = [r.year for r in reminded]
        if inp.change is None:
            return result
        ids = await workflow.execute_activity_method(
            CalendarActivities.running_workflows,
            RunningQuery(queue_prefix=inp.queue_prefix, exclude=workflow.info().workflow_id),
            task_queue=queue,
            start_to_close_timeout=DB_TIMEOUT,
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
