"""Planning routes: the order views every department reads, plan revisions, the inbox."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.planning.schemas import OrderSummary, OrderView, PlanHistory
from services.planning.service import list_orders, order_view, plan_history
from services.sales.service import order_exists
from services.warehouse.order_trace import order_trace
from services.warehouse.trace import TRACE_READERS
from services.warehouse.trace_schemas import OrderTrace
from shared.deps import CurrentUser, SessionDep
from shared.errors import invalid, not_found
from shared.tasks.api import task_router
from shared.types import STAGES

router = APIRouter(prefix="/planning", tags=["planning"])
router.include_router(task_router("planning"))

# `/orders` belongs to no one department: it is the read model planning keeps for all.
orders_router = APIRouter(tags=["orders"])


@router.get("/orders/{order_no}/plan", response_model=PlanHistory)
async def get_plan(order_no: str, session: SessionDep, user: CurrentUser) -> PlanHistory:
    """Every master-plan revision of an order: milestones planned, forecast and actual."""
    if not await order_exists(session, order_no):
        raise not_found(f"order {order_no}")
    return await plan_history(session, order_no)


@orders_router.get("/orders", response_model=list[OrderSummary])
async def get_orders(
    session: SessionDep,
    user: CurrentUser,
    stage: Annotated[str | None, Query(description=f"one of {', '.join(STAGES)}")] = None,
    status: Annotated[str | None, Query(pattern="^(active|closed|declined|cancelled)$")] = None,
    customer: Annotated[str | None, Query(max_length=200)] = None,
    late: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
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


@orders_router.get("/orders/{order_no}", response_model=OrderView)
async def get_order(order_no: str, session: SessionDep, user: CurrentUser) -> OrderView:
    """One order: stage, status, plan, milestones, open tasks, escalations and its timeline."""
    view = await order_view(session, order_no)
    if view is None:
        raise not_found(f"order {order_no}")
    return view


@orders_router.get("/orders/{order_no}/trace", response_model=OrderTrace)
async def get_order_trace(order_no: str, session: SessionDep, user: CurrentUser) -> OrderTrace:
    """Backwards from an order to the supplier lot of every quantity picked for it."""
    user.require(TRACE_READERS, "reading traceability")
    trace = await order_trace(session, order_no)
    if trace is None:
        raise not_found(f"order {order_no}")
    return trace
