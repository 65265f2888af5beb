"""Inbox queries: a department's tasks, one task, an order's open tasks across departments."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, literal, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.like import LIKE_ESCAPE, escape_like
from shared.settings import DEPARTMENTS
from shared.tasks.kinds import TASK_KINDS
from shared.tasks.models import INBOXES, OPEN, WITHDRAWN, inbox
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


async def find_task(session: AsyncSession, *, department: str, task_id: str) -> TaskPublic | None:
    """One task as its inbox lists it (what a completion checks); None when there is none."""
    table = inbox(department)
    row = (await session.execute(select(table).where(table.c.task_id == task_id))).first()
    return None if row is None else task_public(row, department)


async def get_task(session: AsyncSession, *, department: str, task_id: str) -> TaskDetail | None:
    """One task with the JSON schema of its payload; None when the inbox has no such task."""
    task = await find_task(session, department=department, task_id=task_id)
    if task is None:
        return None
    spec = TASK_KINDS[task.kind]
    return TaskDetail(
        **task.model_dump(),
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


# -- writes other than a workflow's own task activities ---------------------------------------


async def withdraw_late_tasks(
    session: AsyncSession, *, workflow_id: str, order_no: str, at: datetime
) -> None:
    """Withdraw, in every inbox, the open tasks of an order's workflow and of its design
    changes (`dcn-…`): rows whose opening landed after those workflows withdrew their own."""
    for table in INBOXES.values():
        await session.execute(
            update(table)
            .where(
                table.c.state == OPEN,
                (table.c.workflow_id == workflow_id)
                | (
                    (table.c.order_no == order_no)
                    & table.c.workflow_id.startswith("dcn-", autoescape=True)
                ),
            )
            .values(state=WITHDRAWN, completed_at=at)
        )


async def open_elsewhere(
    session: AsyncSession, *, task_ids: Iterable[str], order_no: str
) -> set[str]:
    """Those of the tasks still open in some inbox under another order than `order_no` (work
    that carries on without it)."""
    wanted = set(task_ids)
    if not wanted:
        return set()
    still_open = union_all(
        *(
            select(table.c.task_id).where(
                table.c.task_id.in_(wanted),
                table.c.state == OPEN,
                table.c.order_no != order_no,
            )
            for table in INBOXES.values()
        )
    )
    return set((await session.execute(still_open)).scalars())


async def detach_tasks(
    session: AsyncSession, *, department: str, order_no: str, prefix: str
) -> None:
    """The department's open tasks of workflows named `<prefix>…` for the order carry on
    without it: their order number is cleared."""
    table = inbox(department)
    await session.execute(
        update(table)
        .where(
            table.c.order_no == order_no,
            table.c.state == OPEN,
            table.c.workflow_id.like(f"{escape_like(prefix)}%", escape=LIKE_ESCAPE),
        )
        .values(order_no="")
    )


async def withdrawn_of_workflows(
    session: AsyncSession, *, department: str, order_no: str, workflow_ids: Sequence[str]
) -> list[str]:
    """The withdrawn tasks of the order in the department's inbox that these workflows
    opened, by task id."""
    table = inbox(department)
    rows = await session.execute(
        select(table.c.task_id)
        .where(table.c.order_no == order_no)
        .where(table.c.workflow_id.in_(workflow_ids))
        .where(table.c.state == WITHDRAWN)
        .order_by(table.c.task_id)
    )
    return list(rows.scalars())
