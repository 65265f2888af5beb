"""Payloads of every task kind (API.md "Task kinds"): what a department app sends to complete one.

These models cross the workflow boundary: the API validates a completion with them before it
sends the update, and the workflow's update validator checks them again. More fields than the
minimum are allowed (`extra="allow"`) and kept with the task.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


# Part of a payload: strict, so `"10"` is no integer and `1` no boolean; dates come as ISO text.
class Part(BaseModel):
    model_config = ConfigDict(strict=True)


# Base of every payload: extra fields are allowed and kept with the completed task.
class Payload(Part):
    model_config = ConfigDict(extra="allow", strict=True)

    @classmethod
    def parse(cls, data: Any) -> Self:
        """Validate JSON-shaped data as the API received it (strict, dates as ISO text)."""
        return cls.model_validate_json(json.dumps(data, default=str))


class ItemQty(Part):
    item: str = Field(min_length=1, max_length=64)
    qty: float = Field(gt=0)


# engineering.contract_review: the design review of the contract and its drawings.
class ContractReview(Payload):
    ok: bool
    design_days: int = Field(ge=0, le=3650)
    issues: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _issues_when_not_ok(self) -> Self:
        if not self.ok and not [issue for issue in self.issues if issue.strip()]:
            raise ValueError("a review that is not ok must list its technical issues")
        return self


# procurement.lead_time_review: the longest material lead time and the items behind it.
class LeadTimeReview(Payload):
    lead_days: int = Field(ge=0, le=3650)
    critical_items: list[str] = Field(default_factory=list)


# planning.delivery_review: the delivery date planning can commit to.
class DeliveryReview(Payload):
    delivery_date: date


# sales.management_approval, procurement.special_approval, procurement.stock_approval.
class Approval(Payload):
    approved: bool
    comment: str = ""


# sales.confirm_delivery: the customer's answer to the proposed date.
class ConfirmDelivery(Payload):
    accepted: bool
    customer_date: date | None = None
    decline: bool | None = None
    reason: str | None = None

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
    design_done: date
    bom_release: date
    drawings_release: date
    material_required: date
    production_start: date
    production_end: date
    final_inspection: date
    ship: date

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
    reason: str | None = None

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
    comment: str = ""
    agreed_date: date | None = None
    amount: float | None = Field(default=None, gt=0)
    customer_confirmation_ref: str | None = None

    @model_validator(mode="after")
    def _declined_needs_reason(self) -> Self:
        if not self.agreed and not self.comment.strip():
            raise ValueError("a change not agreed needs a comment saying why")
        return self


# sales.renegotiate_delivery: the new date agreed with the customer.
class RenegotiateDelivery(Payload):
    new_date: date
    customer_confirmation_ref: str | None = None


class BomLine(Part):
    model_config = ConfigDict(extra="allow", strict=True)
    item: str = Field(min_length=1, max_length=64)
    parent: str | None = None
    qty_per: float
    make_or_buy: Literal["make", "buy"]
    lead_days: int | None = Field(default=None, ge=0)
    supplier: str | None = None
    special: bool | None = None


# engineering.release_bom: the multi-level BOM of the order.
class ReleaseBom(Payload):
    lines: list[BomLine] = Field(min_length=1)
    # Operations engineering identifies as special processes (§10): quality confirms them.
    special_operations: list[str] = Field(default_factory=list)


class Drawing(Part):
    number: str = Field(min_length=1)
    title: str = Field(min_length=1)
    rev: str = Field(min_length=1)


# engineering.release_drawings: the released drawing set.
class ReleaseDrawings(Payload):
    drawings: list[Drawing] = Field(min_length=1)


# procurement.place_po: the purchase order for a requisition.
class PlacePo(Payload):
    supplier: str = Field(min_length=1)
    promised_date: date
    po_no: str | None = None
    # The agreed price per unit; what a cancellation counts received and committed goods at.
    unit_price: float | None = Field(default=None, ge=0)


# procurement.chase_supply: the buyer's answer after chasing a missing line (P5.1, §4.7).
class ChaseSupply(Payload):
    expected_date: date
    comment: str = ""


class InspectionLine(Part):
    item: str = Field(min_length=1)
    qualified_qty: float = Field(ge=0)
    rejected_qty: float = Field(ge=0)
    defect: str | None = None


# quality.incoming_inspection: qualified and rejected quantity per line.
class IncomingInspection(Payload):
    lines: list[InspectionLine] = Field(min_length=1)


# quality.ncr_judgement: what happens to nonconforming material.
class NcrJudgement(Payload):
    disposition: Literal["return", "repair", "concession", "scrap"]
    comment: str = ""


# planning.ncr_disposition: how the order gets its material despite the NCR.
class NcrDisposition(Payload):
    action: Literal["reuse_stock", "new_arrival", "concession"]
    expected_date: date | None = None


class PickLine(Part):
    item: str = Field(min_length=1)
    qty_picked: float = Field(ge=0)


# warehouse.picking: what was picked for the order.
class Picking(Payload):
    lines: list[PickLine] = Field(min_length=1)


class BomChange(Part):
    item: str = Field(min_length=1)
    parent: str | None = None
    qty_per: float = Field(ge=0)
    make_or_buy: Literal["make", "buy"]
    # For a new bought item: where it comes from (else the item master's).
    supplier: str | None = None
    lead_days: int | None = Field(default=None, ge=0)
    special: bool | None = None


# engineering.design_change: the design change notice (DCN).
class DesignChange(Payload):
    dcn_no: str = Field(min_length=1)
    summary: str = Field(min_length=1)
    bom_changes: list[BomChange] = Field(default_factory=list)


class Operation(Part):
    name: str = Field(min_length=1)
    signed_by: str = Field(min_length=1)
    # A key operation production identifies (§10): quality confirms it, as a special one.
    key: bool = False


# production.assembly: the process card, every operation signed.
class Assembly(Payload):
    operations: list[Operation] = Field(min_length=1)
    missing_parts: list[ItemQty] = Field(default_factory=list)


# quality.process_confirmation: quality's sign-off on a special or key operation.
class ProcessConfirmation(Payload):
    operation: str = Field(min_length=1)
    confirmed: bool


# production.confirm_issue: the workshop's process engineer confirms a reported design problem.
class ConfirmIssue(Payload):
    confirmed: bool
    comment: str = ""


# planning.missing_part_analysis: why a part is missing in assembly (§8.5c).
class MissingPartAnalysis(Payload):
    cause: Literal["self_made", "purchased", "engineering"]
    comment: str = ""


# production.submit_inspection: the product inspection request.
class SubmitInspection(Payload):
    missing_parts: list[ItemQty] = Field(default_factory=list)


class Defect(Part):
    description: str = Field(min_length=1)


# quality.final_inspection: pass, or the defects found.
class FinalInspection(Payload):
    passed: bool
    defects: list[Defect] = Field(default_factory=list)


class DefectSignOff(Part):
    id: str = Field(min_length=1)
    signed_by: str = Field(min_length=1)


# production.correct_defects: each defect corrected and signed by the team leader.
class CorrectDefects(Payload):
    defects: list[DefectSignOff] = Field(min_length=1)


# sales.ship: the shipment and its transport.
class Ship(Payload):
    carrier: str = Field(min_length=1)
    mode: Literal["road", "sea", "air", "rail"]
    tracking_no: str = Field(min_length=1)


# sales.delivery_confirmed: the customer's receipt.
class DeliveryConfirmed(Payload):
    received_on: date


# aftersales.commissioning: installation, training and power-on check.
class Commissioning(Payload):
    installed: bool
    trained: bool
    power_on_ok: bool
    notes: str = ""


# sales.settlement: invoice and payment.
class Settlement(Payload):
    invoice_no: str = Field(min_length=1)
    amount_paid: float = Field(ge=0)


# sales.evaluation: customer satisfaction and lessons learned.
class Evaluation(Payload):
    satisfaction: int = Field(ge=1, le=5)
    lessons: str


# sales.ship_date: the expected ship date of a stocked, unshipped order.
class ShipDate(Payload):
    expected_ship: date
