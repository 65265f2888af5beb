"""Inbox queries: a department's tasks, one task, an order's open tasks across departments."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from shared.settings import DEPARTMENTS
from shared.tasks.kinds import TASK_KINDS
from shared.tasks.models import OPEN, inbox
from shared.tasks.schemas import TaskDetail, TaskPublic


def task_public(row: Row[Any] | Any, department: str, now: datetime | None = None) -> TaskPublic:
    now = now or datetime.now(UTC)
    data = dict(row._mapping)
    data.pop("department", None)
    return TaskPublic(
        **data,
        department=department,
        overdue=data["state"] == OPEN and data["due_at"] < now,
    )


async def list_tasks(
    session: AsyncSession,
    *,
    department: str,
    state: str | None,
    order_no: str | None = None,
    kind: str | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[TaskPublic]:
    """A department's inbox, the earliest due first."""
    table = inbox(department)
    query = select(table).order_by(table.c.due_at, table.c.task_id).limit(limit).offset(offset)
    if state:
        query = query.where(table.c.state == state)
    if order_no:
        query = query.where(table.c.order_no == order_no)
    if kind:
        query = query.where(table.c.kind == kind)
    rows = (await session.execute(query)).all()
    return [task_public(row, department) for row in rows]


async def get_task(session: AsyncSession, *, department: str, task_id: str) -> TaskDetail | None:
    """One task with the JSON schema of its payload; None when the inbox has no such task."""
    table = inbox(department)
    row = (await session.execute(select(table).where(table.c.task_id == task_id))).first()
    if row is None:
        return None
    spec = TASK_KINDS[row.kind]
    return TaskDetail(
        **task_public(row, department).model_dump(),
        payload_schema=spec.payload.model_json_schema(),
        completer_roles=list(spec.completer_roles),
    )


async def open_tasks_of(session: AsyncSession, order_no: str) -> list[TaskPublic]:
    """Every open task of an order, whichever inbox holds it."""
    parts = []
    for dept in DEPARTMENTS:
        table = inbox(dept)
        parts.append(
            select(table, literal(dept).label("department")).where(
                table.c.order_no == order_no, table.c.state == OPEN
            )
        )
    rows = (await session.execute(union_all(*parts).order_by("due_at"))).all()
    return [task_public(row, row.department) for row in rows]
