"""The cross-department routes every gateway mounts: `/orders` (list, view, trace), `/kpis`
(API.md `/orders`, `/kpis`) and the daily production plan `/planning/daily-plan` (it reads
every department's inbox and the sales orders, like the order view)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AfterValidator

from services.orders.daily_plan import DailyPlan, daily_plan
from services.orders.kpi_schemas import Kpis
from services.orders.kpis import kpis
from services.orders.schemas import OrderSummary, OrderView
from services.orders.service import UnknownCursor, list_orders
from services.orders.view import order_view
from services.warehouse.order_trace import order_trace
from services.warehouse.trace import TRACE_READERS
from services.warehouse.trace_schemas import OrderTrace
from shared.auth import KPI_READERS
from shared.bounds import EARLIEST_DATE, LATEST_DATE
from shared.db import autocommit
from shared.deps import (
    CurrentUser,
    EngineDep,
    MonthQuery,
    SessionDep,
    SettingsDep,
    WeekQuery,
    period_of,
)
from shared.errors import invalid, not_found
from shared.params import CustomerQuery, OffsetQuery, OrderNoPath, OrderNoQuery
from shared.periods import local_date, month_of, week_of
from shared.types import STAGES
from shared.working_time.store import CalendarSource

# `/orders` and `/kpis` belong to no one department: every gateway serves them.
router = APIRouter()

# Who reads the daily production plan (admin always may).
DAILY_PLAN_READERS: tuple[str, ...] = ("planning", "production", "ops", "division")


def _within_dates(day: date | None) -> date | None:
    if day is not None and not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValueError(f"must lie between {EARLIEST_DATE} and {LATEST_DATE}")
    return day


DayQuery = Annotated[
    date | None,
    Query(description="the plant's local date, YYYY-MM-DD; default today in its zone"),
    AfterValidator(_within_dates),
]


@router.get("/orders", response_model=list[OrderSummary], tags=["orders"])
async def get_orders(
    session: SessionDep,
    user: CurrentUser,
    stage: Annotated[str | None, Query(description=f"one of {', '.join(STAGES)}")] = None,
    status: Annotated[str | None, Query(pattern="^(active|closed|declined|cancelled)$")] = None,
    customer: CustomerQuery = None,
    late: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: OffsetQuery = 0,
    # Keyset paging: the last order number of the previous page (as quick deep as shallow).
    after: OrderNoQuery = None,
) -> list[OrderSummary]:
    """Orders, newest first; filter by stage, status, customer (substring) and lateness. Page
    with `after` (the last order number of the previous page) or with `offset`."""
    if stage is not None and stage not in STAGES:
        raise invalid("invalid_request", f"stage must be one of {', '.join(STAGES)}")
    try:
        return await list_orders(
            session,
            stage=stage,
            status=status,
            customer=customer,
            late=late,
            limit=limit,
            offset=offset,
            after=after,
        )
    except UnknownCursor:
        raise invalid(
            "invalid_request",
            "after names no order; pass the order_no of the last order of the previous page",
        ) from None


@router.get("/orders/{order_no}", response_model=OrderView, tags=["orders"])
async def get_order(order_no: OrderNoPath, session: SessionDep, user: CurrentUser) -> OrderView:
    """One order: stage, status, plan, milestones, open tasks, escalations and its timeline."""
    await autocommit(session)  # one statement: no BEGIN/ROLLBACK around it
    view = await order_view(session, order_no)
    if view is None:
        raise not_found(f"order {order_no}")
    return view


@router.get("/orders/{order_no}/trace", response_model=OrderTrace, tags=["orders"])
async def get_order_trace(
    order_no: OrderNoPath, session: SessionDep, user: CurrentUser
) -> OrderTrace:
    """Backwards from an order to the supplier lot of every quantity picked for it."""
    user.require(TRACE_READERS, "reading traceability")
    trace = await order_trace(session, order_no)
    if trace is None:
        raise not_found(f"order {order_no}")
    return trace


@router.get("/kpis", response_model=Kpis, tags=["kpis"])
async def get_kpis(
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    week: WeekQuery = None,
    month: MonthQuery = None,
) -> Kpis:
    """Plan achievement per department for a week and a month, and for the month on-time
    delivery, incoming-inspection SLA, DCN response, shortages and first-pass yield; open
    escalations by age now. Weeks and months are cut at the plant's local midnights
    (`timezone`); defaults: the current local ISO week and month."""
    user.require(KPI_READERS, "reading KPIs")
    zone = settings.timezone
    today = local_date(datetime.now(UTC), zone)
    return await kpis(
        session,
        week=period_of("week", week, zone) if week is not None else week_of(today, zone),
        month=period_of("month", month, zone) if month is not None else month_of(today, zone),
    )


@router.get("/planning/daily-plan", response_model=DailyPlan, tags=["planning"])
async def get_daily_plan(
    session: SessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    user: CurrentUser,
    date: DayQuery = None,
) -> DailyPlan:
    """The daily production plan (《生产日计划表》) of one local day: the orders in production with
    their planned and forecast milestones, what is due that day per department (milestones
    planned, open tasks due), and the milestones of the previous working day without an
    actual. A day off answers too, with `working: false`."""
    user.require(DAILY_PLAN_READERS, "reading the daily production plan")
    source = CalendarSource(engine, settings)
    if date is None:
        calendar = await source.current()
        day = calendar.local_date(datetime.now(UTC))
    else:
        # A day years away needs that year's public holidays (and the year before's, for the
        # previous working day).
        day = date
        calendar = await source.covering(day - timedelta(days=366), day)
    return await daily_plan(session, calendar, day)
