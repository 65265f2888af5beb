"""Warehouse API types: stock per item, and returns to stock."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shared.bounds import ITEM_LEN, ORDER_NO_LEN, NoControl, Text


# API.md `GET /warehouse/stock`: on hand, pending inspection, reserved per order, free.
class StockPublic(BaseModel):
    item: str
    on_hand: Decimal
    pending_inspection: Decimal
    reserved: dict[str, Decimal]
    free: Decimal


ReturnKind = Literal["engineering_change", "leftover", "aftersales"]
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), NoControl
]


# One line of a return: an item, how much, and optionally the lot it goes back into.
class ReturnLineCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item: Text = Field(min_length=1, max_length=ITEM_LEN)
    qty: Decimal = Field(gt=0, max_digits=18, decimal_places=4, allow_inf_nan=False)
    lot_no: Annotated[str, Field(min_length=1, max_length=32), NoControl] | None = None


# P7.2 `POST /warehouse/returns`: engineering-change surplus, leftovers, after-sales returns.
class ReturnCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: ReturnKind
    order_no: Annotated[str, Field(min_length=1, max_length=ORDER_NO_LEN), NoControl] | None = None
    reason: Reason
    lines: list[ReturnLineCreate] = Field(min_length=1, max_length=500)
    # The after-sales service case the goods come back on (its order is the return's order).
    case_id: Annotated[str, Field(min_length=1, max_length=32), NoControl] | None = None

    @model_validator(mode="after")
    def _order_named_for_order_returns(self) -> ReturnCreate:
        if self.kind != "aftersales" and self.order_no is None:
            raise ValueError(f"order_no is required for a {self.kind} return")
        if self.case_id is not None and self.kind != "aftersales":
            raise ValueError(f"case_id links an aftersales return, not a {self.kind} one")
        return self


# Where part of a returned line went back into stock.
class ReturnedToLot(BaseModel):
    lot_no: str
    qty: Decimal


# What one line of a return did: taken off the order's reservation while still on the shelf
# (`unreserved`), and back onto on-hand stock (`returned`, lot by lot).
class ReturnLinePublic(BaseModel):
    item: str
    qty: Decimal
    unreserved: Decimal
    returned: Decimal
    lots: list[ReturnedToLot]


# A booked return, and the freed stock reserved for orders short of it (order → item → qty).
class ReturnPublic(BaseModel):
    return_no: str
    kind: ReturnKind
    order_no: str | None
    reason: str
    returned_by: str
    returned_at: datetime
    lines: list[ReturnLinePublic]
    allocated: dict[str, dict[str, Decimal]]
    case_id: str | None = None
