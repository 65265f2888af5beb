"""Warehouse routes: the inbox, what engineering released to it, stock, receipts, returns and
lot traceability."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, status
from sqlalchemy.exc import IntegrityError

from services.engineering.api import release_router
from services.tasks.api import task_router
from services.warehouse.pick_check import PICKING, check_picking
from services.warehouse.receiving.api import receipt_router
from services.warehouse.returns import (
    RETURN_ROLES,
    create_return,
    earlier_return,
    keep_return,
    tell_orders,
)
from services.warehouse.schemas import ReturnCreate, ReturnPublic, StockPublic
from services.warehouse.service import stock
from services.warehouse.trace import TRACE_READERS, trace_lots
from services.warehouse.trace_schemas import TracePublic
from shared.deps import CurrentUser, SessionDep, TemporalDep
from shared.errors import invalid, not_found

router = APIRouter(prefix="/warehouse", tags=["warehouse"])
router.include_router(task_router("warehouse", {PICKING: check_picking}))
router.include_router(release_router("warehouse"))
router.include_router(receipt_router)


@router.get("/stock", response_model=list[StockPublic])
async def get_stock(
    session: SessionDep, user: CurrentUser, item: str | None = None
) -> list[StockPublic]:
    """Stock per item: on hand, pending inspection, reserved per order, free. Any role reads it."""
    return await stock(session, item)


@router.get("/trace", response_model=TracePublic)
async def get_trace(
    session: SessionDep,
    user: CurrentUser,
    lot: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    item: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> TracePublic:
    """A lot's genealogy forwards: supplier, receipt, inspection, NCRs, stock, the orders that
    picked it and every movement; `?item=` alone traces every lot of the item, newest first."""
    user.require(TRACE_READERS, "reading traceability")
    if lot is None and item is None:
        raise invalid("invalid_request", "name a lot (?lot=) or an item (?item=) to trace")
    trace = await trace_lots(session, lot_no=lot, item=item)
    if trace is None:
        if lot is None:
            raise not_found(f"a lot of item {item}")
        raise not_found(f"lot {lot}" if item is None else f"item {item} in lot {lot}")
    return trace


@router.post("/returns", status_code=status.HTTP_201_CREATED, response_model=ReturnPublic)
async def post_return(
    body: ReturnCreate,
    session: SessionDep,
    temporal: TemporalDep,
    user: CurrentUser,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> ReturnPublic:
    """Goods back to stock (P7.2): engineering-change surplus, leftovers, after-sales returns;
    the freed stock goes to orders short of it. A line that cannot be returned refuses all.
    An `Idempotency-Key` makes a retry answer the return it booked instead of a second one."""
    user.require(RETURN_ROLES, "returning goods to stock")
    if idempotency_key:
        earlier = await earlier_return(session, key=idempotency_key, by=user.sub, body=body)
        if earlier is not None:
            return earlier
    result = await create_return(session, body, by=user.sub, at=datetime.now(UTC))
    keep_return(session, result, body, idempotency_key)
    try:
        await session.commit()
    except IntegrityError:  # the same key, booked by a concurrent retry: answer that one
        await session.rollback()
        assert idempotency_key is not None
        earlier = await earlier_return(session, key=idempotency_key, by=user.sub, body=body)
        if earlier is None:
            raise
        return earlier
    await tell_orders(temporal, result.allocated)
    return result
