"""Activities that keep a department's inbox in step with its workflow.

Every one is idempotent: keyed by the task id the workflow chose, so a retry changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from temporalio import activity

from shared.activities import DbActivities
from shared.db import session_scope
from shared.settings import Settings
from shared.tasks.kinds import task_kind
from shared.tasks.models import OPEN, inbox
from shared.timeline import add_event
from shared.types import CloseTask, OpenTask, RetimeTask, TaskOpened
from shared.working_time.calendar import FactoryCalendar
from shared.working_time.clocks import ClockSpec, resolve


def due_times(
    calendar: FactoryCalendar,
    settings: Settings,
    *,
    kind: str,
    created_at: datetime,
    due_at: datetime | None,
    due_clock: ClockSpec | None,
) -> tuple[datetime, datetime]:
    """When a task is due and when it goes to the second escalation level, in working time.

    A task with a clock or an instant is due then, and at the second level once the working
    time until it has passed `factor` times; otherwise it is due its kind's SLA after it
    opened, and at the second level the SLA times the factor after it opened."""
    factor = settings.sla_escalation_second_level
    end_of_time = datetime.max.replace(tzinfo=UTC)
    if due_clock is not None:
        due_at = resolve(due_clock, calendar)
    if due_at is not None:
        if due_at >= end_of_time:
            return due_at, end_of_time
        span = calendar.working_between(created_at, due_at)
        return due_at, _or_end(lambda: calendar.add_working_hours(created_at, span * factor))
    sla = settings.task_sla(kind)
    return (
        _or_end(lambda: calendar.add_working(created_at, sla)),
        _or_end(lambda: calendar.add_working(created_at, sla * factor)),
    )


def _or_end(instant: Callable[[], datetime]) -> datetime:
    """`instant()`, or the last instant there is when it lies past it (9999-12-31)."""
    try:
        return instant()
    except OverflowError:
        return datetime.max.replace(tzinfo=UTC)


class TaskActivities(DbActivities):
    """Inbox writes for every department; the worker registers the bound methods."""

    @activity.defn
    async def open_task(self, task: OpenTask) -> TaskOpened:
        """Put a task into its department's inbox, due by its plan date or its kind's SLA,
        counted in the plant's working time."""
        calendar = await self.calendar.current()
        due_at, second_level_at = due_times(
            calendar,
            self._settings,
            kind=task.kind,
            created_at=task.created_at,
            due_at=task.due_at,
            due_clock=task.due_clock,
        )
        table = inbox(task.department)
        async with session_scope(self._engine) as session:
            await session.execute(
                insert(table)
                .values(
                    task_id=task.task_id,
                    kind=task.kind,
                    order_no=task.order_no,
                    workflow_id=task.workflow_id,
                    title=task.title,
                    state=OPEN,
                    context=task.context,
                    created_at=task.created_at,
                    due_at=due_at,
                    escalation_level=0,
                )
                .on_conflict_do_nothing(index_elements=["task_id"])
            )
            stored = (
                await session.execute(select(table.c.due_at).where(table.c.task_id == task.task_id))
            ).scalar_one()
            if task.order_no:  # a task for stock (no order) has no order timeline
                await add_event(
                    session,
                    key=f"{task.task_id}:opened",
                    order_no=task.order_no,
                    at=task.created_at,
                    kind="task_opened",
                    actor="orderflow",
                    summary=f"{task.title} ({task.kind}) opened for "
                    f"{task_kind(task.kind).department}",
                    detail={
                        "task_id": task.task_id,
                        "kind": task.kind,
                        "due_at": stored.isoformat(),
                    },
                )
        return TaskOpened(
            task_id=task.task_id,
            due_at=stored,
            second_level_at=second_level_at,
            calendar_version=calendar.version,
        )

    @activity.defn
    async def retime_task(self, task: RetimeTask) -> TaskOpened:
        """Count an open task's due times again on the calendar as it now stands (it changed:
        a shutdown was entered, say); its inbox row shows the new due time."""
        calendar = await self.calendar.current()
        due_at, second_level_at = due_times(
            calendar,
            self._settings,
            kind=task.kind,
            created_at=task.created_at,
            due_at=task.due_at,
            due_clock=task.due_clock,
        )
        table = inbox(task.department)
        async with session_scope(self._engine) as session:
            await session.execute(
                update(table)
                .where(table.c.task_id == task.task_id, table.c.state == OPEN)
                .values(due_at=due_at)
            )
        return TaskOpened(
            task_id=task.task_id,
            due_at=due_at,
            second_level_at=second_level_at,
            calendar_version=calendar.version,
        )

    @activity.defn
    async def close_task(self, close: CloseTask) -> None:
        """Mark a task done (with its payload and who did it) or withdrawn."""
        table = inbox(close.department)
        async with session_scope(self._engine) as session:
            row = (
                await session.execute(
                    update(table)
                    .where(table.c.task_id == close.task_id, table.c.state == OPEN)
                    .values(
                        state=close.state,
                        payload=close.payload,
                        completed_at=close.at,
                        completed_by=close.by,
                    )
                    .returning(table.c.order_no, table.c.kind, table.c.title)
                )
            ).first()
            if row is None or not row.order_no:  # a retry after a commit, or a stock task
                return
            verb = "completed" if close.state == "done" else close.state
            await add_event(
                session,
                key=f"{close.task_id}:{close.state}",
                order_no=row.order_no,
                at=close.at,
                kind=f"task_{verb}",
                actor=close.by or "orderflow",
                summary=f"{row.title} {verb}" + (f" by {close.by}" if close.by else ""),
                detail={"task_id": close.task_id, "kind": row.kind, "payload": close.payload},
            )
