"""The order read side's types: the order list and the whole view of one order."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from services.planning.schemas import MilestonePublic, PlanRevisionPublic
from shared.escalations.schemas import EscalationPublic
from shared.tasks.schemas import TaskPublic
from shared.timeline import TimelineEntry


class OrderLinePublic(BaseModel):
    line_no: int
    item: str
    description: str
    qty: Decimal
    unit: str


# One line of `GET /orders`.
class OrderSummary(BaseModel):
    order_no: str
    workflow_id: str
    customer: str
    project_name: str
    stage: str
    status: str
    priority: str
    requested_date: date
    due_date: date | None
    late: bool
    open_task_count: int
    created_at: datetime


# One line of the order's material (P5): what it needs from stock and where that stands.
class MaterialPublic(BaseModel):
    item: str
    special: bool
    required: Decimal
    reserved: Decimal
    picked: Decimal
    missing: Decimal
    pending_inspection: Decimal
    on_order: Decimal
    promised_date: date | None
    ncrs: list[str]


# An issue reported from assembly (§8.5), open or closed with its resolution.
class IssueView(BaseModel):
    issue_no: str
    kind: str
    description: str
    items: list[Any]
    severity: str
    state: str
    resolution: str | None
    reported_by: str
    reported_at: datetime
    closed_at: datetime | None


# A customer change ("At any time"): what was asked, with the customer's confirmation, its
# cost and date impact, and how it ended.
class ChangeView(BaseModel):
    change_no: str
    kind: str
    detail: str
    customer_confirmation_ref: str
    request: dict[str, Any]
    state: str
    impact: dict[str, Any]
    agreement_task_id: str | None
    outcome: str | None
    plan_revision: int | None
    bom_revision: int | None
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None


# The whole order: what `GET /orders/{order_no}` and every task completion return.
class OrderView(OrderSummary):
    contract_no: str
    technical_agreement_ref: str | None
    drawing_refs: list[Any]
    amount: Decimal
    currency: str
    status_reason: str | None
    lines: list[OrderLinePublic]
    plan: PlanRevisionPublic | None
    milestones: list[MilestonePublic]
    open_tasks: list[TaskPublic]
    escalations: list[EscalationPublic]
    timeline: list[TimelineEntry]
    # Every line the order needs from stock, special materials flagged (§5.3).
    materials: list[MaterialPublic] = Field(default_factory=list)
    # Issues reported from assembly, tracked to closure (§8.5-8.7).
    issues: list[IssueView] = Field(default_factory=list)
    # Customer changes, each from request to its end.
    changes: list[ChangeView] = Field(default_factory=list)
