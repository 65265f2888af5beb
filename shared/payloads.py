"""Payloads of every task kind (API.md "Task kinds"): what a department app sends to complete one.

These models cross the workflow boundary: the API validates a completion with them before it
sends the update, and the workflow's update validator checks them again. More fields than the
minimum are allowed (`extra="allow"`) and kept with the task, within bounds (shared/bounds.py:
at most 20 of them and 8 KiB of JSON, no control characters). Every field is bounded so that a
payload that validates can always be stored: text by its column's length and without control
characters, lists by size, numbers finite and within their numeric column, dates within the
horizon (20 years from `today` when the API passes it, see `Payload.parse`).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal, Self

from pydantic import ConfigDict, Field, model_validator

from shared.bounds import (
    BOM_LINES_MAX,
    CODE_LEN,
    DCN_NO_LEN,
    DRAWING_NUMBER_LEN,
    DRAWING_REV_LEN,
    DRAWINGS_MAX,
    FREE_TEXT_LEN,
    ISSUES_MAX,
    ITEM_LEN,
    LINES_MAX,
    NAME_LEN,
    PERSON_LEN,
    PO_NO_LEN,
    REF_LEN,
    SUPPLIER_LEN,
    Amount,
    BoundedDate,
    NoControl,
    Qty,
    Text,
)
from shared.payload_base import Part, Payload


class ItemQty(Part):
    item: Text = Field(min_length=1, max_length=ITEM_LEN)
    qty: Qty = Field(gt=0)


# engineering.contract_review: the design review of the contract and its drawings.
class ContractReview(Payload):
    ok: bool
    design_days: int = Field(ge=0, le=3650)
    issues: list[Annotated[str, Field(max_length=FREE_TEXT_LEN), NoControl]] = Field(
        default_factory=list, max_length=ISSUES_MAX
    )

    @model_validator(mode="after")
    def _issues_when_not_ok(self) -> Self:
        if not self.ok and not [issue for issue in self.issues if issue.strip()]:
            raise ValueError("a review that is not ok must list its technical issues")
        return self


# procurement.lead_time_review: the longest material lead time and the items behind it.
class LeadTimeReview(Payload):
    lead_days: int = Field(ge=0, le=3650)
    critical_items: list[Annotated[str, Field(max_length=NAME_LEN), NoControl]] = Field(
        default_factory=list, max_length=LINES_MAX
    )


# planning.delivery_review: the delivery date planning can commit to.
class DeliveryReview(Payload):
    delivery_date: BoundedDate


# sales.management_approval, procurement.special_approval, procurement.stock_approval.
class Approval(Payload):
    approved: bool
    comment: Text = Field(default="", max_length=FREE_TEXT_LEN)


# sales.confirm_delivery: the customer's answer to the proposed date.
class ConfirmDelivery(Payload):
    accepted: bool
    customer_date: BoundedDate | None = None
    decline: bool | None = None
    reason: Annotated[str, Field(max_length=FREE_TEXT_LEN), NoControl] | None = None

    @model_validator(mode="after")
    def _one_answer(self) -> Self:
        if self.accepted and (self.decline or self.customer_date):
            raise ValueError("an accepted date takes neither decline nor customer_date")
        if not self.accepted and not self.decline and self.customer_date is None:
            raise ValueError("a rejected date needs the customer's date or decline=true")
        if self.decline and self.customer_date is not None:
            raise ValueError("decline the order or counter with a date, not both")
        return self


MILESTONES: tuple[str, ...] = (
    "design_done",
    "bom_release",
    "drawings_release",
    "material_required",
    "production_start",
    "production_end",
    "final_inspection",
    "ship",
)


# The eight dates of the master plan (项目主计划表), in process order.
class PlanMilestones(Part):
    design_done: BoundedDate
    bom_release: BoundedDate
    drawings_release: BoundedDate
    material_required: BoundedDate
    production_start: BoundedDate
    production_end: BoundedDate
    final_inspection: BoundedDate
    ship: BoundedDate

    @model_validator(mode="after")
    def _in_process_order(self) -> Self:
        order = [
            ("design_done", "bom_release"),
            ("bom_release", "material_required"),
            ("design_done", "drawings_release"),
            ("material_required", "production_start"),
            ("drawings_release", "production_start"),
            ("production_start", "production_end"),
            ("production_end", "final_inspection"),
            ("final_inspection", "ship"),
        ]
        for earlier, later in order:
            if getattr(self, earlier) > getattr(self, later):
                raise ValueError(f"{earlier} must not fall after {later}")
        return self

    def as_dict(self) -> dict[str, date]:
        return {name: getattr(self, name) for name in MILESTONES}


# planning.master_plan: accept the proposal, or give every milestone date.
class MasterPlan(Payload):
    accept_proposal: bool = False
    milestones: PlanMilestones | None = None
    added_manpower: int | None = Field(default=None, ge=0, le=1000)
    reason: Annotated[str, Field(max_length=FREE_TEXT_LEN), NoControl] | None = None

    @model_validator(mode="after")
    def _proposal_or_dates(self) -> Self:
        if self.accept_proposal == (self.milestones is not None):
            raise ValueError("either accept_proposal=true or give milestones, not both")
        return self


# sales.change_agreement: the customer's answer to what their change costs or delays. An
# agreed change takes effect; `agreed_date` is the delivery date agreed (by default the
# date the plan can ship), `amount` the contract amount agreed anew, if it was.
class ChangeAgreement(Payload):
    agreed: bool
    comment: Text = Field(default="", max_length=FREE_TEXT_LEN)
    agreed_date: BoundedDate | None = None
    amount: Amount | None = Field(default=None, gt=0)
    customer_confirmation_ref: Annotated[str, Field(max_length=REF_LEN), NoControl] | None = None

    @model_validator(mode="after")
    def _declined_needs_reason(self) -> Self:
        if not self.agreed and not self.comment.strip():
            raise ValueError("a change not agreed needs a comment saying why")
        return self


# sales.renegotiate_delivery: the new date agreed with the customer.
class RenegotiateDelivery(Payload):
    new_date: BoundedDate
    customer_confirmation_ref: Annotated[str, Field(max_length=REF_LEN), NoControl] | None = None


class BomLine(Part):
    model_config = ConfigDict(extra="allow", strict=True)
    item: Text = Field(min_length=1, max_length=ITEM_LEN)
    parent: Annotated[str, Field(max_length=ITEM_LEN), NoControl] | None = None
    # Finite and within numeric(18,4); above 0 is the BOM check's rule (services/engineering/
    # bom.py), which names the line. More than 4 decimals is refused, so 1e-9 never rounds to 0.
    qty_per: Qty
    make_or_buy: Literal["make", "buy"]
    lead_days: int | None = Field(default=None, ge=0, le=3650)
    supplier: Annotated[str, Field(max_length=SUPPLIER_LEN), NoControl] | None = None
    special: bool | None = None


# engineering.release_bom: the multi-level BOM of the order, inline (`lines`, a small BOM) or
# by reference (`draft_id`, a draft uploaded to POST /engineering/orders/{order_no}/bom-drafts
# and validated there): exactly one of the two.
class ReleaseBom(Payload):
    lines: list[BomLine] = Field(default_factory=list, max_length=BOM_LINES_MAX)
    draft_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    # Operations engineering identifies as special processes (§10): quality confirms them.
    special_operations: list[Annotated[str, Field(max_length=NAME_LEN), NoControl]] = Field(
        default_factory=list, max_length=LINES_MAX
    )

    @model_validator(mode="after")
    def _lines_or_draft(self) -> Self:
        if self.draft_id is not None and self.lines:
            raise ValueError("give the BOM's lines or the draft_id of an uploaded draft, not both")
        if self.draft_id is None and not self.lines:
            raise ValueError(
                "give the BOM's lines (at least one) or the draft_id of an uploaded draft"
            )
        return self


class Drawing(Part):
    number: Text = Field(min_length=1, max_length=DRAWING_NUMBER_LEN)
    title: Text = Field(min_length=1, max_length=NAME_LEN)
    rev: Text = Field(min_length=1, max_length=DRAWING_REV_LEN)


# engineering.release_drawings: the released drawing set.
class ReleaseDrawings(Payload):
    drawings: list[Drawing] = Field(min_length=1, max_length=DRAWINGS_MAX)


# procurement.place_po: the purchase order for a requisition.
class PlacePo(Payload):
    supplier: Text = Field(min_length=1, max_length=SUPPLIER_LEN)
    promised_date: BoundedDate
    po_no: Annotated[str, Field(min_length=1, max_length=PO_NO_LEN), NoControl] | None = None
    # The agreed price per unit; what a cancellation counts received and committed goods at.
    unit_price: Qty | None = Field(default=None, ge=0)


# procurement.chase_supply: the buyer's answer after chasing a missing line (P5.1, §4.7).
class ChaseSupply(Payload):
    expected_date: BoundedDate
    comment: Text = Field(default="", max_length=FREE_TEXT_LEN)


class InspectionLine(Part):
    item: Text = Field(min_length=1, max_length=ITEM_LEN)
    qualified_qty: Qty = Field(ge=0)
    rejected_qty: Qty = Field(ge=0)
    defect: Annotated[str, Field(max_length=FREE_TEXT_LEN), NoControl] | None = None


# quality.incoming_inspection: qualified and rejected quantity per line.
class IncomingInspection(Payload):
    lines: list[InspectionLine] = Field(min_length=1, max_length=LINES_MAX)


# quality.ncr_judgement: what happens to nonconforming material.
class NcrJudgement(Payload):
    disposition: Literal["return", "repair", "concession", "scrap"]
    comment: Text = Field(default="", max_length=FREE_TEXT_LEN)


# planning.ncr_disposition: how the order gets its material despite the NCR.
class NcrDisposition(Payload):
    action: Literal["reuse_stock", "new_arrival", "concession"]
    expected_date: BoundedDate | None = None


class PickLine(Part):
    item: Text = Field(min_length=1, max_length=ITEM_LEN)
    qty_picked: Qty = Field(ge=0)


# warehouse.picking: what was picked for the order.
class Picking(Payload):
    lines: list[PickLine] = Field(min_length=1, max_length=LINES_MAX)


class BomChange(Part):
    item: Text = Field(min_length=1, max_length=ITEM_LEN)
    parent: Annotated[str, Field(max_length=ITEM_LEN), NoControl] | None = None
    qty_per: Qty = Field(ge=0)
    make_or_buy: Literal["make", "buy"]
    # For a new bought item: where it comes from (else the item master's).
    supplier: Annotated[str, Field(max_length=SUPPLIER_LEN), NoControl] | None = None
    lead_days: int | None = Field(default=None, ge=0, le=3650)
    special: bool | None = None


# engineering.design_change: the design change notice (DCN).
class DesignChange(Payload):
    dcn_no: Text = Field(min_length=1, max_length=DCN_NO_LEN)
    summary: Text = Field(min_length=1, max_length=FREE_TEXT_LEN)
    bom_changes: list[BomChange] = Field(default_factory=list, max_length=LINES_MAX)


class Operation(Part):
    name: Text = Field(min_length=1, max_length=NAME_LEN)
    signed_by: Text = Field(min_length=1, max_length=PERSON_LEN)
    # A key operation production identifies (§10): quality confirms it, as a special one.
    key: bool = False


# production.assembly: the process card, every operation signed.
class Assembly(Payload):
    operations: list[Operation] = Field(min_length=1, max_length=LINES_MAX)
    missing_parts: list[ItemQty] = Field(default_factory=list, max_length=LINES_MAX)


# quality.process_confirmation: quality's sign-off on a special or key operation.
class ProcessConfirmation(Payload):
    operation: Text = Field(min_length=1, max_length=NAME_LEN)
    confirmed: bool


# production.confirm_issue: the workshop's process engineer confirms a reported design problem.
class ConfirmIssue(Payload):
    confirmed: bool
    comment: Text = Field(default="", max_length=FREE_TEXT_LEN)


# planning.missing_part_analysis: why a part is missing in assembly (§8.5c).
class MissingPartAnalysis(Payload):
    cause: Literal["self_made", "purchased", "engineering"]
    comment: Text = Field(default="", max_length=FREE_TEXT_LEN)


# production.submit_inspection: the product inspection request.
class SubmitInspection(Payload):
    missing_parts: list[ItemQty] = Field(default_factory=list, max_length=LINES_MAX)


class Defect(Part):
    description: Text = Field(min_length=1, max_length=FREE_TEXT_LEN)


# quality.final_inspection: pass, or the defects found.
class FinalInspection(Payload):
    passed: bool
    defects: list[Defect] = Field(default_factory=list, max_length=ISSUES_MAX)


class DefectSignOff(Part):
    id: Text = Field(min_length=1, max_length=CODE_LEN)
    signed_by: Text = Field(min_length=1, max_length=PERSON_LEN)


# production.correct_defects: each defect corrected and signed by the team leader.
class CorrectDefects(Payload):
    defects: list[DefectSignOff] = Field(min_length=1, max_length=ISSUES_MAX)


# sales.ship: the shipment and its transport.
class Ship(Payload):
    carrier: Text = Field(min_length=1, max_length=NAME_LEN)
    mode: Literal["road", "sea", "air", "rail"]
    tracking_no: Text = Field(min_length=1, max_length=REF_LEN)


# sales.delivery_confirmed: the customer's receipt.
class DeliveryConfirmed(Payload):
    received_on: BoundedDate


# aftersales.commissioning: installation, training and power-on check.
class Commissioning(Payload):
    installed: bool
    trained: bool
    power_on_ok: bool
    notes: Text = Field(default="", max_length=FREE_TEXT_LEN)


# sales.settlement: invoice and payment.
class Settlement(Payload):
    invoice_no: Text = Field(min_length=1, max_length=CODE_LEN)
    amount_paid: Amount = Field(ge=0)


# sales.evaluation: customer satisfaction and lessons learned.
class Evaluation(Payload):
    satisfaction: int = Field(ge=1, le=5)
    lessons: Text = Field(max_length=FREE_TEXT_LEN)


# sales.ship_date: the expected ship date of a stocked, unshipped order.
class ShipDate(Payload):
    expected_ship: BoundedDate
