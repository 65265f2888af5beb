"""Types that cross the workflow boundary: workflow inputs, activity inputs and results, updates.

All are pydantic models carried by the pydantic data converter. Add fields as optional only:
running workflows replay with the histories they already have.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from shared.payment_types import PaymentTerms
from shared.working_time.clocks import ClockSpec

STAGES: tuple[str, ...] = (
    "review",
    "planning",
    "engineering",
    "materials",
    "production",
    "final_inspection",
    "delivery",
    "commissioning",
    "closing",
    "closed",
    "declined",
    "cancelled",
)


class OrderLine(BaseModel):
    item: str
    description: str = ""
    qty: Decimal
    unit: str


# What starts an OrderWorkflow: the accepted intake.
class OrderInput(BaseModel):
    order_no: str
    customer: str
    project_name: str
    contract_no: str
    requested_date: date
    amount: Decimal
    currency: str
    priority: str = "normal"
    lines: list[OrderLine]
    received_by: str
    queue_prefix: str = "orderflow"
    # What the first activity needs to write the order row if the gateway died after starting
    # the workflow (intake starts the workflow first): the rest of the request, its
    # Idempotency-Key with the request's hash, and when it was received.
    technical_agreement_ref: str | None = None
    drawing_refs: list[str] = Field(default_factory=list)
    idempotency_key: str | None = None
    request_hash: str | None = None
    received_at: datetime | None = None
    # The payment terms and customer qualification (the plant's defaults when the request sent
    # none), and the role whose holder audits them at intake (None: no order audit; an order
    # taken in before order audits has neither).
    terms: PaymentTerms | None = None
    audit_role: str | None = None
    # Set by continue-as-new: the state the previous run of this order ended with.
    resume: OrderState | None = None


# The figures a workflow needs from settings, read once by an activity so replay is stable.
class Policy(BaseModel):
    approval_threshold: Decimal
    production_days: int
    inspection_days: int
    ship_days: int
    escalation_factor: float
    # Material control (P5, P7): leads before the production start, which is the plan's
    # production_start date at the shift's first hour (UTC).
    material_check_lead: timedelta = timedelta(days=3)
    drawings_lead: timedelta = timedelta(days=3)
    picking_lead: timedelta = timedelta(hours=4)
    shift_start_hour: int = 8
    # Continue-as-new past this many history events (0: when Temporal suggests it).
    history_events: int = 0


# Ask a department's inbox to hold a new task.
class OpenTask(BaseModel):
    task_id: str
    kind: str
    department: str
    order_no: str
    workflow_id: str
    title: str
    context: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    # A task due at a plan date brings its own due time (an instant, or a clock on the plant's
    # calendar such as the end of a planned working day); otherwise the kind's SLA sets it.
    due_at: datetime | None = None
    due_clock: ClockSpec | None = None


class TaskOpened(BaseModel):
    task_id: str
    due_at: datetime
    second_level_at: datetime
    # The calendar the due times were counted on (None: before working time).
    calendar_version: str | None = None


# Count an open task's due times again on the calendar as it now stands.
class RetimeTask(BaseModel):
    task_id: str
    kind: str
    department: str
    created_at: datetime
    due_at: datetime | None = None
    due_clock: ClockSpec | None = None


# Record a task as done (or withdrawn) in its inbox.
class CloseTask(BaseModel):
    task_id: str
    department: str
    state: str
    payload: dict[str, Any] | None = None
    by: str | None = None
    at: datetime


# The `complete_task` update: a department app's completion, checked by the validator.
# How long a completion's update waits: until the workflow has moved on from the task (its
# next tasks open, its stage set; the default), or only until the task is closed and stored.
Wait = Literal["settled", "accepted"]
SETTLED: Wait = "settled"
ACCEPTED: Wait = "accepted"


class CompleteTask(BaseModel):
    task_id: str
    payload: dict[str, Any]
    by: str
    roles: list[str] = Field(default_factory=list)
    # Histories from before `wait` decode as "settled", which is what they did.
    wait: Wait = SETTLED
    # The gateway's signed assertion of `by` (and roles) for this update (shared/actor.py).
    assertion: str | None = None


class TaskCompleted(BaseModel):
    task_id: str
    order_no: str
    stage: str


# A breached clock: stored, listed, acknowledged and pushed to the escalation bots.
class RaiseEscalation(BaseModel):
    key: str
    kind: str
    level: int
    order_no: str
    task_id: str | None = None
    department: str
    role: str
    due_at: datetime | None = None
    breached_at: datetime
    message: str


class EscalationRaised(BaseModel):
    id: int
    created: bool


class TimelineEvent(BaseModel):
    key: str
    order_no: str
    at: datetime
    kind: str
    actor: str
    summary: str
    detail: dict[str, Any] = Field(default_factory=dict)


# The stage and status the order record should show.
class StageChange(BaseModel):
    order_no: str
    stage: str
    status: str = "active"
    reason: str | None = None
    due_date: date | None = None
    at: datetime


class PlanRevision(BaseModel):
    order_no: str
    revision: int
    milestones: dict[str, date]
    forecast: dict[str, date] = Field(default_factory=dict)
    due_date: date
    reason: str
    added_manpower: int | None = None
    by: str
    at: datetime


class MilestoneActual(BaseModel):
    order_no: str
    milestone: str
    actual: date
    at: datetime


class MilestoneForecast(BaseModel):
    order_no: str
    forecast: dict[str, date]


class DeliveryProposalInput(BaseModel):
    order_no: str
    today: date
    design_days: int
    lead_days: int


class DeliveryProposal(BaseModel):
    delivery_date: date
    production_start: date
    queue_days: int
    explanation: str


class PlanProposalInput(BaseModel):
    order_no: str
    today: date
    design_days: int
    lead_days: int
    due_date: date


class PlanProposal(BaseModel):
    milestones: dict[str, date]
    meets_due_date: bool
    shortfall_days: int
    standard_production_days: int
    # The plant's calendar over the plan's horizon, as data the workflow's plan rules count
    # with (workflow code never reads the calendar): Mondays to Fridays that are not worked,
    # and other days that are (make-up working days, extra shifts).
    days_off: list[date] = Field(default_factory=list)
    extra_days: list[date] = Field(default_factory=list)


# engineering.release_bom completed: store the revision, grow the item master.
# The lines come inline (a small BOM) or stay in the database as draft `draft_id`.
class BomRelease(BaseModel):
    order_no: str
    task_id: str
    lines: list[dict[str, Any]] = Field(default_factory=list)
    draft_id: int | None = None
    by: str
    at: datetime


class BomReleased(BaseModel):
    revision: int
    new_items: list[str]
    line_count: int


# engineering.release_drawings completed: the released drawing set.
class DrawingsRelease(BaseModel):
    order_no: str
    task_id: str
    drawings: list[dict[str, Any]]
    by: str
    at: datetime


# Run MRP for one order on a released BOM revision (P4.1).
class MrpRun(BaseModel):
    order_no: str
    bom_revision: int
    required_date: date | None = None
    at: datetime


class RequisitionSummary(BaseModel):
    key: str
    item: str
    qty: Decimal
    supplier: str | None
    special: bool
    reason: str


# RequisitionWorkflow's input (§4.3-4.9): one requisition to approve where it must be, put on a
# purchase order and check against the material-required date; no order for safety stock.
class RequisitionInput(BaseModel):
    requisition: RequisitionSummary
    order_no: str | None = None
    queue_prefix: str = "orderflow"
    required_date: date | None = None
    # False for a requisition started by procurement's `start_requisitions` (issue 17): the
    # order does not count it, so it signals its order only for a late promise the order must
    # take into its forecast; its row in the database says how it settled.
    tell_settled: bool = True


# What a requisition came to, signalled to its order (`requisition_settled`) and returned:
# rejected, ordered (late when promised after the material-required date) or cancelled (with
# the tasks it withdrew).
class RequisitionSettled(BaseModel):
    key: str
    state: str
    po_no: str | None = None
    promised_date: date | None = None
    late: bool = False
    withdrawn: list[str] = Field(default_factory=list)


# What an order's MRP run stored. Runs since issue 17 return counts only (the requisitions
# are read from the database by `StartRequisitions`); runs recorded before it carry the list
# and the reservations, still decoded when their histories replay.
class MrpRunResult(BaseModel):
    requisitions: list[RequisitionSummary] = Field(default_factory=list)
    work_orders: int
    reserved: dict[str, Decimal] = Field(default_factory=dict)
    requisition_count: int = 0
    reserved_count: int = 0


# Start the RequisitionWorkflow of every requisition an order's MRP run stored for one BOM
# revision (procurement's `start_requisitions`): the order's history gets one activity, not
# a child start per requisition.
class StartRequisitions(BaseModel):
    order_no: str
    bom_revision: int
    queue_prefix: str = "orderflow"
    required_date: date | None = None


# The requisitions an order's cancellation stopped (`cancel_requisitions`): how many
# workflows it cancelled and the tasks they withdrew.
class RequisitionsCancelled(BaseModel):
    cancelled: int = 0
    withdrawn: list[str] = Field(default_factory=list)


# procurement.place_po completed: a purchase order line for one requisition (P4.4).
class PlacePoInput(BaseModel):
    # None for stock bought against safety stock (§4.5): the PO belongs to no order.
    order_no: str | None = None
    requisition_key: str
    po_no: str | None = None
    supplier: str
    promised_date: date
    by: str
    at: datetime
    unit_price: Decimal | None = None


class PoPlaced(BaseModel):
    po_no: str
    item: str
    qty: Decimal


class RequisitionDecision(BaseModel):
    requisition_key: str
    state: str
    by: str
    comment: str = ""
    at: datetime


# OrderInput carries an OrderState, which is built from the types above.
from shared.order_state import OrderState  # noqa: E402

OrderInput.model_rebuild()
