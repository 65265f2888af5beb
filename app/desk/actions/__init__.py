"""The desk's actions outside task forms (issue 14): sales (new order, customer change,
cancel), warehouse (receipt against a PO, returns) and production (assembly issue), each a
server-rendered form over the API."""

from __future__ import annotations

from fastapi import APIRouter

from app.desk.actions import production, sales, warehouse

router = APIRouter()
router.include_router(sales.router)
router.include_router(warehouse.router)
router.include_router(production.router)

__all__ = ["router"]
