"""Inbox routes every department mounts: list, show, complete (API.md `/{dept}/tasks`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Body, Query, status
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from services.orders.schemas import OrderView
from services.orders.view import order_view
from shared.auth import READ_ALL, Principal
from shared.db import autocommit
from shared.deps import CalendarDep, CurrentUser, SessionDep, TemporalDep
from shared.errors import (
    APIError,
    conflict,
    describe_validation,
    invalid,
    not_found,
    unavailable,
)
from shared.params import KindQuery, OffsetQuery, OrderNoQuery
from shared.payload_base import Payload
from shared.task_state import not_open_message
from shared.tasks.kinds import TASK_KINDS
from shared.tasks.models import OPEN
from shared.tasks.schemas import TaskDetail, TaskPublic
from shared.tasks.service import find_task, get_task, list_tasks
from shared.types import SETTLED, CompleteTask, TaskCompleted, Wait
from shared.updates import send_update
from shared.working_time.calendar import FactoryCalendar
from workflows.clients import TaskWorkflow, task_handle


def inbox_readers(department: str) -> tuple[str, ...]:
    """Who may read a department's inbox: its people, its head, whoever completes its kinds."""
    completers = {
        role
        for kind in TASK_KINDS.values()
        if kind.department == department
        for role in kind.completer_roles
    }
    return tuple(sorted({department, f"head:{department}", *READ_ALL, *completers}))


T = TypeVar("T", bound=TaskPublic)


def with_time_left(tasks: list[T], calendar: FactoryCalendar, now: datetime) -> list[T]:
    """The tasks with the working hours left until each open one is due (negative: overdue),
    on the plant's calendar."""
    for task in tasks:
        if task.state != OPEN:
            continue
        if task.due_at >= now:
            left = calendar.working_between(now, task.due_at)
        else:
            left = -calendar.working_between(task.due_at, now)
        task.due_in_working_hours = round(left.total_seconds() / 3600, 2)
    return tasks


# A department's own check of a completion before the update is sent: what the workflow's
# validator cannot judge without I/O (e.g. that a BOM draft named by id is the order's own).
CompletionCheck = Callable[[AsyncSession, TaskPublic, Payload], Awaitable[None]]


def task_router(department: str, checks: Mapping[str, CompletionCheck] | None = None) -> APIRouter:
    """The `/tasks` routes of one department's inbox; `checks` by kind run before an update."""
    router = APIRouter(tags=[f"{department} tasks"])
    readers = inbox_readers(department)

    @router.get("/tasks", response_model=list[TaskPublic])
    async def list_inbox(
        session: SessionDep,
        calendar: CalendarDep,
        user: CurrentUser,
        state: Literal["open", "done", "withdrawn"] | None = None,
        order_no: OrderNoQuery = None,
        kind: KindQuery = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
        offset: OffsetQuery = 0,
    ) -> list[TaskPublic]:
        """The department's inbox, earliest due first; filter by state, order or kind."""
        user.require(readers, f"reading the {department} inbox")
        tasks = await list_tasks(
            session,
            department=department,
            state=state,
            order_no=order_no,
            kind=kind,
            limit=limit,
            offset=offset,
        )
        return with_time_left(tasks, await calendar.current(), datetime.now(UTC))

    @router.get("/tasks/{task_id}", response_model=TaskDetail)
    async def show_task(
        task_id: str, session: SessionDep, calendar: CalendarDep, user: CurrentUser
    ) -> TaskDetail:
        """One task with its context and the JSON schema of the payload that completes it."""
        user.require(readers, f"reading the {department} inbox")
        task = await get_task(session, department=department, task_id=task_id)
        if task is None:
            raise not_found(f"task {task_id} in the {department} inbox")
        (shown,) = with_time_left([task], await calendar.current(), datetime.now(UTC))
        return shown

    @router.post("/tasks/{task_id}/complete", response_model=OrderView | TaskDetail)
    async def complete_task(
        task_id: str,
        session: SessionDep,
        temporal: TemporalDep,
        user: CurrentUser,
        payload: Annotated[dict[str, Any], Body()],
        wait: Annotated[
            Wait,
            Query(
                description="`settled` (the default): answer once the order has moved on, its "
                "next tasks open. `accepted`: answer once the task is closed and stored; the "
                "order view is read then, and the step's work (next tasks, stage) may still be "
                "under way."
            ),
        ] = SETTLED,
    ) -> OrderView | TaskDetail:
        """Complete a task with its kind's payload; 409 when it is not open, 422 when invalid.

        200 with the order view, or with the completed task when it belongs to no order (an
        inspection or a safety-stock purchase for stock). The shortest path: the token checked
        in memory, one read of the task, the update, one statement for the view; both reads
        without a transaction around them (no BEGIN/ROLLBACK round trips, and the connection
        goes back to the pool while the update runs)."""
        await autocommit(session)
        task = await find_task(session, department=department, task_id=task_id)
        if task is None:
            raise not_found(f"task {task_id} in the {department} inbox")
        spec = TASK_KINDS[task.kind]
        user.require(spec.completer_roles, f"completing {task.kind}")
        if task.state != OPEN:
            raise conflict(
                "task_not_open",
                not_open_message(task_id, task.state, task.completed_by, task.completed_at),
            )
        try:
            # Dates are held within 20 years of today here; the workflow re-checks without it.
            parsed = spec.payload.parse(payload, today=date.today())
        except ValidationError as exc:
            sentence, problems = describe_validation(list(exc.errors()))
            raise invalid("invalid_payload", sentence, problems=problems) from exc
        if checks and task.kind in checks:
            await checks[task.kind](session, task, parsed)
        await session.rollback()  # hands the connection back while the update runs
        await complete_once_known(temporal, task, payload, user, wait=wait)
        await autocommit(session)  # each statement reads what the workflow left
        if not task.order_no:
            done = await get_task(session, department=department, task_id=task_id)
            assert done is not None
            return done
        view = await order_view(session, task.order_no)
        if view is None:
            raise not_found(f"order {task.order_no}")
        return view

    return router


