"""Warehouse tables: the inbox, stock per item and per lot, reservations for orders, receipts
against delivery notes, and the movement ledger every quantity is traced through."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Column, Identity, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.models import json_field, qty_field, ts_field
from shared.tasks.models import inbox

Task = inbox("warehouse")


# Stock of one item: qualified on hand, and counted goods still waiting for inspection.
class StockItem(SQLModel, table=True):
    __tablename__ = "stock"
    __table_args__ = {"schema": "warehouse"}

    item: str = Field(primary_key=True, max_length=64)
    on_hand: Decimal = qty_field(default=Decimal(0))
    pending_inspection: Decimal = qty_field(default=Decimal(0))
    updated_at: datetime = ts_field()


# Stock set aside for an order (free stock = on hand - every reservation not yet picked).
class Reservation(SQLModel, table=True):
    __tablename__ = "reservations"
    __table_args__ = {"schema": "warehouse"}

    order_no: str = Field(primary_key=True, max_length=64)
    item: str = Field(primary_key=True, max_length=64)
    # Reserved in total, picked included; `qty - picked` is still on the shelf for the order.
    qty: Decimal = qty_field()
    picked: Decimal = qty_field(default=Decimal(0), server_default="0")
    created_at: datetime = ts_field()


# A delivery received against a purchase order and its delivery note (P6.1).
class Receipt(SQLModel, table=True):
    __tablename__ = "receipts"
    __table_args__ = (
        UniqueConstraint("supplier", "delivery_note_no", name="uq_receipts_delivery_note"),
        {"schema": "warehouse"},
    )

    receipt_no: str = Field(primary_key=True, max_length=32)
    # The inspection lot the counted goods wait in; None when every line was refused.
    lot_no: str | None = Field(default=None, unique=True, max_length=32)
    po_no: str = Field(index=True, max_length=64)
    delivery_note_no: str = Field(max_length=64)
    supplier: str = Field(max_length=128)
    order_no: str | None = Field(default=None, index=True, max_length=64)
    state: str = Field(max_length=24)
    received_by: str
    received_at: datetime = ts_field()


class ReceiptLine(SQLModel, table=True):
    __tablename__ = "receipt_lines"
    __table_args__ = {"schema": "warehouse"}

    receipt_no: str = Field(primary_key=True, foreign_key="warehouse.receipts.receipt_no")
    line_no: int = Field(primary_key=True)
    item: str = Field(index=True, max_length=64)
    supplier_lot: str | None = Field(default=None, max_length=64)
    qty_noted: Decimal = qty_field()
    qty_counted: Decimal = qty_field()
    qty_damaged: Decimal = qty_field()
    # What went to inspection and what was refused at the door, with the reason.
    qty_accepted: Decimal = qty_field()
    qty_refused: Decimal = qty_field()
    refusal: str | None = None
    qty_qualified: Decimal | None = Field(default=None, max_digits=18, decimal_places=4)
    qty_rejected: Decimal | None = Field(default=None, max_digits=18, decimal_places=4)
    defect: str | None = None


# Qualified stock of one item from one lot: where every picked quantity came from.
class StockLot(SQLModel, table=True):
    __tablename__ = "stock_lots"
    __table_args__ = {"schema": "warehouse"}

    lot_no: str = Field(primary_key=True, max_length=32)
    item: str = Field(primary_key=True, max_length=64)
    source: str = Field(max_length=16)  # receipt, concession, return, opening
    receipt_no: str | None = Field(default=None, max_length=32)
    po_no: str | None = Field(default=None, max_length=64)
    supplier: str | None = Field(default=None, max_length=128)
    supplier_lot: str | None = Field(default=None, max_length=64)
    qty_in: Decimal = qty_field()
    qty_left: Decimal = qty_field()
    created_at: datetime = ts_field()


# One movement of one quantity: the ledger traceability reads, forwards and back.
class Movement(SQLModel, table=True):
    __tablename__ = "movements"
    __table_args__ = {"schema": "warehouse"}

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    # received, refused, qualified, rejected, concession, released, scrapped, reserved,
    # unreserved, picked, short_picked, returned
    kind: str = Field(index=True, max_length=16)
    item: str = Field(index=True, max_length=64)
    qty: Decimal = qty_field()
    lot_no: str | None = Field(default=None, index=True, max_length=32)
    order_no: str | None = Field(default=None, index=True, max_length=64)
    receipt_no: str | None = Field(default=None, max_length=32)
    ref: str | None = Field(default=None, max_length=128)
    by: str
    at: datetime = ts_field()
    detail: dict[str, Any] = json_field()


# A return to stock (P7.2) as booked: its answer is kept, so a retried request with the same
# Idempotency-Key gets the same return instead of booking the goods twice.
class ReturnRecord(SQLModel, table=True):
    __tablename__ = "returns"
    __table_args__ = (
        UniqueConstraint("returned_by", "idempotency_key", name="uq_returns_idempotency"),
        {"schema": "warehouse"},
    )

    return_no: str = Field(primary_key=True, max_length=32)
    kind: str = Field(max_length=24)
    order_no: str | None = Field(default=None, index=True, max_length=64)
    returned_by: str
    returned_at: datetime = ts_field()
    idempotency_key: str | None = Field(default=None, max_length=200)
    request_hash: str = Field(max_length=64)
    response: dict[str, Any] = json_field()
