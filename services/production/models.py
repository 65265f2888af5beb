"""Production tables: the inbox and the order's production work order."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlmodel import Field, SQLModel

from shared.models import qty_field, ts_field
from shared.tasks.models import inbox

Task = inbox("production")


# The production work order of a customer order (§4.2), opened when its material is picked.
class ProductionOrder(SQLModel, table=True):
    __tablename__ = "work_orders"
    __table_args__ = {"schema": "production"}

    wo_no: str = Field(primary_key=True, max_length=64)
    order_no: str = Field(unique=True, max_length=64)
    bom_revision: int
    product: str = Field(max_length=64)
    qty: Decimal = qty_field()
    planned_start: date
    planned_end: date
    state: str = Field(default="open", index=True, max_length=16)
    created_at: datetime = ts_field()
