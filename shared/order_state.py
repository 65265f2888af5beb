"""`OrderState`: everything an order's workflow knows, in one serializable value.

`OrderWorkflow` owns it. Each phase of the order keeps its own slice (`review`, `plan`, …) and
writes only that slice; what a phase needs from another it reads, and what it wants of another
(a re-forecast, a purchase) it asks the workflow for through its `OrderContext`. Being plain
data, the state is what the order carries across continue-as-new.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from shared.change_types import ChangeAccepted, ChangeImpact, CustomerChange
from shared.production_types import (
    CancellationResult,
    CancelOrder,
    DesignChangeResult,
    IssueReported,
)
from shared.task_state import TaskBookState
from shared.types import PlanProposal, Policy, PoPlaced


# P1: the figures the review gathered (reused by the master plan) and management's approval.
class ReviewState(BaseModel):
    design_days: int = 0
    lead_days: int = 0
    critical_items: list[str] = Field(default_factory=list)
    rounds: int = 0
    approved: bool = False


# P2-P3: the published plan, its forecast and the released BOM's revision.
class PlanState(BaseModel):
    revision: int = 0
    milestones: dict[str, date] = Field(default_factory=dict)
    forecast: dict[str, date] = Field(default_factory=dict)
    proposal: PlanProposal | None = None
    bom_revision: int = 0
    delay_warned: date | None = None
    # Delay warnings the planner raised by hand (§2.4), counted to number them.
    hand_warnings: int = 0
    # True once the milestone clocks run (after the master plan is agreed).
    watching: bool = False


# P4: the requisitions whose own workflow has not settled yet (key → workflow id, in start
# order), how many have, and the tasks they withdrew when the order was cancelled; `placed`
# and `rejected` only for orders that bought on their own branches (before requisitions had
# their own workflows).
class PurchasingState(BaseModel):
    placed: dict[str, PoPlaced] = Field(default_factory=dict)
    rejected: list[str] = Field(default_factory=list)
    open: dict[str, str] = Field(default_factory=dict)
    settled: int = 0
    withdrawn: list[str] = Field(default_factory=list)
    # Requisitions procurement started in bulk for the order's BOM releases (issue 17): not
    # in `open`; the database says which are still being bought.
    bulk: int = 0


# P5-P7: material control and picking.
class MaterialsState(BaseModel):
    # Bumped by every reservation notice: waits for a material re-check watch it.
    reservations: int = 0
    complete: bool = False
    picking_started: bool = False
    # True while a picking round runs: one at a time, and the order does not close meanwhile.
    picking: bool = False
    # What the open picking task lists (item -> quantity); empty while none is open.
    pick_list: dict[str, Decimal] = Field(default_factory=dict)
    # Lines the open picking task lists by reference (issue 17: too many to carry; the
    # warehouse reads them from the database), 0 when `pick_list` holds them.
    pick_lines: int = 0
    work_order: str | None = None
    # Open chase and NCR-disposition tasks by item (task ids).
    chases: dict[str, str] = Field(default_factory=dict)
    # The one chase of the missing lines past the first few chased each on its own (issue 17).
    chase_rest: str | None = None
    dispositions: dict[str, str] = Field(default_factory=dict)
    warned_on: date | None = None
    # The shortage last warned of (a digest of the lines missing): a day's re-check that finds
    # the same one adds nothing to the order's history (issue 17).
    warned_shortage: str | None = None


# P8: the process card and the issues reported from assembly.
class ProductionState(BaseModel):
    issues: dict[str, IssueReported] = Field(default_factory=dict)
    special_operations: list[str] = Field(default_factory=list)
    missing_parts: list[dict[str, Any]] = Field(default_factory=list)
    design_changes: list[DesignChangeResult] = Field(default_factory=list)
    issue_seq: int = 0
    # Process-confirmation task id -> the operation it confirms.
    confirming: dict[str, str] = Field(default_factory=dict)
    # The issues' own workflows still running (AssemblyIssueWorkflow ids).
    issue_workflows: list[str] = Field(default_factory=list)
    # The workshop's checks (§8.1, §8.2, §8.4; workflows/workshop.py): their task ids, and
    # whether the certificates and manuals are recorded with quality (final inspection waits).
    drawing_check: str | None = None
    drawing_questions: list[str] = Field(default_factory=list)
    appearance_check: str | None = None
    documents_task: str | None = None
    documents_recorded: bool = False


# §11.2: parts listed missing at final inspection (item -> quantity), until each is fitted and
# signed or sales has it ship separately; the buyer's chase of each, and the parts under
# quality's signature.
class MissingPartsState(BaseModel):
    listed: dict[str, str] = Field(default_factory=dict)
    fitted: list[str] = Field(default_factory=list)
    separate: list[str] = Field(default_factory=list)
    signing: list[str] = Field(default_factory=list)
    chases: dict[str, str] = Field(default_factory=dict)

    def outstanding(self) -> list[str]:
        """Listed parts neither fitted and signed nor shipping separately."""
        done = {*self.fitted, *self.separate}
        return [item for item in self.listed if item not in done]


# P9-P10: final inspection rounds and the ship-date task of the weekly unshipped run.
class ClosingState(BaseModel):
    rounds: int = 0
    first_pass: bool | None = None
    # Open defect id -> its description.
    defects: dict[str, str] = Field(default_factory=dict)
    ship_date_task: str | None = None
    missing: MissingPartsState = Field(default_factory=MissingPartsState)


# Customer changes: every one taken, and the one in progress (one at a time).
class ChangesState(BaseModel):
    changes: dict[str, ChangeAccepted] = Field(default_factory=dict)
    pending: str | None = None
    agreements: dict[str, tuple[CustomerChange, ChangeImpact]] = Field(default_factory=dict)


# Money (issue 16): the ledger's total as sales last told it, whether management's approval
# needs four eyes and why the terms force it, and how many collection rounds there were.
class MoneyState(BaseModel):
    paid: Decimal = Decimal(0)
    payments: int = 0
    four_eyes: bool = False
    approval_reasons: list[str] = Field(default_factory=list)
    collections: int = 0


class OrderState(BaseModel):
    """The whole state of one order's workflow."""

    stage: str = "review"
    status: str = "active"
    due_date: date | None = None
    policy: Policy | None = None
    escalated: bool = False
    actuals: dict[str, date] = Field(default_factory=dict)
    tasks: TaskBookState = Field(default_factory=TaskBookState)
    review: ReviewState = Field(default_factory=ReviewState)
    plan: PlanState = Field(default_factory=PlanState)
    purchasing: PurchasingState = Field(default_factory=PurchasingState)
    materials: MaterialsState = Field(default_factory=MaterialsState)
    production: ProductionState = Field(default_factory=ProductionState)
    closing: ClosingState = Field(default_factory=ClosingState)
    changes: ChangesState = Field(default_factory=ChangesState)
    money: MoneyState = Field(default_factory=MoneyState)
    cancellation: CancelOrder | None = None
    cancelled: CancellationResult | None = None
    # How many runs the order has had: continue-as-new carries the state into the next.
    runs: int = 1
