"""Procurement routes: the inbox, the BOM it receives, requisitions, work and purchase orders."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from services.engineering.api import release_router
from services.procurement.buyer_api import router as buyer_router
from services.procurement.schemas import (
    PurchaseOrderPublic,
    RequisitionPublic,
    WorkOrderPublic,
)
from services.procurement.service import (
    list_purchase_orders,
    list_requisitions,
    list_work_orders,
)
from services.tasks.api import inbox_readers, task_router
from shared.auth import READ_ALL
from shared.deps import CurrentUser, SessionDep

router = APIRouter(prefix="/procurement", tags=["procurement"])
router.include_router(task_router("procurement"))
router.include_router(release_router("procurement"))
router.include_router(buyer_router)

READERS = inbox_readers("procurement")
State = Literal["open", "approved", "rejected", "ordered", "closed", "cancelled"]


@router.get("/requisitions", response_model=list[RequisitionPublic])
async def get_requisitions(
    session: SessionDep,
    user: CurrentUser,
    order_no: str | None = None,
    state: State | None = None,
) -> list[RequisitionPublic]:
    """Purchase requisitions MRP proposed, oldest first; filter by order and state."""
    user.require(READERS, "reading requisitions")
    return await list_requisitions(session, order_no=order_no, state=state)


@router.get("/work-orders", response_model=list[WorkOrderPublic])
async def get_work_orders(
    session: SessionDep,
    user: CurrentUser,
    order_no: str | None = None,
    state: State | None = None,
) -> list[WorkOrderPublic]:
    """Semi-finished work orders MRP proposed for make items; filter by order and state."""
    user.require((*READERS, "production"), "reading work orders")
    return await list_work_orders(session, order_no=order_no, state=state)


@router.get("/purchase-orders", response_model=list[PurchaseOrderPublic])
async def get_purchase_orders(
    session: SessionDep,
    user: CurrentUser,
    order_no: str | None = None,
    state: State | None = None,
) -> list[PurchaseOrderPublic]:
    """Purchase orders with their lines and received quantities; filter by order and state."""
    user.require(("procurement", "warehouse", *READ_ALL), "reading purchase orders")
    return await list_purchase_orders(session, order_no=order_no, state=state)
