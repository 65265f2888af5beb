"""The order read model: the list of orders, from every department's tables (the one package
that reads them all; the view of one order is services/orders/view.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.orders.schemas import OrderSummary
from services.planning.models import Milestone
from services.sales.models import Order
from shared.like import LIKE_ESCAPE, escape_like
from shared.settings import DEPARTMENTS
from shared.tasks.models import OPEN, inbox


def _late_clause(now: datetime) -> ColumnElement[bool]:
    """An order is late when a task of it is overdue or its ship forecast passes its due date."""
    overdue_task = or_(
        *(
            exists().where(
                inbox(d).c.order_no == col(Order.order_no),
                inbox(d).c.state == OPEN,
                inbox(d).c.due_at < now,
            )
            for d in DEPARTMENTS
        )
    )
    ship_late = exists().where(
        col(Milestone.order_no) == col(Order.order_no),
        col(Milestone.name) == "ship",
        col(Milestone.actual).is_(None),
        col(Milestone.forecast) > col(Order.due_date),
    )
    return and_(col(Order.status) == "active", or_(overdue_task, ship_late))


def _open_task_count() -> Any:
    counts = [
        select(func.count())
        .where(inbox(d).c.order_no == col(Order.order_no), inbox(d).c.state == OPEN)
        .scalar_subquery()
        for d in DEPARTMENTS
    ]
    total: Any = counts[0]
    for count in counts[1:]:
        total = total + count
    return total


async def list_orders(
    session: AsyncSession,
    *,
    stage: str | None = None,
    status: str | None = None,
    customer: str | None = None,
    late: bool | None = None,
    limit: int = 100,
    offset: int = 0,
    now: datetime | None = None,
) -> list[OrderSummary]:
    """Orders, newest first, filtered by stage, status, customer and lateness."""
    now = now or datetime.now(UTC)
    late_col = _late_clause(now)
    query = (
        select(Order, late_col.label("late"), _open_task_count().label("open_tasks"))
        .order_by(col(Order.created_at).desc(), col(Order.order_no))
        .limit(limit)
        .offset(offset)
    )
    if stage:
        query = query.where(col(Order.stage) == stage)
    if status:
        query = query.where(col(Order.status) == status)
    if customer:
        query = query.where(
            col(Order.customer).ilike(f"%{escape_like(customer)}%", escape=LIKE_ESCAPE)
        )
    if late is not None:
        query = query.where(late_col if late else ~late_col)
    rows = (await session.execute(query)).all()
    return [_summary(row.Order, bool(row.late), int(row.open_tasks)) for row in rows]


def _summary(order: Order, late: bool, open_tasks: int) -> OrderSummary:
    return OrderSummary(
        order_no=order.order_no,
        workflow_id=order.workflow_id,
        customer=order.customer,
        project_name=order.project_name,
        stage=order.stage,
        status=order.status,
        priority=order.priority,
        requested_date=order.requested_date,
        due_date=order.due_date,
        late=late,
        open_task_count=open_tasks,
        created_at=order.created_at,
    )
