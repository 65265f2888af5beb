"""Types that cross the workflow boundary in production, final inspection and delivery
(P8-P10), design changes, the weekly unshipped list and cancellation: the updates, and the
activities' inputs and results.

Like `shared/types.py`: pydantic models for the pydantic data converter; add fields as
optional only, running workflows replay with the histories they have.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from shared.types import RequisitionSummary

IssueKind = Literal["design_problem", "nonconforming_material", "missing_part"]


# `POST /production/orders/{order_no}/issues`: the order's `report_issue` update.
class ReportIssue(BaseModel):
    kind: IssueKind
    description: str
    items: list[dict[str, Any]] = Field(default_factory=list)
    severity: Literal["normal", "serious"] = "normal"
    by: str
    # The gateway's signed assertion of `by` (and roles) for this update (shared/actor.py).
    assertion: str | None = None


class IssueReported(BaseModel):
    issue_no: str
    order_no: str
    kind: str
    state: str


# AssemblyIssueWorkflow's input: one issue reported from assembly that is not a design problem.
class AssemblyIssue(BaseModel):
    order_no: str
    issue_no: str
    report: ReportIssue
    queue_prefix: str = "orderflow"


# What an AssemblyIssueWorkflow tells its order when it is done (signal `issue_settled`):
# closed with its resolution, handed back for a design change (a missing part with an
# engineering cause: the order runs the DCN), or withdrawn by the order's cancellation.
class IssueSettled(BaseModel):
    issue_no: str
    report: ReportIssue
    resolution: str | None = None
    design_change_by: str | None = None
    withdrawn: bool = False


# An issue's record as it opens, moves and closes (production.issues).
class IssueRecord(BaseModel):
    issue_no: str
    order_no: str
    kind: str
    description: str
    items: list[dict[str, Any]] = Field(default_factory=list)
    severity: str = "normal"
    state: str = "open"
    resolution: str | None = None
    by: str
    at: datetime


class WorkOrderStep(BaseModel):
    order_no: str
    state: str
    at: datetime
    # `picked` (a work order opened with the master plan): the BOM revision it is built to
    # now, and the plan's production window then.
    bom_revision: int | None = None
    planned_start: date | None = None
    planned_end: date | None = None


class HandedDocumentLine(BaseModel):
    kind: str
    item: str
    ref: str


# production.hand_over_documents completed: the certificates and manuals quality now holds.
class DocumentsHandedOver(BaseModel):
    order_no: str
    task_id: str
    documents: list[HandedDocumentLine]
    by: str
    at: datetime


# A sheet-metal work order for a self-made missing part (§8.5c).
class SheetMetalOrder(BaseModel):
    order_no: str
    issue_no: str
    item: str
    qty: Decimal
    required_date: date | None = None
    at: datetime


# One round of quality.final_inspection (P9).
class FinalInspectionRound(BaseModel):
    order_no: str
    round: int
    passed: bool
    defects: list[dict[str, Any]] = Field(default_factory=list)
    by: str
    at: datetime


# Finished goods in (passed final inspection) or out (shipped).
class FinishedGoods(BaseModel):
    order_no: str
    movement: Literal["in", "out"]
    by: str
    at: datetime
    ref: str | None = None


# -- production to close, changes and cancellation (P8-P10, "At any time") -------------------


# `POST /sales/orders/{order_no}/cancel`: the `cancel` update of the order.
class CancelOrder(BaseModel):
    reason: str
    by: str
    # The gateway's signed assertion of `by` (and roles) for this update (shared/actor.py).
    assertion: str | None = None


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
    # The plant's local date of the run, and why it made no list then (None: it made one):
    # a day off, or not the list's day (shared/plant_days.py). Older runs carry neither.
    day: date | None = None
    skipped: str | None = None
