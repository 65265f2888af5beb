"""The daily production plan (《生产日计划表》, §2.3): for one local day of the plant, the orders
in production with their plan, what is due that day per department, and what slipped on the
working day before. Recomputed from the plan's milestones and the inboxes on every request,
never stored by hand."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.planning.models import Milestone
from services.planning.scheduling import MILESTONE_OWNERS
from services.sales.models import Order
from shared.bounds import FREE_TEXT_LEN, KIND_LEN, NAME_LEN, ORDER_NO_LEN, TASK_ID_LEN
from shared.payloads import MILESTONES
from shared.settings import DEPARTMENTS
from shared.tasks.models import OPEN, inbox
from shared.working_time.calendar import FactoryCalendar

# Orders that no longer go anywhere: never on the day's plan.
_GONE = ("cancelled", "declined")
# Days searched back for the previous working day (a plant is never off for a year).
_SEARCH_DAYS = 366
# Name lengths of the milestone, department and stage columns.
_SHORT = 32


# One milestone of an order's current plan.
class PlanDates(BaseModel):
    planned: date
    forecast: date
    actual: date | None


# An order in production on the day: stage production, or its planned or forecast production
# window covers the day.
class OrderInProduction(BaseModel):
    order_no: str = Field(max_length=ORDER_NO_LEN)
    customer: str = Field(max_length=NAME_LEN)
    project_name: str
    stage: str = Field(max_length=_SHORT)
    status: str = Field(max_length=16)
    milestones: dict[str, PlanDates] = Field(max_length=len(MILESTONES))


# A milestone planned for a day, with the department that answers for it.
class MilestoneDue(BaseModel):
    order_no: str = Field(max_length=ORDER_NO_LEN)
    milestone: str = Field(max_length=_SHORT)
    department: str = Field(max_length=_SHORT)
    planned: date
    forecast: date
    actual: date | None


# An open inbox task due on the day (its due instant falls in the plant's local day).
class TaskDue(BaseModel):
    task_id: str = Field(max_length=TASK_ID_LEN)
    kind: str = Field(max_length=KIND_LEN)
    order_no: str = Field(max_length=ORDER_NO_LEN)
    title: str
    due_at: datetime
    escalation_level: int = Field(ge=0)


# What one department has due on the day.
class DepartmentDue(BaseModel):
    department: str = Field(max_length=_SHORT)
    milestones: list[MilestoneDue]
    tasks: list[TaskDue]


class DailyPlan(BaseModel):
    date: dt.date
    zone: str = Field(max_length=64, description="the plant's IANA zone the day is cut in")
    working: bool = Field(description="whether the plant works on the day")
    note: str | None = Field(
        max_length=FREE_TEXT_LEN, description="why the day is what it is (weekend, a holiday, …)"
    )
    previous_working_day: dt.date = Field(description="the working day `slipped` looks at")
    in_production: list[OrderInProduction]
    due: list[DepartmentDue] = Field(
        max_length=len(DEPARTMENTS), description="every department, in the settings' order"
    )
    slipped: list[MilestoneDue] = Field(
        description="milestones planned on the previous working day without an actual"
    )


def previous_working_day(calendar: FactoryCalendar, day: date) -> date:
    """The last working day before `day`."""
    before = day - timedelta(days=1)
    for _ in range(_SEARCH_DAYS):
        if calendar.is_working_day(before):
            return before
        before -= timedelta(days=1)
    return before


def _due(row: Milestone) -> MilestoneDue:
    # The owner as the KPIs count it (MILESTONE_OWNERS), like the escalations of a slip.
    return MilestoneDue(
        order_no=row.order_no,
        milestone=row.name,
        department=MILESTONE_OWNERS.get(row.name, row.owner),
        planned=row.planned,
        forecast=row.forecast,
        actual=row.actual,
    )


def _order_of_milestones(rows: list[Any]) -> list[MilestoneDue]:
    """By order number, then in the plan's order of milestones."""
    due = [_due(row) for row in rows]
    return sorted(due, key=lambda m: (m.order_no, MILESTONES.index(m.milestone)))


