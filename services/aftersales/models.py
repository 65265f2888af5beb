"""Aftersales tables: the department's inbox, service cases (售后) and the warranty an order
was given when it differs from the plant's."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from shared.models import ts_field
from shared.tasks.models import inbox

Task = inbox("aftersales")


# One service case on a delivered order: a complaint, repair, exchange or visit, run by its
# own workflow (`service-case-<case_id>`) through first response, on site and resolved.
class ServiceCase(SQLModel, table=True):
    __tablename__ = "cases"
    __table_args__ = {"schema": "aftersales"}

    case_id: str = Field(primary_key=True, max_length=32)
    order_no: str = Field(index=True, max_length=64)
    kind: str = Field(max_length=16)
    description: str
    contact: str | None = Field(default=None, max_length=200)
    # Opened within the warranty, or a chargeable (paid) case outside it.
    in_warranty: bool
    paid: bool
    state: str = Field(max_length=16)  # open, responded, on_site, resolved
    opened_by: str = Field(max_length=128)
    opened_at: datetime = ts_field()
    responded_at: datetime | None = ts_field(nullable=True)
    on_site_at: datetime | None = ts_field(nullable=True)
    resolved_at: datetime | None = ts_field(nullable=True)
    resolved_by: str | None = Field(default=None, max_length=128)
    outcome: str | None = Field(default=None, max_length=16)


# An order's own warranty length (months from the customer's receipt), set by sales or
# aftersales when the contract differs from the plant's default.
class Warranty(SQLModel, table=True):
    __tablename__ = "warranties"
    __table_args__ = {"schema": "aftersales"}

    order_no: str = Field(primary_key=True, max_length=64)
    months: int
    set_by: str = Field(max_length=128)
    set_at: datetime = ts_field()
