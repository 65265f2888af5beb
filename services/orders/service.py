"""The order read model: the list of orders, from every department's tables (the one package
that reads them all; the view of one order is services/orders/view.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.orders.schemas import OrderSummary
from services.sales.models import Order, OrderProgress
from shared.like import LIKE_ESCAPE, escape_like


def _late_clause(now: datetime) -> ColumnElement[bool]:
    """An order is late when a task of it is overdue or its ship forecast passes its due date:
    from the order's progress row (migration 0022's read model), compared with `now`."""
    overdue_task = col(OrderProgress.next_due_at) < now
    ship_late = col(OrderProgress.ship_forecast) > col(Order.due_date)
    # No progress row, no open task or no due date compare as NULL: not late.
    return and_(
        col(Order.status) == "active",
        func.coalesce(or_(overdue_task, ship_late), False),
    )


def _open_task_count() -> Any:
    return func.coalesce(col(OrderProgress.open_tasks), 0)


# The order's own columns of a list row (OrderSummary's, less `late` and `open_task_count`).
SUMMARY_COLUMNS: tuple[str, ...] = (
    "order_no",
    "workflow_id",
    "customer",
    "project_name",
    "stage",
    "status",
    "priority",
    "requested_date",
    "due_date",
    "created_at",
)


class UnknownCursor(LookupError):
    """`after` names no order."""


async def list_orders(
    session: AsyncSession,
    *,
    stage: str | None = None,
    status: str | None = None,
    customer: str | None = None,
    late: bool | None = None,
    limit: int = 100,
    offset: int = 0,
    after: str | None = None,
    now: datetime | None = None,
) -> list[OrderSummary]:
    """Orders, newest first (then by number), filtered by stage, status, customer and lateness.

    `after` (an order number, the last of the previous page) starts the page after that order
    in this order: a keyset page costs the same however deep it is, where `offset` reads and
    drops every row before it. Raises UnknownCursor when no order has that number."""
    now = now or datetime.now(UTC)
    late_col = _late_clause(now)
    query = (
        select(
            *(col(getattr(Order, name)) for name in SUMMARY_COLUMNS),
            late_col.label("late"),
            _open_task_count().label("open_task_count"),
        )
        .outerjoin(OrderProgress, col(OrderProgress.order_no) == col(Order.order_no))
        .order_by(col(Order.created_at).desc(), col(Order.order_no))
        .limit(limit)
        .offset(offset)
    )
    if after is not None:
        cursor = (
            await session.execute(select(col(Order.created_at)).where(col(Order.order_no) == after))
        ).scalar_one_or_none()
        if cursor is None:
            raise UnknownCursor(after)
        # The first condition lets the index scan start at the cursor; the second breaks ties.
        query = query.where(
            col(Order.created_at) <= cursor,
            or_(
                col(Order.created_at) < cursor,
                and_(col(Order.created_at) == cursor, col(Order.order_no) > after),
            ),
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
    # Plain columns, not ORM objects: a page of 100 builds in a fraction of the time.
    return [OrderSummary.model_validate(row._mapping) for row in rows]


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
