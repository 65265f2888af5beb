"""What every workflow with human tasks shares: its task book, the `complete_task` update that
department apps call through the tasks API, and the waits that let an update settle.

An update returns once the workflow has moved on from the completed task: every branch is again
waiting for people (or for a timer), so the caller's 200 already shows the next open tasks. A
caller that does not need them (a scanner confirming picks, a chat bot's approve button) asks
for `wait="accepted"`: the update returns once the task is closed and its inbox row stored,
and the step's work goes on after the answer.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Coroutine
from datetime import date, datetime
from typing import Any, TypeVar, overload

from temporalio import workflow
from temporalio.exceptions import ActivityError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from shared import payloads as p
    from shared.activity_errors import clip
    from shared.actor import verify_actor
    from shared.task_state import TaskBookState
    from shared.types import SETTLED, CompleteTask, RaiseEscalation, TaskCompleted
    from shared.working_time.clocks import CALENDAR_CHANGED, CalendarChanged, ClockSpec
    from workflows.activity_calls import bad_data_cause, department_of, run_activity
    from workflows.clocks import Clocks, on_working_time
    from workflows.common import local_db_write
    from workflows.escalator import EscalateFn, Escalator
    from workflows.tasks import INVALID_PAYLOAD, TaskBook, TaskState, reject, wait_for

A = TypeVar("A")
R = TypeVar("R")

# Patches (replay safety): histories from before these took the old paths.
BAD_DATA_PARKS = "bad-data-parks-step"
# Before it, the order's own short records (its stage, a timeline step) were activities on the
# sales and planning queues; now they are local activities (workflows/common.local_db_write),
# registered on the workflow worker (app/worker.py).
RECORDS_LOCAL = "order-records-local"
LOCAL_RECORDS = frozenset({"SalesActivities.record_stage", "PlanningActivities.record_event"})
BRANCH_FAILURE_ESCALATES = "branch-failure-escalates"


class TaskWorkflow:
    """Base of OrderWorkflow, IncomingInspectionWorkflow and the other workflows with tasks.

    A subclass calls `_init_tasks` from its `@workflow.init`, sets `_finished` when its run is
    over, and may override `rule_violation`, `stage_of_update` and `headline`.
    """

    book: TaskBook
    queue_prefix: str
    # Whose queue stores a failed branch's escalation (raised to ops, about no one task).
    ops_department = "planning"

    def _init_tasks(
        self, order_no: str, queue_prefix: str, state: TaskBookState | None = None
    ) -> None:
        self.workflow_id = workflow.info().workflow_id
        self.queue_prefix = queue_prefix
        self._parked: list[Callable[[], bool]] = []
        self._branches = 1  # the run itself
        self.branch_tasks: list[asyncio.Task[None]] = []
        # Steps parked on bad data (number → summary) until ops sends `retry_step`.
        self.parked_steps: dict[int, str] = {}
        self._bad_data_seen = 0
        self._finished = False
        self.book = TaskBook(
            workflow_id=self.workflow_id,
            order_no=order_no,
            queue_prefix=queue_prefix,
            escalator=Escalator(
                order_no=order_no, queue_prefix=queue_prefix, on_raised=self._on_escalated
            ),
            state=state,
        )
        self.clocks = Clocks(self.book.state.clocks, queue_prefix)

    @workflow.signal(name=CALENDAR_CHANGED)
    def calendar_changed(self, change: CalendarChanged) -> None:
        """The plant's calendar changed (a shutdown entered, say): every open clock and task
        due time is counted again on it."""
        self.clocks.heard(change.version)

    # -- the `complete_task` update: how every department app completes its tasks ----------

    @workflow.update
    async def complete_task(self, cmd: CompleteTask) -> TaskCompleted:
        """Complete one of this workflow's tasks; returns once the workflow has moved on, or
        (`wait="accepted"`) once the task is closed and its inbox row stored."""
        self._validate_completion(cmd)
        task = await self.book.complete(cmd)
        if cmd.wait == SETTLED:
            await workflow.wait_condition(self._settled)
        return TaskCompleted(
            task_id=task.task_id, order_no=self.book.order_no, stage=self.stage_of_update()
        )

    @complete_task.validator
    def _validate_complete_task(self, cmd: CompleteTask) -> None:
        # The actor check only here: the validator runs when Temporal first delivers the
        # update, never on replay, where the assertion may since have expired.
        verify_actor(cmd, "complete_task")
        self._validate_completion(cmd)

    def _validate_completion(self, cmd: CompleteTask) -> None:
        task, payload = self.book.check(cmd)
        problem = self.rule_violation(task, payload)
        if problem:
            raise reject(INVALID_PAYLOAD, problem)

    @workflow.signal
    def retry_step(self, step: int | None = None) -> None:
        """Ops corrected the data a parked step failed on: run that step (all, for None)
        again; a step that fails again parks again with a new escalation."""
        for number in [step] if step is not None else list(self.parked_steps):
            self.parked_steps.pop(number, None)

    def rule_violation(self, task: TaskState, payload: p.Payload) -> str | None:
        """A business rule a payload breaks, in a sentence; None when it keeps them all."""
        return None

    def stage_of_update(self) -> str:
        return ""

    def headline(self) -> str:
        return f"**{self.book.order_no}**"

    @property
    def escalate(self) -> EscalateFn:
        """Raise an escalation of this workflow's order (`Escalator.escalate`)."""
        return self.book.escalator.escalate

    def _on_escalated(self, esc: RaiseEscalation) -> None:
        """Called after every escalation this workflow raises."""

    # -- waiting ------------------------------------------------------------------------------

    def today(self) -> date:
        return workflow.now().date()

    def now(self) -> datetime:
        return workflow.now()

    async def until(
        self,
        condition: Callable[[], bool],
        waiting_for: str,
        *,
        deadline: datetime | None = None,
        timer_summary: str | None = None,
    ) -> bool:
        """Wait for people (or a signal's effect), at most until `deadline`; a completion
        settles while this waits. True when the condition holds, False when the deadline came.
        """
        self._parked.append(condition)
        self.describe(waiting_for)
        try:
            if deadline is None:
                await workflow.wait_condition(condition)
                return True
            return await wait_for(condition, deadline, timer_summary or waiting_for)
        finally:
            self._parked.remove(condition)

    async def sleep_until(self, deadline: datetime, waiting_for: str) -> None:
        """A timer the workflow's updates may settle across."""
        await self.until(lambda: False, waiting_for, deadline=deadline)

    async def until_clock(
        self,
        condition: Callable[[], bool],
        spec: ClockSpec,
        waiting_for: Callable[[datetime], str],
        *,
        legacy: datetime | None = None,
    ) -> bool:
        """`until` the clock `spec` on the plant's calendar, counted again whenever the
        calendar changes meanwhile; a run from before working time waits until `legacy`."""
        if legacy is not None and not on_working_time():
            return await self.until(condition, waiting_for(legacy), deadline=legacy)
        while True:
            deadline = await self.clocks.at(spec)
            changed = self.clocks.until_changed(condition)
            if not await self.until(changed, waiting_for(deadline), deadline=deadline):
                return False
            if condition():
                return True

    def branch(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` beside the main run (one per requisition, say); completions settle only
        when every branch waits for people again."""
        self._branches += 1

        async def run() -> None:
            try:
                await work
            except Exception as exc:
                # A cancellation ends branches on purpose (an activity or child it awaited
                # then fails with a cancelled cause): that is no failure.
                if is_cancelled_exception(exc):
                    raise
                await self._branch_failed(exc)
            finally:
                self._branches -= 1

        self.branch_tasks.append(asyncio.create_task(run()))

    async def _branch_failed(self, exc: Exception) -> None:
        """A branch raised: its work stops there (the rest of the order goes on, and no
        completion waits for it), and ops hears of it with the cause."""
        workflow.logger.exception("a branch of %s failed", self.workflow_id, exc_info=exc)
        if not workflow.patched(BRANCH_FAILURE_ESCALATES):
            return
        self._bad_data_seen += 1
        await self.escalate(
            key=self._problem_key("branch", self._bad_data_seen),
            kind="branch_failed",
            level=1,
            department=self.ops_department,
            role="ops",
            message=clip(
                f"{self.workflow_id}: a parallel step stopped on {type(exc).__name__}: {exc}; "
                "what it had left to do (a re-forecast, say) needs doing by hand",
                1000,
            ),
        )

    def _problem_key(self, kind: str, number: int) -> str:
        """An escalation key unique to this run's problem (within the column's 200)."""
        owner = self.workflow_id
        if len(owner) > 120:  # no real id is this long; a hash keeps keys apart if one is
            owner = hashlib.sha256(owner.encode()).hexdigest()[:32]
        return f"{owner}:{workflow.info().run_id}:{kind}:{number}"

    async def wait_tasks(self, *tasks: TaskState) -> None:
        names = ", ".join(t.kind for t in tasks)
        await self.until(lambda: not any(t.is_open for t in tasks), f"waiting for {names}")

    def _settled(self) -> bool:
        if self._finished:
            return True
        all_waiting = len(self._parked) >= self._branches
        return all_waiting and not any(condition() for condition in self._parked)

    def describe(self, waiting_for: str) -> None:
        tasks = "".join(
            f"\n- `{t.kind}` due {t.due_at:%Y-%m-%d %H:%M}Z" for t in self.book.open_tasks()
        )
        workflow.set_current_details(f"{self.headline()}\n\n{waiting_for}{tasks}")

    @overload
    async def activity(
        self, method: Callable[[Any], Awaitable[R]], arg: None, summary: str
    ) -> R: ...

    @overload
    async def activity(
        self, method: Callable[[Any, A], Awaitable[R]], arg: A, summary: str
    ) -> R: ...

    async def activity(self, method: Callable[..., Awaitable[Any]], arg: Any, summary: str) -> Any:
        """Run one department activity on its queue with the standard timeout and retries;
        mypy checks `arg` against the method and types the result. A step that fails on bad
        data parks: ops gets a `bad_data` escalation and the step runs again on `retry_step`."""
        local = getattr(method, "__qualname__", "") in LOCAL_RECORDS
        while True:
            try:
                if local and workflow.patched(RECORDS_LOCAL):
                    return await local_db_write(method, arg, summary[:200])
                return await run_activity(self.queue_prefix, method, arg, summary)
            except ActivityError as err:
                cause = bad_data_cause(err)
                if cause is None or not workflow.patched(BAD_DATA_PARKS):
                    raise
            await self._park_step(department_of(method), summary, cause)

    async def _park_step(self, department: str, summary: str, cause: str) -> None:
        """Escalate a step that failed on bad data to ops, then wait for `retry_step`."""
        self._bad_data_seen += 1
        step = self._bad_data_seen
        self.parked_steps[step] = summary
        workflow.logger.error(
            "%s: step %d (%s) failed on bad data: %s", self.workflow_id, step, summary, cause
        )
        await self.escalate(
            key=self._problem_key("bad_data", step),
            kind="bad_data",
            level=1,
            department=department,
            role="ops",
            message=clip(
                f"{summary}: {cause}. Correct the data, then signal retry_step {step} to "
                f"{self.workflow_id}",
                1000,
            ),
        )
        await self.until(
            lambda: step not in self.parked_steps,
            f"step {step} ({summary}) failed on bad data: waiting for ops (retry_step {step})",
        )
