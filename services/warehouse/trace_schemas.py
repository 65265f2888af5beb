"""Traceability API types (API.md `GET /warehouse/trace`, `GET /orders/{order_no}/trace`): a
lot forwards from its supplier to the orders it went into, and an order back to the supplier
lot of every quantity picked for it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel


# The delivery a lot came in with, against its PO and delivery note (P6.1).
class TraceReceipt(BaseModel):
    receipt_no: str
    po_no: str
    supplier: str
    delivery_note_no: str
    received_at: datetime
    received_by: str
    state: str


# The lot's inspection request and its 8-hour clock (P6.2).
class TraceInspection(BaseModel):
    state: str
    requested_at: datetime
    due_at: datetime | None
    inspected_at: datetime | None
    inspected_by: str | None
    within_sla: bool | None


# One item's inspection result within its lot; quantities are null until quality judges.
class ItemInspection(BaseModel):
    inspected_by: str | None
    inspected_at: datetime | None
    within_sla: bool | None
    qualified: Decimal | None
    rejected: Decimal | None


# The release pass (放行单) rejected goods left for the supplier with.
class TraceReleasePass(BaseModel):
    pass_no: str
    reason: str
    qty: Decimal
    issued_by: str
    issued_at: datetime


# A nonconformance report on part of the lot and quality's judgement of it.
class TraceNcr(BaseModel):
    ncr_no: str
    qty: Decimal
    defect: str
    state: str
    disposition: str | None
    judged_by: str | None
    judged_at: datetime | None
    release_pass: TraceReleasePass | None


# What of the lot is qualified stock: in, and still on the shelf.
class LotStock(BaseModel):
    source: str
    qty_in: Decimal
    qty_left: Decimal


# Where the lot went: what one order picked from it and returned to it, and what the order
# still has reserved of the item on the shelf (reservations are per item, not per lot).
class LotUse(BaseModel):
    order_no: str
    picked: Decimal
    returned: Decimal
    reserved: Decimal


# One item of a lot, from the supplier's lot number to the orders that used it.
class LotItem(BaseModel):
    item: str
    supplier_lot: str | None
    # Accepted into inspection, and refused at the door (0 for a lot with no receipt).
    received: Decimal
    refused: Decimal
    inspection: ItemInspection | None
    ncrs: list[TraceNcr]
    stock: LotStock | None
    orders: list[LotUse]


# One entry of the movement ledger.
class TraceMovement(BaseModel):
    at: datetime
    kind: str
    item: str
    qty: Decimal
    lot_no: str | None
    order_no: str | None
    receipt_no: str | None
    ref: str | None
    by: str
    detail: dict[str, Any]


# A lot's genealogy: supplier → receipt → inspection → stock → picks → orders.
class LotTrace(BaseModel):
    lot_no: str
    # `receipt` when a delivery stands behind the lot, else its stock lot's source (return,
    # opening); null when neither is recorded.
    source: str | None
    supplier: str | None
    po_no: str | None
    receipt: TraceReceipt | None
    inspection: TraceInspection | None
    items: list[LotItem]
    movements: list[TraceMovement]


# `GET /warehouse/trace`: the lot asked for, or every lot of the item, newest first.
class TracePublic(BaseModel):
    lot_no: str | None
    item: str | None
    lots: list[LotTrace]


# One lot an order's material was picked from, with its way back to the supplier.
class PickedLot(BaseModel):
    # Null when a pick was booked without a lot: that quantity cannot be traced.
    lot_no: str | None
    # Picked less what the order returned to the lot.
    qty: Decimal
    # The stock lot's source: receipt, concession, return or opening.
    source: str | None
    supplier: str | None
    supplier_lot: str | None
    po_no: str | None
    receipt_no: str | None
    delivery_note_no: str | None
    received_at: datetime | None
    inspected_by: str | None
    inspected_at: datetime | None
    # The lot came with a receipt or from a return.
    traceable: bool


# One item of an order: what it needs, holds and has picked, and from which lots.
class OrderItemTrace(BaseModel):
    item: str
    required: Decimal
    # Reserved in total (picked included), as the reservation holds it.
    reserved: Decimal
    picked: Decimal
    # Picked quantity no receipt or return accounts for.
    untraced: Decimal
    lots: list[PickedLot]


# `GET /orders/{order_no}/trace`.
class OrderTrace(BaseModel):
    order_no: str
    complete_traceability: bool
    items: list[OrderItemTrace]
