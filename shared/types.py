"""Types that cross the workflow boundary: workflow inputs, activity inputs and results, updates.

All are pydantic models carried by the pydantic data converter. Add fields as optional only:
running workflows replay with the histories they already have.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

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
    # A task due at a plan date brings its own due time; otherwise the kind's SLA sets it.
    due_at: datetime | None = None


class TaskOpened(BaseModel):
    task_id: str
    due_at: datetime
    second_level_at: datetime


# Record a task as done (or withdrawn) in its inbox.
class CloseTask(BaseModel):
    task_id: str
    department: str
    state: str
    payload: dict[str, Any] | None = None
    by: str | None = None
    at: datetime


# The `complete_task` update: a department app's completion, checked by the validator.
class CompleteTask(BaseModel):
    task_id: str
    payload: dict[str, Any]
    by: str
    roles: list[str] = Field(default_factory=list)


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


# engineering.release_bom completed: store the revision, grow the item master.
class BomRelease(BaseModel):
    order_no: str
    task_id: str
    lines: list[dict[str, Any]]
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


class MrpRunResult(BaseModel):
    requisitions: list[RequisitionSummary]
    work_orders: int
    reserved: dict[str, Decimal]


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


# -- receiving, inspection and material control (P5-P7) -------------------------------------


# Something changed in an order's material: a signal to `order-<order_no>`.
# kind: `reserved` (stock set aside for it), `ncr` (its goods were rejected), `requisition`
# (a new requisition to approve and buy, from the daily MRP run).
class MaterialNotice(BaseModel):
    kind: str
    item: str | None = None
    qty: Decimal | None = None
    ncr_no: str | None = None
    defect: str | None = None
    requisition: RequisitionSummary | None = None
    message: str = ""


class LotLine(BaseModel):
    line_no: int
    item: str
    qty: Decimal
    supplier_lot: str | None = None


# Goods counted in and waiting for quality: the IncomingInspectionWorkflow's input (P6.2).
class InspectionLot(BaseModel):
    lot_no: str
    receipt_no: str
    po_no: str
    supplier: str
    order_no: str | None = None
    lines: list[LotLine]
    # Lines refused at the door, in words, for the buyer's warning.
    refusals: list[str] = Field(default_factory=list)
    received_at: datetime
    queue_prefix: str = "orderflow"


class InspectionRequested(BaseModel):
    lot_no: str
    workflow_id: str
    due_at: datetime
    at: datetime


# quality.incoming_inspection completed: qualified stock in, rejected goods to NCRs.
class InspectionResult(BaseModel):
    lot_no: str
    lines: list[dict[str, Any]]
    by: str
    at: datetime


class NcrSummary(BaseModel):
    ncr_no: str
    item: str
    qty: Decimal
    defect: str
    order_no: str | None = None


# Stock set aside per order and item by one allocation (earliest required date first).
class Allocation(BaseModel):
    reserved: dict[str, dict[str, Decimal]] = Field(default_factory=dict)


class InspectionRecorded(BaseModel):
    ncrs: list[NcrSummary]
    allocation: Allocation


# quality.ncr_judgement completed.
class NcrJudged(BaseModel):
    ncr_no: str
    disposition: str
    comment: str = ""
    by: str
    at: datetime


class NcrClosed(BaseModel):
    pass_no: str | None = None
    allocation: Allocation


# One line of the completeness check (P5.1) and of the pick list (P7.1).
class MaterialLine(BaseModel):
    item: str
    required: Decimal
    reserved: Decimal
    picked: Decimal
    special: bool = False
    pending_inspection: Decimal = Decimal(0)
    on_order: Decimal = Decimal(0)
    promised_date: date | None = None

    @property
    def missing(self) -> Decimal:
        return max(self.required - self.reserved, Decimal(0))

    @property
    def to_pick(self) -> Decimal:
        return max(self.reserved - self.picked, Decimal(0))


class Completeness(BaseModel):
    order_no: str
    lines: list[MaterialLine]

    @property
    def missing(self) -> list[MaterialLine]:
        return [line for line in self.lines if line.missing > 0]

    @property
    def complete(self) -> bool:
        """Every line reserved (an order that needs nothing from stock is complete)."""
        return not self.missing


# warehouse.picking completed: take the picked quantities off the shelf, lot by lot (FIFO).
class PickRecord(BaseModel):
    order_no: str
    task_id: str
    lines: list[dict[str, Any]]
    # The pick list the task showed: what it named and was not picked was not on the shelf.
    pick_list: dict[str, Decimal] = Field(default_factory=dict)
    by: str
    at: datetime


# planning.ncr_disposition `reuse_stock`: set aside free stock of an item for the order.
class ReserveFree(BaseModel):
    order_no: str
    item: str
    by: str
    at: datetime


# All material picked: the production work order opens (§4.2).
class OpenProductionOrder(BaseModel):
    order_no: str
    bom_revision: int
    planned_start: date
    planned_end: date
    at: datetime


class PickResult(BaseModel):
    picked: dict[str, Decimal]
    short: dict[str, Decimal]


# planning.ncr_disposition `concession`: planning asks quality to accept the goods as they are.
class ConcessionRequest(BaseModel):
    ncr_no: str
    order_no: str
    by: str
    at: datetime


# -- the daily MRP run (P4.2) ---------------------------------------------------------------


# What the daily-MRP schedule starts DailyMrpWorkflow with.
class DailyMrpInput(BaseModel):
    queue_prefix: str = "orderflow"


# One daily run, as its activities see it: `day` keys what it creates, so a second run on
# the same day creates nothing twice.
class DailyRun(BaseModel):
    day: date
    at: datetime


# What the daily run did for safety stock: the requisitions it created, and every one still
# waiting for the head's approval (its replenishment workflow is started again if it is gone).
class SafetyStockRun(BaseModel):
    created: list[RequisitionSummary] = Field(default_factory=list)
    awaiting_approval: list[RequisitionSummary] = Field(default_factory=list)


# What the daily run did for open orders: stock reserved per order and item, and the new
# requisitions for shortages nothing else covers, per order.
class DailyReallocation(BaseModel):
    reserved: dict[str, dict[str, Decimal]] = Field(default_factory=dict)
    requisitions: dict[str, list[RequisitionSummary]] = Field(default_factory=dict)


class DailyMrpResult(BaseModel):
    safety_stock: SafetyStockRun
    reallocation: DailyReallocation
    # Orders the run told what changed, and those whose workflow no longer runs.
    notified: list[str] = Field(default_factory=list)
    unreachable: list[str] = Field(default_factory=list)


# A safety-stock requisition to approve and buy: StockReplenishmentWorkflow's input (§4.5).
class StockReplenishment(BaseModel):
    requisition: RequisitionSummary
    queue_prefix: str = "orderflow"


# -- production to close, changes and cancellation (P8-P10, "At any time") -------------------


# `POST /sales/orders/{order_no}/cancel`: the `cancel` update of the order.
class CancelOrder(BaseModel):
    reason: str
    by: str


# What cancelling an order cost and unwound (returned to the caller, kept on the order).
class CancellationCost(BaseModel):
    currency: str
    received_material: Decimal
    work_done: Decimal
    open_commitments: Decimal
    total: Decimal
    detail: list[dict[str, Any]] = Field(default_factory=list)


class Unwound(BaseModel):
    requisitions: list[str] = Field(default_factory=list)
    purchase_orders: list[str] = Field(default_factory=list)
    work_orders: list[str] = Field(default_factory=list)
    reservations: dict[str, Decimal] = Field(default_factory=dict)
    tasks: list[str] = Field(default_factory=list)


class CancellationResult(BaseModel):
    order_no: str
    stage_at_cancel: str
    reason: str
    cost: CancellationCost
    unwound: Unwound
    # Stock the cancellation freed and reserved at once for other orders short of it, per
    # order and item: the workflow tells those orders.
    allocated: dict[str, dict[str, Decimal]] = Field(default_factory=dict)
    # The order's open escalations the cancellation acknowledged as resolved (their ids).
    escalations_closed: list[int] = Field(default_factory=list)


# The activity that unwinds a cancelled order in every department's tables.
class UnwindOrder(BaseModel):
    order_no: str
    reason: str
    by: str
    at: datetime


# A confirmed design problem: the DesignChangeWorkflow's input (P8.4a).
class DesignChangeRequest(BaseModel):
    order_no: str
    issue_no: str
    description: str
    items: list[dict[str, Any]] = Field(default_factory=list)
    bom_revision: int
    confirmed_by: str
    queue_prefix: str = "orderflow"


# The issued DCN and what it meant for material (returned to the order).
class DesignChangeResult(BaseModel):
    dcn_no: str
    summary: str
    bom_revision: int
    requisitions: list[RequisitionSummary] = Field(default_factory=list)
    work_orders: list[str] = Field(default_factory=list)
    surplus: dict[str, Decimal] = Field(default_factory=dict)
    issued_by: str
    issued_at: datetime
    # Other orders the released surplus was reserved for at once: order -> item -> qty.
    allocated: dict[str, dict[str, Decimal]] = Field(default_factory=dict)


# -- the weekly list of orders in finished goods not yet shipped (§2.6) -----------------------


# WeeklyUnshippedWorkflow's input (what its Temporal Schedule starts it with).
class WeeklyUnshippedInput(BaseModel):
    queue_prefix: str = "orderflow"


# One weekly run, as its activity sees it.
class UnshippedRun(BaseModel):
    at: datetime


# What the weekly run did: the orders asked for a ship date (`ship_date_due`), and those whose
# workflow no longer runs.
class WeeklyUnshippedResult(BaseModel):
    asked: list[str] = Field(default_factory=list)
    unreachable: list[str] = Field(default_factory=list)
