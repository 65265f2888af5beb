"""Types that cross the workflow boundary in material control (P4.2-P7): receiving and
incoming inspection, NCRs, allocation, completeness, picking, and the daily MRP run.

Like `shared/types.py`: pydantic models for the pydantic data converter; add fields as
optional only, running workflows replay with the histories they have.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from shared.types import RequisitionSummary

# -- receiving, inspection and material control (P5-P7) -------------------------------------


# Something changed in an order's material: a signal to `order-<order_no>`.
# kind: `reserved` (stock set aside for it), `ncr` (its goods were rejected), `requisition`
# (a new requisition to approve and buy: from the daily MRP run, or an NCR's replacement).
# `found_in` is `assembly` for an NCR on goods the order had picked (they have left it).
class MaterialNotice(BaseModel):
    kind: str
    item: str | None = None
    qty: Decimal | None = None
    ncr_no: str | None = None
    defect: str | None = None
    requisition: RequisitionSummary | None = None
    message: str = ""
    found_in: str | None = None


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
    # Scrapped goods of a PO that can no longer be reopened, requisitioned again for the order.
    requisitions: list[RequisitionSummary] = Field(default_factory=list)


# quality.ncr_judgement of nonconforming material found in assembly (§8.5b) completed: its
# material effect on the order that had picked the goods.
class AssemblyNcrJudged(BaseModel):
    order_no: str
    issue_no: str
    description: str
    items: list[dict[str, Any]]
    disposition: str
    comment: str = ""
    by: str
    at: datetime


# One item of an assembly NCR as judged: what left the order, on which release pass, and what
# replaces it (a requisition to buy, or a work order's key).
class AssemblyNcrLine(BaseModel):
    ncr_no: str
    item: str
    qty: Decimal
    taken: Decimal = Decimal(0)
    pass_no: str | None = None
    requisition: RequisitionSummary | None = None
    work_order: str | None = None


class AssemblyNcrClosed(BaseModel):
    lines: list[AssemblyNcrLine] = Field(default_factory=list)


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


# What the order asks of its material (issue 17): the lines of one item, or a summary naming
# the first `sample` lines of each kind and counting the rest.
class MaterialQuery(BaseModel):
    order_no: str
    item: str | None = None
    sample: int = 20


# The order's material in counts, with the first lines of each kind named (all of them when
# made from a run's recorded `Completeness`): nothing in it grows with the BOM. Whatever needs
# every line reads it from the database.
class MaterialSummary(BaseModel):
    order_no: str
    lines: int
    # Lines not reserved in full, the first of them.
    missing: list[MaterialLine] = Field(default_factory=list)
    missing_count: int = 0
    # Lines not picked in full, the first of them, and of those the first with stock to pick.
    outstanding: list[MaterialLine] = Field(default_factory=list)
    outstanding_count: int = 0
    ready: list[MaterialLine] = Field(default_factory=list)
    ready_count: int = 0
    # The line asked for by item (`MaterialQuery.item`), if the order needs it.
    line: MaterialLine | None = None

    @property
    def complete(self) -> bool:
        """Every line reserved (an order that needs nothing from stock is complete)."""
        return self.missing_count == 0


def summarize(
    status: Completeness, sample: int | None = None, item: str | None = None
) -> MaterialSummary:
    """The summary of every line of `status`, naming the first `sample` of each kind (all of
    them with None: what a run from before the summary saw)."""
    missing = status.missing
    outstanding = [x for x in status.lines if x.picked < x.required]
    ready = [x for x in outstanding if x.to_pick > 0]
    end = len(status.lines) if sample is None else sample
    return MaterialSummary(
        order_no=status.order_no,
        lines=len(status.lines),
        missing=missing[:end],
        missing_count=len(missing),
        outstanding=outstanding[:end],
        outstanding_count=len(outstanding),
        ready=ready[:end],
        ready_count=len(ready),
        line=next((x for x in status.lines if x.item == item), None) if item else None,
    )


# warehouse.picking completed: take the picked quantities off the shelf, lot by lot (FIFO).
class PickRecord(BaseModel):
    order_no: str
    task_id: str
    lines: list[dict[str, Any]]
    # The pick list the task showed: what it named and was not picked was not on the shelf.
    pick_list: dict[str, Decimal] = Field(default_factory=dict)
    by: str
    at: datetime
    # A pick list too long for the order to carry (issue 17): the task named only its first
    # lines and a count. What the picker named is taken (what it named short of the shelf's
    # reservation was not found); a line not named stays reserved for the next round.
    by_reference: bool = False


# planning.ncr_disposition `reuse_stock`: set aside free stock of an item for the order.
class ReserveFree(BaseModel):
    order_no: str
    item: str
    by: str
    at: datetime


# The master plan published: the production work order opens (§4.2); orders from before
# then open it when all their material is picked (`bom_revision` 0: no BOM released yet).
class OpenProductionOrder(BaseModel):
    order_no: str
    bom_revision: int
    planned_start: date
    planned_end: date
    at: datetime


class PickResult(BaseModel):
    picked: dict[str, Decimal]
    short: dict[str, Decimal]
    # A pick by reference: how many lines came up short (`short` names the first of them).
    short_count: int | None = None


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
    # The plant's local date of the run, and why it skipped when that is a day off (None: it
    # ran). Runs started before the calendar carry neither.
    day: date | None = None
    skipped: str | None = None


# A safety-stock requisition to approve and buy: StockReplenishmentWorkflow's input (§4.5).
class StockReplenishment(BaseModel):
    requisition: RequisitionSummary
    queue_prefix: str = "orderflow"
