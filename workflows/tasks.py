"""The human-task mechanism inside a workflow: open, watch, complete, withdraw.

A workflow keeps a `TaskBook`. Opening a task writes it to its department's inbox (an
activity) and starts its SLA watcher; a completion arrives as the `complete_task` update,
checked synchronously by `TaskBook.check` (the update validator) so a caller gets 404/403/409/422
at once. A breached SLA raises an escalation to the department head, then to the division at
the configured factor; it never blocks the order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar, overload

from pydantic import ValidationError
from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from shared.activity_errors import clip
    from shared.payloads import Payload
    from shared.rejections import Rejection
    from shared.task_state import DONE, WITHDRAWN, TaskBookState, TaskState, not_open_message
    from shared.tasks.activities import TaskActivities
    from shared.tasks.kinds import TASK_KINDS
    from shared.temporal import department_queue
    from shared.types import (
        CloseTask,
        CompleteTask,
        OpenTask,
        RetimeTask,
        TaskOpened,
    )
    from shared.working_time.clocks import ClockSpec
    from workflows.activity_calls import bad_data_cause
    from workflows.common import DB_HEARTBEAT, DB_RETRY, DB_TIMEOUT, local_db_write
    from workflows.escalator import EscalateFn, Escalator


# Error types the API maps to status codes (shared/updates.py).
TASK_NOT_FOUND = Rejection.TASK_NOT_FOUND
TASK_NOT_OPEN = Rejection.TASK_NOT_OPEN
FORBIDDEN = Rejection.FORBIDDEN
INVALID_PAYLOAD = Rejection.INVALID_PAYLOAD

# Patches (replay safety): before them, an open or a close that failed on bad data failed
# the workflow or the update.
CLOSE_WITHOUT_BAD_PAYLOAD = "close-without-bad-payload"
OPEN_WITHOUT_BAD_CONTEXT = "open-without-bad-context"
# Before it, opening and closing an inbox row were activities on the department's queue; now
# they are local activities of the workflow's own worker (workflows/common.local_db_write).
INBOX_WRITES_LOCAL = "inbox-writes-local"


A = TypeVar("A")
R = TypeVar("R")


class TaskHost(Protocol):
    """A workflow with a task book, as the steps it runs see it (an order and its phases, an
    issue's or a requisition's own workflow): tasks, activities, escalations."""

    book: TaskBook

    @overload
    async def activity(
        self, method: Callable[[Any], Awaitable[R]], arg: None, summary: str
    ) -> R: ...

    @overload
    async def activity(
        self, method: Callable[[Any, A], Awaitable[R]], arg: A, summary: str
    ) -> R: ...

    async def wait_tasks(self, *tasks: TaskState) -> None: ...

    @property
    def escalate(self) -> EscalateFn: ...


def reject(error_type: str, message: str, **details: Any) -> ApplicationError:
    """An update rejection the API turns into a status code and a clear sentence."""
    return ApplicationError(message, details or None, type=error_type, non_retryable=True)


class TaskBook:
    """Every human task of one workflow, with its SLA watchers."""

    def __init__(
        self,
        *,
        workflow_id: str,
        order_no: str,
        queue_prefix: str,
        escalator: Escalator,
        state: TaskBookState | None = None,
    ) -> None:
        self.state = state or TaskBookState()
        self._workflow_id = workflow_id
        self.order_no = order_no
        self._prefix = queue_prefix
        self.escalator = escalator
        self.watchers: list[asyncio.Task[None]] = []

    @property
    def tasks(self) -> dict[str, TaskState]:
        return self.state.tasks

    def get(self, task_id: str | None) -> TaskState | None:
        """One of this workflow's tasks by id (None for None)."""
        return self.state.tasks.get(task_id) if task_id else None

    def resume(self) -> None:
        """After continue-as-new: watch the due times of the tasks still open again."""
        for task in self.open_tasks():
            self.watchers.append(asyncio.create_task(self._watch(task)))

    def open_tasks(self) -> list[TaskState]:
        return [task for task in self.tasks.values() if task.is_open]

    async def open(
        self,
        kind: str,
        title: str,
        context: dict[str, Any] | None = None,
        *,
        due_at: datetime | None = None,
        due_clock: ClockSpec | None = None,
    ) -> TaskState:
        """Open a task in its department's inbox and start watching its due time: `due_at`,
        or `due_clock` on the plant's calendar, or else its kind's SLA in working time."""
        spec = TASK_KINDS[kind]
        self.state.seq += 1
        task_id = f"{self._workflow_id}-t{self.state.seq}"
        created_at = workflow.now()
        # Known before the inbox row exists: a department app may complete the task the moment
        # the row appears, before this workflow has seen the activity's result.
        task = TaskState(
            task_id=task_id,
            kind=kind,
            department=spec.department,
            title=title,
            created_at=created_at,
            due_at=due_at or created_at,
            second_level_at=due_at or created_at,
            due_clock=due_clock,
            fixed_due=due_at is not None,
        )
        self.tasks[task_id] = task
        opened = await self._open_row(
            OpenTask(
                task_id=task_id,
                kind=kind,
                department=spec.department,
                order_no=self.order_no,
                workflow_id=self._workflow_id,
                title=title,
                context=context or {},
                created_at=created_at,
                due_at=due_at,
                due_clock=due_clock,
            )
        )
        task.due_at, task.second_level_at = opened.due_at, opened.second_level_at
        task.calendar_version = opened.calendar_version
        self.watchers.append(asyncio.create_task(self._watch(task)))
        return task

    async def _open_row(self, row: OpenTask) -> TaskOpened:
        try:
            return await self._store_open(row)
        except ActivityError as err:
            cause = bad_data_cause(err)
            if cause is None or not workflow.patched(OPEN_WITHOUT_BAD_CONTEXT):
                raise
        # The task is open in the workflow already: the inbox shows it with a plain title and
        # no context rather than not at all, and ops hears what could not be stored.
        opened = await self._store_open(
            row.model_copy(update={"title": clip(row.title, 500), "context": {}})
        )
        await self.escalator.escalate(
            key=f"{row.task_id}:bad_data_open",
            kind="bad_data",
            level=1,
            task_id=row.task_id,
            department=row.department,
            role="ops",
            message=f"{row.title} ({row.kind}) opened without its context, which the inbox "
            f"cannot store: {cause}",
        )
        return opened

    async def _store_open(self, row: OpenTask) -> TaskOpened:
        summary = f"open {row.kind}: {row.title}"[:200]
        if workflow.patched(INBOX_WRITES_LOCAL):
            return await local_db_write(TaskActivities.open_task, row, summary)
        return await workflow.execute_activity_method(
            TaskActivities.open_task,
            row,
            task_queue=department_queue(self._prefix, row.department),
            start_to_close_timeout=DB_TIMEOUT,
            heartbeat_timeout=DB_HEARTBEAT,
            retry_policy=DB_RETRY,
            summary=summary,
        )

    def check(self, cmd: CompleteTask) -> tuple[TaskState, Payload]:
        """Validate a completion without side effects; raise the rejection the API maps."""
        task = self.tasks.get(cmd.task_id)
        if task is None:
            raise reject(TASK_NOT_FOUND, f"task {cmd.task_id} is not a task of this order")
        if not task.is_open:
            raise reject(
                TASK_NOT_OPEN,
                not_open_message(task.task_id, task.state, task.completed_by, task.completed_at),
            )
        allowed = TASK_KINDS[task.kind].completer_roles
        if not set(cmd.roles) & set(allowed):
            raise reject(FORBIDDEN, f"{task.kind} may be completed by {', '.join(allowed)}")
        try:
            payload = TASK_KINDS[task.kind].payload.parse(cmd.payload)
        except ValidationError as exc:
            problems = [
                {
                    "field": ".".join(str(p) for p in e["loc"]) or "payload",
                    "problem": str(e["msg"]).removeprefix("Value error, "),
                }
                for e in exc.errors()
            ]
            raise reject(
                INVALID_PAYLOAD,
                "; ".join(f"{p['field']}: {p['problem']}" for p in problems),
                problems=problems,
            ) from exc
        return task, payload

    async def complete(self, cmd: CompleteTask) -> TaskState:
        """Take a checked completion: the task is done in the workflow before any await."""
        task, payload = self.check(cmd)  # again: a concurrent update may have won
        task.state = DONE
        task.payload = payload.model_dump(mode="json")
        task.completed_by = cmd.by
        task.completed_at = workflow.now()
        await self._close(task)
        return task

    async def withdraw_all(self) -> None:
        """Withdraw every open task (a declined or cancelled order leaves no inbox row open)."""
        for task in self.open_tasks():
            await self.withdraw(task)

    async def withdraw(self, task: TaskState) -> None:
        """Take an open task out of its inbox: what it asked for is no longer needed."""
        if not task.is_open:
            return
        task.state = WITHDRAWN
        task.completed_at = workflow.now()
        await self._close(task)

    async def _close(self, task: TaskState) -> None:
        close = CloseTask(
            task_id=task.task_id,
            department=task.department,
            state=task.state,
            payload=task.payload,
            by=task.completed_by,
            at=task.completed_at or workflow.now(),
        )
        try:
            await self._store_close(task, close)
        except ActivityError as err:
            cause = bad_data_cause(err)
            if cause is None or not workflow.patched(CLOSE_WITHOUT_BAD_PAYLOAD):
                raise
            # The workflow holds the payload already; the inbox row closes without it, so the
            # row and the workflow agree, and ops hears what could not be stored.
            await self.escalator.escalate(
                key=f"{task.task_id}:bad_data",
                kind="bad_data",
                level=1,
                task_id=task.task_id,
                department=task.department,
                role="ops",
                message=f"{task.title} ({task.kind}) closed without its payload, which the "
                f"inbox cannot store: {cause}"[:1000],
            )
            await self._store_close(task, close.model_copy(update={"payload": None}))

    async def _store_close(self, task: TaskState, close: CloseTask) -> None:
        summary = f"{task.state} {task.kind} {task.task_id}"[:200]
        if workflow.patched(INBOX_WRITES_LOCAL):
            await local_db_write(TaskActivities.close_task, close, summary)
            return
        await workflow.execute_activity_method(
            TaskActivities.close_task,
            close,
            task_queue=department_queue(self._prefix, task.department),
            start_to_close_timeout=DB_TIMEOUT,
            heartbeat_timeout=DB_HEARTBEAT,
            retry_policy=DB_RETRY,
            summary=summary,
        )

    async def _watch(self, task: TaskState) -> None:
        for level, role in ((1, f"head:{task.department}"), (2, "division")):
            while True:
                deadline = task.due_at if level == 1 else task.second_level_at
                if not await wait_for(
                    lambda: not task.is_open or self.out_of_date(task),
                    deadline,
                    f"{task.kind} escalates to {role} at {deadline:%Y-%m-%d %H:%M}Z",
                ):
                    break
                if not task.is_open:
                    return
                await self.retime(task)  # the calendar changed: count its clock again
            task.escalation_level = level
            late = workflow.now() - task.created_at
            await self.escalator.escalate(
                key=f"{task.task_id}:L{level}",
                kind="task_overdue",
                level=level,
                task_id=task.task_id,
                department=task.department,
                role=role,
                due_at=task.due_at,
                message=f"{task.title} ({task.kind}) still open {_hours(late)} after it was "
                f"opened; it was due {task.due_at:%Y-%m-%d %H:%M}Z",
            )

    async def until_due(
        self, task: TaskState, condition: Callable[[], bool], summary: Callable[[datetime], str]
    ) -> bool:
        """Wait for `condition`, at most until the task is due (following its due time when
        a calendar change moves it); True when the condition holds."""
        while True:
            due = task.due_at
            if not await wait_for(
                lambda: condition() or task.due_at != due,  # noqa: B023 (awaited here)
                due,
                summary(due),
            ):
                return False
            if condition():
                return True

    def out_of_date(self, task: TaskState) -> bool:
        """Whether the calendar changed since the task's due times were counted."""
        heard, counted = self.state.clocks.heard, task.calendar_version
        # A task opened before working time (no version) keeps the due times it has.
        return heard is not None and counted is not None and heard != counted

    async def retime(self, task: TaskState) -> None:
        """Count the task's due times again on the current calendar (the inbox row too)."""
        opened = await workflow.execute_activity_method(
            TaskActivities.retime_task,
            RetimeTask(
                task_id=task.task_id,
                kind=task.kind,
                department=task.department,
                created_at=task.created_at,
                # A task opened with an instant keeps it; a clock or an SLA is counted again.
                due_at=task.due_at if task.fixed_due else None,
                due_clock=task.due_clock,
            ),
            task_queue=department_queue(self._prefix, task.department),
            start_to_close_timeout=DB_TIMEOUT,
            heartbeat_timeout=DB_HEARTBEAT,
            retry_policy=DB_RETRY,
            summary=f"re-time {task.kind} {task.task_id} on calendar {self.state.clocks.heard}",
        )
        task.due_at, task.second_level_at = opened.due_at, opened.second_level_at
        # Heard of since: counted on a newer calendar; a still newer one wakes this again.
        task.calendar_version = opened.calendar_version
        if self.state.clocks.heard != opened.calendar_version:
            self.state.clocks.heard = opened.calendar_version


async def wait_for(done: Callable[[], bool], deadline: datetime, summary: str) -> bool:
    """Wait for `done`, at most until `deadline` (a timer with `summary`); True when it
    holds, False when the deadline came first."""
    remaining = deadline - workflow.now()
    if done():
        return True
    if remaining <= timedelta(0):
        return False
    try:
        await workflow.wait_condition(done, timeout=remaining, timeout_summary=summary[:200])
    except TimeoutError:
        return done()
    return True


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"
