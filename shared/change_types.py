"""Types that cross the workflow boundary for a customer change ("At any time", 订单变更): the
`change` update of the order, what it answers, and the activities that assess, record and
apply a change.

Like `shared/types.py`: pydantic models for the pydantic data converter; add fields as
optional only, running workflows replay with the histories they have.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from shared.payloads import BomChange

ChangeKind = Literal["qty", "date", "scope"]

# A change's states: waiting for the customer's agreement to its cost or delay (sales), in
# effect, or not agreed (nothing of it took effect).
ChangeState = Literal["awaiting_agreement", "applied", "declined", "withdrawn"]


# `POST /sales/orders/{order_no}/changes`: the order's `change` update. `detail` says in
# words what the customer asked; the fields of the kind say it for the system.
class CustomerChange(BaseModel):
    kind: ChangeKind
    detail: str
    customer_confirmation_ref: str
    # qty: the order line (its item) and the new quantity.
    item: str | None = None
    qty: Decimal | None = None
    # date: the delivery date the customer now wants.
    new_date: date | None = None
    # scope: the BOM lines it adds, changes or removes (as a DCN gives them).
    bom_changes: list[BomChange] = Field(default_factory=list)
    by: str
    # A hash of the HTTP request (with its Idempotency-Key): a key reused for another body is
    # told apart from a retry.
    request_hash: str | None = None
    # The gateway's signed assertion of `by` (and roles) for this update (shared/actor.py).
    assertion: str | None = None


# What a change means for the order, worked out before anything of it takes effect.
class ChangeImpact(BaseModel):
    cost_rises: bool
    # Material the change adds, at each item's last purchase price; None where no price is
    # known (listed in `unpriced`).
    cost_estimate: Decimal = Decimal(0)
    currency: str = ""
    unpriced: list[str] = Field(default_factory=list)
    extra: dict[str, Decimal] = Field(default_factory=dict)
    surplus: dict[str, Decimal] = Field(default_factory=dict)
    # When the added material can be here at the earliest (today + its lead time).
    material_ready: date | None = None
    forecast: dict[str, date] = Field(default_factory=dict)
    ship_forecast: date | None = None
    date_slips: bool = False
    slip_days: int = 0
    # The delivery date the order would have once the change is in effect.
    due_date: date | None = None
    explanation: str = ""
    # A quantity change: the line's quantity before, and the order quantity MRP planned the
    # BOM for before (None while no BOM is released).
    qty_before: Decimal | None = None
    order_qty_before: Decimal | None = None
    problems: list[str] = Field(default_factory=list)

    @property
    def needs_agreement(self) -> bool:
        return self.cost_rises or self.date_slips


# The assessment's input: the change and where the order's plan stands.
class AssessChange(BaseModel):
    order_no: str
    change_no: str
    change: CustomerChange
    bom_revision: int
    milestones: dict[str, date] = Field(default_factory=dict)
    forecast: dict[str, date] = Field(default_factory=dict)
    due_date: date | None = None
    today: date


# A change as `sales.changes` keeps it, from its request to its end.
class ChangeRecord(BaseModel):
    change_no: str
    order_no: str
    kind: str
    detail: str
    customer_confirmation_ref: str
    request: dict[str, Any] = Field(default_factory=dict)
    state: ChangeState
    impact: dict[str, Any] = Field(default_factory=dict)
    agreement_task_id: str | None = None
    outcome: str | None = None
    plan_revision: int | None = None
    bom_revision: int | None = None
    requested_by: str
    requested_at: datetime
    decided_by: str | None = None
    at: datetime


# A quantity change taking effect on the order's line (and its amount, when agreed anew).
class ApplyQty(BaseModel):
    order_no: str
    change_no: str
    item: str
    qty: Decimal
    amount: Decimal | None = None
    by: str
    at: datetime


# What the `change` update answers: the change as it stands when the update returns.
class ChangeAccepted(BaseModel):
    change_no: str
    order_no: str
    kind: str
    state: ChangeState
    impact: ChangeImpact
    agreement_task_id: str | None = None
    plan_revision: int | None = None
    bom_revision: int | None = None
    requisitions: list[str] = Field(default_factory=list)
    outcome: str = ""
    requested_at: datetime | None = None
    request_hash: str | None = None
