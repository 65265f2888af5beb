"""The cross-department routes every gateway mounts: `/orders` (list, view, trace) and `/kpis`
(API.md `/orders`, `/kpis`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from services.orders.kpi_schemas import Kpis
from services.orders.kpis import kpis
from services.orders.schemas import OrderSummary, OrderView
from services.orders.service import list_orders, order_view
from services.warehouse.order_trace import order_trace
from services.warehouse.trace import TRACE_READERS
from services.warehouse.trace_schemas import OrderTrace
from shared.auth import KPI_READERS
from shared.deps import CurrentUser, MonthQuery, SessionDep, WeekQuery, period_of
from shared.errors import invalid, not_found
from shared.params import CustomerQuery, OffsetQuery, OrderNoPath
from shared.periods import month_of, week_of
from shared.types import STAGES

# `/orders` and `/kpis` belong to no one department: every gateway serves them.
router = APIRouter()


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
) -> list[OrderSummary]:
    """Orders, newest first; filter by stage, status, customer (substring) and lateness."""
    if stage is not None and stage not in STAGES:
        raise invalid("invalid_request", f"stage must be one of {', '.join(STAGES)}")
    return await list_orders(
        session,
        stage=stage,
        status=status,
        customer=customer,
        late=late,
        limit=limit,
        offset=offset,
    )


@router.get("/orders/{order_no}", response_model=OrderView, tags=["orders"])
async def get_order(order_no: OrderNoPath, session: SessionDep, user: CurrentUser) -> OrderView:
    """One order: stage, status, plan, milestones, open tasks, escalations and its timeline."""
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
    session: SessionDep, user: CurrentUser, week: WeekQuery = None, month: MonthQuery = None
) -> Kpis:
    """Plan achievement per department for a week and a month, and for the month on-time
    delivery, incoming-inspection SLA, DCN response, shortages and first-pass yield; open
    escalations by age now. Defaults: the current ISO week and month (UTC)."""
    user.require(KPI_READERS, "reading KPIs")
    today = datetime.now(UTC).date()
    return await kpis(
        session,
        week=period_of("week", week) if week is not None else week_of(today),
        month=period_of("month", month) if month is not None else month_of(today),
    )
