"""Production tables: the inbox and the order's production work order."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Field, SQLModel

from shared.models import json_field, qty_field, ts_field
from shared.tasks.models import inbox

Task = inbox("production")


# The production work order of a customer order (§4.2), opened when its master plan is
# published (orders from before then: when their material was picked).
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


# An issue reported from assembly (§8.5): a design problem, nonconforming material or a
# missing part, tracked from report to closure.
class ProductionIssue(SQLModel, table=True):
    __tablename__ = "issues"
    __table_args__ = {"schema": "production"}

    issue_no: str = Field(primary_key=True, max_length=80)
    order_no: str = Field(index=True, max_length=64)
    kind: str = Field(max_length=32)
    description: str
    items: list[Any] = json_field()
    severity: str = Field(max_length=16)
    state: str = Field(default="open", index=True, max_length=16)
    resolution: str | None = None
    reported_by: str
    reported_at: datetime = ts_field()
    closed_at: datetime | None = ts_field(nullable=True)


# The workshop's capacity for a product family (§8.8): how many working days production takes,
# one row per version. A process or labour-time change adds a version; the master-plan
# proposals read the newest version in effect on their day.
class CapacityVersion(SQLModel, table=True):
    __tablename__ = "capacity_versions"
    __table_args__ = {"schema": "production"}

    family: str = Field(primary_key=True, max_length=64)
    version: int = Field(primary_key=True)
    production_days: int
    effective_from: date
    reason: str
    set_by: str = Field(max_length=128)
    set_at: datetime = ts_field()
