"""Receiving's request and response types (API.md `POST /warehouse/receipts`)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

Qty = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=4)]
ZERO = Decimal(0)


class ReceiptLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item: str = Field(min_length=1, max_length=64)
    qty_noted: Qty
    qty_counted: Qty
    qty_damaged: Qty = ZERO
    supplier_lot: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _damaged_within_counted(self) -> ReceiptLineIn:
        if self.qty_damaged > self.qty_counted:
            raise ValueError(
                f"qty_damaged {self.qty_damaged} exceeds qty_counted {self.qty_counted}"
            )
        return self


# API.md `POST /warehouse/receipts`.
class ReceiptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    po_no: str = Field(min_length=1, max_length=64)
    delivery_note_no: str = Field(min_length=1, max_length=64)
    supplier: str = Field(min_length=1, max_length=128)
    lines: list[ReceiptLineIn] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _one_line_per_item(self) -> ReceiptIn:
        items = [line.item for line in self.lines]
        repeated = sorted({item for item in items if items.count(item) > 1})
        if repeated:
            raise ValueError(f"each item once per receipt; repeated: {', '.join(repeated)}")
        return self


class ReceiptLineOut(BaseModel):
    line_no: int
    item: str
    supplier_lot: str | None
    qty_noted: Decimal
    qty_counted: Decimal
    qty_damaged: Decimal
    qty_accepted: Decimal
    qty_refused: Decimal
    refusal: str | None


class ReceiptOut(BaseModel):
    receipt_no: str
    lot_no: str | None
    inspection_workflow_id: str | None
    po_no: str
    delivery_note_no: str
    supplier: str
    order_no: str | None
    state: str
    received_by: str
    received_at: datetime
    lines: list[ReceiptLineOut]
