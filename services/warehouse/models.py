"""Warehouse tables: the inbox, stock per item, and reservations for orders."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlmodel import Field, SQLModel

from shared.models import qty_field, ts_field
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


# Stock set aside for an order (free stock = on hand - every reservation).
class Reservation(SQLModel, table=True):
    __tablename__ = "reservations"
    __table_args__ = {"schema": "warehouse"}

    order_no: str = Field(primary_key=True, max_length=64)
    item: str = Field(primary_key=True, max_length=64)
    qty: Decimal = qty_field()
    created_at: datetime = ts_field()
