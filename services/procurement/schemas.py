"""Procurement's API types: requisitions, work orders, purchase orders."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel


class RequisitionPublic(BaseModel):
    key: str
    order_no: str | None
    bom_revision: int | None
    item: str
    qty: Decimal
    supplier: str | None
    lead_days: int | None
    special: bool
    reason: str
    state: str
    required_date: date | None
    created_at: datetime


class WorkOrderPublic(BaseModel):
    key: str
    order_no: str
    bom_revision: int
    item: str
    qty: Decimal
    state: str
    required_date: date | None


class PoLinePublic(BaseModel):
    item: str
    qty: Decimal
    qty_received: Decimal
    # The line's number on its PO and its promised date (the PO's until the buyer moves it).
    line_no: int
    promised_date: date


# A purchase order as API.md lists it: `po_no, supplier, promised_date, lines`.
class PurchaseOrderPublic(BaseModel):
    po_no: str
    supplier: str
    order_no: str | None
    promised_date: date
    state: str
    lines: list[PoLinePublic]