async def _planned_on(session: AsyncSession, day: date) -> list[Milestone]:
    """Milestones of live orders planned for `day`."""
    rows = await session.execute(
        select(Milestone)
        .join(Order, col(Order.order_no) == col(Milestone.order_no))
        .where(col(Milestone.planned) == day, col(Order.status).not_in(_GONE))
    )
    return list(rows.scalars())


async def _in_production(session: AsyncSession, day: date) -> list[OrderInProduction]:
    """Orders in stage production, or whose planned or forecast window covers `day`."""
    start = Milestone.__table__.alias("start")  # type: ignore[attr-defined]
    end = Milestone.__table__.alias("end")  # type: ignore[attr-defined]
    windows = await session.execute(
        select(start.c.order_no)
        .join(end, (end.c.order_no == start.c.order_no) & (end.c.name == "production_end"))
        .where(
            start.c.name == "production_start",
            or_(
                and_(start.c.planned <= day, end.c.planned >= day),
                and_(start.c.forecast <= day, end.c.forecast >= day),
            ),
        )
    )
    in_window = set(windows.scalars())
    orders = await session.execute(
        select(Order).where(
            col(Order.status).not_in(_GONE),
            or_(col(Order.stage) == "production", col(Order.order_no).in_(sorted(in_window))),
        )
    )
    found = {o.order_no: o for o in orders.scalars()}
    if not found:
        return []
    rows = await session.execute(
        select(Milestone).where(col(Milestone.order_no).in_(sorted(found)))
    )
    plans: dict[str, dict[str, PlanDates]] = defaultdict(dict)
    for m in rows.scalars():
        plans[m.order_no][m.name] = PlanDates(
            planned=m.planned, forecast=m.forecast, actual=m.actual
        )
    return [
        OrderInProduction(
            order_no=o.order_no,
            customer=o.customer,
            project_name=o.project_name,
            stage=o.stage,
            status=o.status,
            milestones={n: plans[o.order_no][n] for n in MILESTONES if n in plans[o.order_no]},
        )
        for o in sorted(found.values(), key=lambda o: o.order_no)
    ]


async def _tasks_due(
    session: AsyncSession, department: str, start: datetime, end: datetime
) -> list[TaskDue]:
    """A department's open tasks due in [start, end), the earliest first."""
    table = inbox(department)
    rows = await session.execute(
        select(table)
        .where(table.c.state == OPEN, table.c.due_at >= start, table.c.due_at < end)
        .order_by(table.c.due_at, table.c.task_id)
    )
    return [
        TaskDue(
            task_id=r.task_id,
            kind=r.kind,
            order_no=r.order_no,
            title=r.title,
            due_at=r.due_at,
            escalation_level=r.escalation_level,
        )
        for r in rows
    ]


async def daily_plan(session: AsyncSession, calendar: FactoryCalendar, day: date) -> DailyPlan:
    """The plant's plan for the local date `day` (a day off is answered too, with
    `working: false`)."""
    zone = calendar.zone
    start = datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    planned = _order_of_milestones(await _planned_on(session, day))
    due = []
    for dept in DEPARTMENTS:
        due.append(
            DepartmentDue(
                department=dept,
                milestones=[m for m in planned if m.department == dept],
                tasks=await _tasks_due(session, dept, start, end),
            )
        )
    before = previous_working_day(calendar, day)
    missed = [m for m in await _planned_on(session, before) if m.actual is None]
    return DailyPlan(
        date=day,
        zone=calendar.data.zone,
        working=calendar.is_working_day(day),
        note=calendar.day(day).note,
        previous_working_day=before,
        in_production=await _in_production(session, day),
        due=due,
        slipped=_order_of_milestones(missed),
    )
