"""API types of the buyer's routes added in issue 16: a PO line's promise moved, requisitions
raised by hand, safety-stock levels and their history."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from shared.bounds import ITEM_LEN, ORDER_NO_LEN, PO_NO_LEN, BoundedDate, NoControl, Qty, Text

# `/procurement/purchase-orders/{po_no}/...` and `/procurement/items/{item}/...`.
PoNoPath = Annotated[str, Path(min_length=1, max_length=PO_NO_LEN), NoControl]
ItemPath = Annotated[str, Path(min_length=1, max_length=ITEM_LEN), NoControl]
REASON_LEN = 500


# `POST /procurement/purchase-orders/{po_no}/promise`.
class PromiseMove(BaseModel):
    model_config = ConfigDict(extra="forbid")
    line_no: int = Field(ge=1, le=100_000)
    promised_date: BoundedDate
    reason: Text = Field(default="", max_length=REASON_LEN)


class PromiseMovedPublic(BaseModel):
    po_no: str
    line_no: int
    item: str
    promised_date: date
    previous: date
    required_date: date | None
    # The new date lies after the date the material is required: the planner was warned.
    late: bool


# `POST /procurement/requisitions`: a requisition raised by hand (§4.4, §4.10).
class RequisitionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item: Text = Field(min_length=1, max_length=ITEM_LEN)
    qty: Qty = Field(gt=0)
    need_date: BoundedDate
    reason: Literal["pre_purchase", "temporary"]
    order_no: Text | None = Field(default=None, min_length=1, max_length=ORDER_NO_LEN)


# `PUT /procurement/items/{item}/safety-stock`.
class SafetyStockSet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    level: Qty = Field(ge=0)
    reason: Text = Field(default="", max_length=REASON_LEN)


class SafetyStockChangePublic(BaseModel):
    previous: Decimal
    level: Decimal
    reason: str
    changed_by: str
    changed_at: datetime


# `GET /procurement/items/{item}/safety-stock`: the level the daily MRP run uses and its history.
class SafetyStockPublic(BaseModel):
    item: str
    level: Decimal
    # `procurement` once the head has set it, `item_master` while engineering's default holds.
    source: Literal["procurement", "item_master"]
    history: list[SafetyStockChangePublic]
