"""The escalation tables, in schema `escalation`: events and their webhook deliveries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.models import ts_field

OPEN, ACKED = "open", "acked"
# A delivery's state per target: retried while pending, until 2xx or the cap.
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


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


# One webhook URL's delivery of an escalation: attempts until it answered 2xx or the cap
# (`webhook_max_attempts`, `webhook_max_age_seconds`) marked it failed.
class Delivery(SQLModel, table=True):
    __tablename__ = "deliveries"
    __table_args__ = {"schema": "escalation"}

    escalation_id: int = Field(primary_key=True, foreign_key="escalation.escalations.id")
    url: str = Field(primary_key=True)
    attempts: int = 0
    last_status: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = ts_field(nullable=True)
    # The receiver's dedupe key (`webhook-id`), the same on every attempt.
    delivery_id: str | None = Field(default=None, max_length=80)
    state: str = Field(
        default=PENDING,
        max_length=16,
        sa_column_kwargs={"server_default": PENDING},
    )


# One POST of a delivery (an escalation or an event to one URL), recorded before it is sent and
# completed with its answer: a POST cut short by a kill stays as an attempt without an answer.
class DeliveryAttempt(SQLModel, table=True):
    __tablename__ = "delivery_attempts"
    __table_args__ = (
        UniqueConstraint("delivery_id", "attempt", name="uq_delivery_attempts_attempt"),
        {"schema": "escalation"},
    )

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: str = Field(index=True, max_length=80)
    # The URL without credentials or query values (they may hold tokens).
    target: str
    attempt: int
    status: int | None = None
    error: str | None = None
    duration_ms: int | None = None
    started_at: datetime = ts_field()
    finished_at: datetime | None = ts_field(nullable=True)
