"""Procurement tables: the inbox, purchase requisitions, work orders, purchase orders."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Numeric
from sqlmodel import Field, SQLModel

from shared.models import qty_field, ts_field
from shared.tasks.models import inbox

Task = inbox("procurement")


# A purchase requisition MRP proposed (P4.1), keyed so a re-run creates nothing twice.
class Requisition(SQLModel, table=True):
    __tablename__ = "requisitions"
    __table_args__ = {"schema": "procurement"}

    key: str = Field(primary_key=True, max_length=64)
    order_no: str | None = Field(default=None, index=True, max_length=64)
    bom_revision: int | None = None
    item: str = Field(index=True, max_length=64)
    qty: Decimal = qty_field()
    supplier: str | None = None
    lead_days: int | None = None
    special: bool = False
    reason: str = Field(max_length=16)
    state: str = Field(default="open", index=True, max_length=16)
    required_date: date | None = None
    created_at: datetime = ts_field()


# A semi-finished work order MRP proposed for a make item (P4.1).
class WorkOrder(SQLModel, table=True):
    __tablename__ = "work_orders"
    __table_args__ = {"schema": "procurement"}

    key: str = Field(primary_key=True, max_length=64)
    order_no: str = Field(index=True, max_length=64)
    bom_revision: int
    item: str = Field(max_length=64)
    qty: Decimal = qty_field()
    state: str = Field(default="open", index=True, max_length=16)
    required_date: date | None = None
    created_at: datetime = ts_field()


# A purchase order placed with a supplier (P4.4); its lines come from requisitions.
class PurchaseOrder(SQLModel, table=True):
    __tablename__ = "purchase_orders"
    __table_args__ = {"schema": "procurement"}

    po_no: str = Field(primary_key=True, max_length=64)
    supplier: str
    order_no: str | None = Field(default=None, index=True, max_length=64)
    promised_date: date
    state: str = Field(default="open", index=True, max_length=16)
    created_by: str
    created_at: datetime = ts_field()


class PoLine(SQLModel, table=True):
    __tablename__ = "po_lines"
    __table_args__ = {"schema": "procurement"}

    po_no: str = Field(primary_key=True, foreign_key="procurement.purchase_orders.po_no")
    line_no: int = Field(primary_key=True)
    requisition_key: str | None = Field(default=None, max_length=64)
    item: str = Field(index=True, max_length=64)
    qty: Decimal = qty_field()
    qty_received: Decimal = qty_field(default=Decimal(0))
    # The price agreed per unit (`procurement.place_po`); None when the buyer gave none.
    unit_price: Decimal | None = Field(
        default=None, sa_column=Column(Numeric(18, 4), nullable=True)
    )
    # The line's own promised date once the buyer moved it (§4.7, §4.9); None: the PO's.
    promised_date: date | None = None


# What an order needs from stock of one item under its latest BOM revision (MRP's output):
# buy items in full, make items for the part stock covers (the rest is a work order). The
# completeness check (P5.1), the pick list (P7.1) and allocation on receipt read it.
class Requirement(SQLModel, table=True):
    __tablename__ = "requirements"
    __table_args__ = {"schema": "procurement"}

    order_no: str = Field(primary_key=True, max_length=64)
    item: str = Field(primary_key=True, index=True, max_length=64)
    bom_revision: int
    qty: Decimal = qty_field()
    make_or_buy: str = Field(max_length=4)
    special: bool = False
    required_date: date | None = None
    updated_at: datetime = ts_field()


# The safety stock procurement keeps for an item (§4.5), set by the procurement head; it
# overrides the item master's default (engineering.items.safety_stock) in the daily MRP run.
class SafetyStockLevel(SQLModel, table=True):
    __tablename__ = "safety_stock_levels"
    __table_args__ = {"schema": "procurement"}

    item: str = Field(primary_key=True, max_length=64)
    level: Decimal = qty_field()
    updated_by: str = Field(max_length=128)
    updated_at: datetime = ts_field()


# Every change of a safety-stock level: from what, to what, by whom, when and why.
class SafetyStockChange(SQLModel, table=True):
    __tablename__ = "safety_stock_changes"
    __table_args__ = {"schema": "procurement"}

    id: int | None = Field(default=None, primary_key=True)
    item: str = Field(index=True, max_length=64)
    previous: Decimal = qty_field()
    level: Decimal = qty_field()
    reason: str = Field(default="", max_length=500)
    changed_by: str = Field(max_length=128)
    changed_at: datetime = ts_field()
