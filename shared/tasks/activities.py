"""Activities that keep a department's inbox in step with its workflow.

Every one is idempotent: keyed by the task id the workflow chose, so a retry changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from temporalio import activity

from shared.activities import DbActivities
from shared.db import session_scope
from shared.tasks.kinds import task_kind
from shared.tasks.models import OPEN, inbox
from shared.timeline import add_event
from shared.types import CloseTask, OpenTask, TaskOpened


class TaskActivities(DbActivities):
    """Inbox writes for every department; the worker registers the bound methods."""

    @activity.defn
    async def open_task(self, task: OpenTask) -> TaskOpened:
        """Put a task into its department's inbox, due by its plan date or its kind's SLA."""
        sla = self._settings.task_sla(task.kind)
        due_at = task.due_at or task.created_at + sla
        factor = self._settings.sla_escalation_second_level
        try:
            second_level_at = task.created_at + (due_at - task.created_at) * factor
        except OverflowError:  # due at the end of time (9999-12-31): so is the second level
            second_level_at = datetime.max.replace(tzinfo=UTC)
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
        return TaskOpened(task_id=task.task_id, due_at=stored, second_level_at=second_level_at)

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
