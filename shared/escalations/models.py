"""The escalation tables, in schema `escalation`: events and their webhook deliveries."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from shared.models import ts_field

OPEN, ACKED = "open", "acked"


# A breached clock, raised to a role (`head:quality`, `division`, ...).
class Escalation(SQLModel, table=True):
    __tablename__ = "escalations"
    __table_args__ = {"schema": "escalation"}

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=200)
    kind: str = Field(max_length=48)
    level: int
    order_no: str = Field(index=True, max_length=64)
    task_id: str | None = Field(default=None, max_length=128)
    department: str = Field(max_length=32)
    role: str = Field(max_length=48)
    due_at: datetime | None = ts_field(nullable=True)
    breached_at: datetime = ts_field()
    message: str
    state: str = Field(default=OPEN, index=True, max_length=16)
    acked_by: str | None = None
    acked_at: datetime | None = ts_field(nullable=True)
    created_at: datetime = ts_field()


# One webhook URL's delivery of an escalation: attempts until it answered 2xx.
class Delivery(SQLModel, table=True):
    __tablename__ = "deliveries"
    __table_args__ = {"schema": "escalation"}

    escalation_id: int = Field(primary_key=True, foreign_key="escalation.escalations.id")
    url: str = Field(primary_key=True)
    attempts: int = 0
    last_status: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = ts_field(nullable=True)
