"""Sales tables: the order record, its lines, intake idempotency keys, cancellations, customer
changes, and the money: payment plans and payments."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.models import json_field, qty_field, ts_field
from shared.tasks.models import inbox

Task = inbox("sales")


# The customer order as sales took it in, with the stage and status the workflow keeps current.
class Order(SQLModel, table=True):
    __tablename__ = "orders"
    __table_args__ = {"schema": "sales"}

    order_no: str = Field(primary_key=True, max_length=64)
    workflow_id: str = Field(max_length=128)
    customer: str = Field(index=True, max_length=200)
    project_name: str
    contract_no: str
    technical_agreement_ref: str | None = None
    drawing_refs: list[Any] = json_field()
    requested_date: date
    due_date: date | None = None
    amount: Decimal = Field(sa_column=Column(Numeric(18, 2), nullable=False))
    currency: str = Field(max_length=3)
    priority: str = Field(default="normal", max_length=16)
    stage: str = Field(default="review", index=True, max_length=32)
    status: str = Field(default="active", index=True, max_length=16)
    status_reason: str | None = None
    created_by: str
    # Indexed: the order list is newest first (and its `after` cursor walks this order).
    created_at: datetime = ts_field(index=True)
    updated_at: datetime = ts_field()


# What the order list needs of every department's inbox and of the plan, one row per order:
# its open tasks, the earliest due time among them and the ship forecast while the order has
# not shipped. Kept by triggers of migration 0022 on the eight inboxes and the milestones (the
# workflow's own writes, unchanged); no code writes it. Lateness compares these with now.
class OrderProgress(SQLModel, table=True):
    __tablename__ = "order_progress"
    __table_args__ = {"schema": "sales"}

    order_no: str = Field(primary_key=True, max_length=64)
    open_tasks: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    next_due_at: datetime | None = ts_field(nullable=True)
    ship_forecast: date | None = None


# One line of an order: what the customer ordered.
class OrderLine(SQLModel, table=True):
    __tablename__ = "order_lines"
    __table_args__ = {"schema": "sales"}

    order_no: str = Field(primary_key=True, foreign_key="sales.orders.order_no")
    line_no: int = Field(primary_key=True)
    item: str
    description: str = ""
    qty: Decimal = qty_field()
    unit: str = Field(max_length=16)


# An `Idempotency-Key` seen on intake, with a hash of the request it came with.
class IntakeRequest(SQLModel, table=True):
    __tablename__ = "intake_requests"
    __table_args__ = {"schema": "sales"}

    idempotency_key: str = Field(primary_key=True, max_length=200)
    subject: str = Field(primary_key=True, max_length=128)
    request_hash: str = Field(max_length=64)
    order_no: str = Field(max_length=64)
    created_at: datetime = ts_field()


# An order's cancellation as it was booked ("At any time"): who, why, when, and the answer
# (cost and what was unwound), kept so a retried unwind answers the same instead of again.
class Cancellation(SQLModel, table=True):
    __tablename__ = "cancellations"
    __table_args__ = {"schema": "sales"}

    order_no: str = Field(primary_key=True, foreign_key="sales.orders.order_no", max_length=64)
    reason: str
    by: str
    at: datetime = ts_field()
    result: dict[str, Any] = json_field()


# A customer change ("At any time", 订单变更) from its request to its end: what the customer
# asked (with their written confirmation), what it means for cost and date, whether sales had
# to agree it with the customer, and the plan and BOM revisions it made.
class CustomerChange(SQLModel, table=True):
    __tablename__ = "changes"
    __table_args__ = {"schema": "sales"}

    change_no: str = Field(primary_key=True, max_length=80)
    order_no: str = Field(foreign_key="sales.orders.order_no", index=True, max_length=64)
    kind: str = Field(max_length=16)
    detail: str
    customer_confirmation_ref: str
    request: dict[str, Any] = json_field()
    state: str = Field(index=True, max_length=24)
    impact: dict[str, Any] = json_field()
    agreement_task_id: str | None = Field(default=None, max_length=128)
    outcome: str | None = None
    plan_revision: int | None = None
    bom_revision: int | None = None
    requested_by: str
    requested_at: datetime = ts_field()
    decided_by: str | None = None
    decided_at: datetime | None = ts_field(nullable=True)


# An order's payment terms as intake fixed them (P1 order audit; `shared.payment_types.
# PaymentTerms` as JSON), and the role that audits them (None: the plant audits no order).
class PaymentPlan(SQLModel, table=True):
    __tablename__ = "payment_plans"
    __table_args__ = {"schema": "sales"}

    order_no: str = Field(primary_key=True, foreign_key="sales.orders.order_no", max_length=64)
    terms: dict[str, Any] = json_field()
    audit_role: str | None = Field(default=None, max_length=32)
    created_at: datetime = ts_field()


# Money in: one payment of the customer against an order, with its bank or receipt reference
# (unique per order, so a resent booking is recognised).
class Payment(SQLModel, table=True):
    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("order_no", "reference", name="uq_payments_order_reference"),
        {"schema": "sales"},
    )

    id: int | None = Field(default=None, primary_key=True)
    order_no: str = Field(foreign_key="sales.orders.order_no", index=True, max_length=64)
    amount: Decimal = Field(sa_column=Column(Numeric(18, 2), nullable=False))
    paid_on: date
    reference: str = Field(max_length=200)
    recorded_by: str = Field(max_length=128)
    recorded_at: datetime = ts_field()