# How long a completion waits for a workflow to take in a task its inbox already shows.
CATCH_UP = timedelta(seconds=30)
CATCH_UP_POLL = 0.5


async def complete_once_known(
    temporal: Client, task: TaskPublic, payload: dict[str, Any], user: Principal, *, wait: Wait
) -> None:
    """Send the completion of an open inbox row, waiting while its workflow does not know it.

    A workflow writes a task's inbox row with a local activity, inside the workflow task that
    opens it (workflows/common.local_db_write). A worker lost after that write and before its
    workflow task completed leaves the row visible while Temporal gives the workflow task to
    another worker (after its 10 s timeout), which opens the task again under the same id. The
    workflow refuses the task as unknown until then; the completion is sent again until it is
    taken, and a workflow that never takes it in CATCH_UP answers 503.
    """
    deadline = time.monotonic() + CATCH_UP.total_seconds()
    while True:
        try:
            await send_completion(
                temporal, task.workflow_id, task.task_id, payload, user, wait=wait
            )
            return
        except APIError as exc:
            if exc.status != status.HTTP_404_NOT_FOUND:
                raise
            if time.monotonic() >= deadline:
                raise unavailable(
                    f"task {task.task_id} is open in the {task.department} inbox but its "
                    f"workflow {task.workflow_id} has not taken it in after "
                    f"{CATCH_UP.total_seconds():.0f} s (a worker restarted while opening it); "
                    "try again in a minute, and if it stays so, ops should look at the workflow"
                ) from exc
        await asyncio.sleep(CATCH_UP_POLL)


async def send_completion(
    temporal: Client,
    workflow_id: str,
    task_id: str,
    payload: dict[str, Any],
    user: Principal,
    *,
    wait: Wait = SETTLED,
) -> TaskCompleted:
    """Send the `complete_task` update; the workflow's refusal becomes its API error."""
    command = CompleteTask(
        task_id=task_id, payload=payload, by=user.sub, roles=sorted(user.roles), wait=wait
    )
    return await send_update(
        task_handle(temporal, workflow_id),
        TaskWorkflow.complete_task,
        command,
        ended=f"the workflow {workflow_id} has ended; {task_id} is closed",
        what="the completion",
    )
