"""Warehouse routes: the inbox, what engineering released to it, and stock."""

from __future__ import annotations

from fastapi import APIRouter

from services.engineering.api import release_router
from services.warehouse.receiving import receipt_router
from services.warehouse.schemas import StockPublic
from services.warehouse.service import stock
from shared.deps import CurrentUser, SessionDep
from shared.tasks.api import task_router

router = APIRouter(prefix="/warehouse", tags=["warehouse"])
router.include_router(task_router("warehouse"))
router.include_router(release_router("warehouse"))
router.include_router(receipt_router)


@router.get("/stock", response_model=list[StockPublic])
async def get_stock(
    session: SessionDep, user: CurrentUser, item: str | None = None
) -> list[StockPublic]:
    """Stock per item: on hand, pending inspection, reserved per order, free. Any role reads it."""
    return await stock(session, item)
