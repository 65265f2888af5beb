"""Warehouse API types: stock per item."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel


# API.md `GET /warehouse/stock`: on hand, pending inspection, reserved per order, free.
class StockPublic(BaseModel):
    item: str
    on_hand: Decimal
    pending_inspection: Decimal
    reserved: dict[str, Decimal]
    free: Decimal
