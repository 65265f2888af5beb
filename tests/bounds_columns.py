"""Where each input field is stored: every task payload's and request schema's field that takes
text or a number, mapped to the column it lands in (tests/test_bounds_fit_columns.py checks
that each bound fits). A new field needs its entry here."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import Column

from services.aftersales.models import ServiceCase, Warranty
from services.aftersales.schemas import CaseCreate, PartsIssue, WarrantySet
from services.engineering.models import BomDraft, BomLineRow, DesignChangeNotice, DrawingRelease
from services.planning.calendar_schemas import ExceptionCreate
from services.planning.delay_api import DelayWarningCreate
from services.planning.models import PlanRevision
from services.procurement.buyer_schemas import PromiseMove, RequisitionCreate, SafetyStockSet
from services.procurement.models import (
    PoLine,
    PurchaseOrder,
    Requisition,
    SafetyStockChange,
    SafetyStockLevel,
)
from services.production.capacity_api import CapacityChange
from services.production.models import CapacityVersion, ProductionIssue
from services.production.schemas import IssueCreate, IssueItem
from services.quality.models import FinalInspection, HandedDocument, Inspection, Ncr
from services.sales.models import (
    Cancellation,
    CustomerChange,
    Order,
    OrderLine,
    Payment,
    PaymentPlan,
)
from services.sales.payment_schemas import PaymentIn, PaymentTermsIn, ProgressPaymentIn
from services.sales.schemas import (
    CancelRequest,
    ChangeDetail,
    ChangeRequest,
    OrderCreate,
    OrderLineIn,
)
from services.warehouse.case_issue import CasePart
from services.warehouse.models import Movement, ReceiptLine, Reservation, ReturnRecord, StockLot
from services.warehouse.schemas import ReturnCreate, ReturnLineCreate
from shared import payloads as p
from shared import payloads_aftersales as pa
from shared import payloads_customer as pc
from shared import payloads_final as pf
from shared import payloads_money as pm
from shared import payloads_procurement as pp
from shared import payloads_workshop as pw
from shared.tasks.models import inbox
from shared.timeline import TimelineEvent
from shared.working_time.models import CalendarExceptionRow

# Free text: kept in a `text` column or in JSONB (a task's payload, a timeline entry), where no
# length is enforced; its bound must stay at or below FREE_TEXT_LEN.
JSON = inbox("sales").c.payload
TERMS = PaymentPlan.__table__.c["terms"]  # type: ignore[attr-defined]
INT4_MAX = 2**31 - 1


def col(table: Any, name: str) -> Column[Any]:
    return table.__table__.c[name]  # type: ignore[no-any-return]


# (model, field) → the narrowest column the value lands in.
COLUMNS: dict[tuple[type[BaseModel], str], Column[Any]] = {
    (p.ItemQty, "item"): col(Requisition, "item"),
    (p.ItemQty, "qty"): col(Requisition, "qty"),
    (p.ContractReview, "design_days"): JSON,
    (p.ContractReview, "issues"): JSON,
    (p.LeadTimeReview, "lead_days"): JSON,
    (p.LeadTimeReview, "critical_items"): JSON,
    (p.Approval, "comment"): JSON,
    (p.ConfirmDelivery, "reason"): col(Order, "status_reason"),
    (p.MasterPlan, "added_manpower"): col(PlanRevision, "added_manpower"),
    (p.MasterPlan, "reason"): col(PlanRevision, "reason"),
    (p.ChangeAgreement, "comment"): JSON,
    (p.ChangeAgreement, "amount"): col(Order, "amount"),
    (p.ChangeAgreement, "customer_confirmation_ref"): col(
        CustomerChange, "customer_confirmation_ref"
    ),
    (p.RenegotiateDelivery, "customer_confirmation_ref"): JSON,
    (p.BomLine, "item"): col(BomLineRow, "item"),
    (p.BomLine, "parent"): col(BomLineRow, "parent"),
    (p.BomLine, "qty_per"): col(BomLineRow, "qty_per"),
    (p.BomLine, "lead_days"): col(BomLineRow, "lead_days"),
    # A bought line's supplier goes on to the PO, the receipt and the inspection (128).
    (p.BomLine, "supplier"): col(Inspection, "supplier"),
    (p.ReleaseBom, "special_operations"): JSON,
    (p.ReleaseBom, "draft_id"): col(BomDraft, "id"),
    (p.Drawing, "number"): col(DrawingRelease, "number"),
    (p.Drawing, "title"): col(DrawingRelease, "title"),
    (p.Drawing, "rev"): col(DrawingRelease, "rev"),
    (p.PlacePo, "supplier"): col(Inspection, "supplier"),
    (p.PlacePo, "po_no"): col(PurchaseOrder, "po_no"),
    (p.PlacePo, "unit_price"): col(PoLine, "unit_price"),
    (p.ChaseSupply, "comment"): JSON,
    (p.InspectionLine, "item"): col(ReceiptLine, "item"),
    (p.InspectionLine, "qualified_qty"): col(ReceiptLine, "qty_qualified"),
    (p.InspectionLine, "rejected_qty"): col(ReceiptLine, "qty_rejected"),
    (p.InspectionLine, "defect"): col(Ncr, "defect"),
    (p.NcrJudgement, "comment"): col(Ncr, "comment"),
    (p.PickLine, "item"): col(Reservation, "item"),
    (p.PickLine, "qty_picked"): col(Reservation, "picked"),
    (p.BomChange, "item"): col(BomLineRow, "item"),
    (p.BomChange, "parent"): col(BomLineRow, "parent"),
    (p.BomChange, "qty_per"): col(BomLineRow, "qty_per"),
    (p.BomChange, "supplier"): col(Inspection, "supplier"),
    (p.BomChange, "lead_days"): col(BomLineRow, "lead_days"),
    (p.DesignChange, "dcn_no"): col(DesignChangeNotice, "dcn_no"),
    (p.DesignChange, "summary"): col(DesignChangeNotice, "summary"),
    (p.Operation, "name"): JSON,
    (p.Operation, "signed_by"): JSON,
    (p.ProcessConfirmation, "operation"): JSON,
    (p.ConfirmIssue, "comment"): JSON,
    (p.MissingPartAnalysis, "comment"): JSON,
    (p.Defect, "description"): col(FinalInspection, "defects"),
    (p.DefectSignOff, "id"): JSON,
    (p.DefectSignOff, "signed_by"): JSON,
    (p.Ship, "carrier"): JSON,
    (p.Ship, "tracking_no"): JSON,
    (p.Commissioning, "notes"): JSON,
    (p.Settlement, "invoice_no"): JSON,
    # Kept in the task's payload; held to the contract amount's precision all the same.
    (p.Settlement, "amount_paid"): col(Order, "amount"),
    # Issue 16: kept in the task's payload and the timeline's detail (JSON); the amount held
    # to the contract amount's precision.
    (pc.CancellationSettlement, "amount"): col(Order, "amount"),
    (pc.CancellationSettlement, "reference"): JSON,
    (pc.CancellationSettlement, "notes"): JSON,
    (pc.ShippingCheck, "delivery_address"): JSON,
    (pc.ShippingCheck, "consignee"): JSON,
    (pc.ShippingCheck, "contact_phone"): JSON,
    (pc.ShippingCheck, "packaging"): JSON,
    (pc.ShippingCheck, "notes"): JSON,
    (p.Evaluation, "satisfaction"): JSON,
    (p.Evaluation, "lessons"): JSON,
    (OrderLineIn, "item"): col(Reservation, "item"),
    (OrderLineIn, "description"): col(OrderLine, "description"),
    (OrderLineIn, "qty"): col(OrderLine, "qty"),
    (OrderLineIn, "unit"): col(OrderLine, "unit"),
    (OrderCreate, "order_no"): col(Order, "order_no"),
    (OrderCreate, "customer"): col(Order, "customer"),
    (OrderCreate, "project_name"): col(Order, "project_name"),
    (OrderCreate, "contract_no"): col(Order, "contract_no"),
    (OrderCreate, "technical_agreement_ref"): col(Order, "technical_agreement_ref"),
    (OrderCreate, "drawing_refs"): col(Order, "drawing_refs"),
    (OrderCreate, "amount"): col(Order, "amount"),
    (OrderCreate, "currency"): col(Order, "currency"),
    (CancelRequest, "reason"): col(Cancellation, "reason"),
    (ChangeRequest, "detail"): col(CustomerChange, "detail"),
    (ChangeRequest, "customer_confirmation_ref"): col(CustomerChange, "customer_confirmation_ref"),
    (ChangeRequest, "item"): col(Reservation, "item"),
    (ChangeRequest, "qty"): col(OrderLine, "qty"),
    (ChangeDetail, "description"): col(CustomerChange, "detail"),
    (ChangeDetail, "item"): col(Reservation, "item"),
    (ChangeDetail, "qty"): col(OrderLine, "qty"),
    (IssueCreate, "description"): col(ProductionIssue, "description"),
    (IssueItem, "item"): col(Requisition, "item"),
    (IssueItem, "qty"): col(Requisition, "qty"),
    (ReturnCreate, "order_no"): col(ReturnRecord, "order_no"),
    (ReturnCreate, "reason"): JSON,
    (ReturnLineCreate, "item"): col(Movement, "item"),
    (ReturnLineCreate, "qty"): col(Movement, "qty"),
    (ReturnLineCreate, "lot_no"): col(StockLot, "lot_no"),
    (ExceptionCreate, "shifts"): col(CalendarExceptionRow, "shifts"),
    (ExceptionCreate, "reason"): col(CalendarExceptionRow, "reason"),
    # Parts missing at final inspection (task payloads) and the planner's delay warning (the
    # timeline's detail; the escalation's message is clipped to its column).
    (pf.FittedPart, "item"): JSON,
    (pf.FittedPart, "signed_by"): JSON,
    (pf.SignFittedParts, "comment"): JSON,
    (pf.MissingPartsShipment, "ship_separately"): JSON,
    (pf.MissingPartsShipment, "comment"): JSON,
    (DelayWarningCreate, "milestone"): JSON,
    (DelayWarningCreate, "reason"): JSON,
    (DelayWarningCreate, "countermeasure"): JSON,
    # After-sales service cases: the tasks' payloads, the case, the parts issued to it.
    (pa.CaseResponse, "response"): JSON,
    (pa.CaseOnSite, "engineer"): JSON,
    (pa.CaseOnSite, "findings"): JSON,
    (pa.CaseResolution, "resolution"): JSON,
    (ReturnCreate, "case_id"): col(ServiceCase, "case_id"),
    (CaseCreate, "order_no"): col(ServiceCase, "order_no"),
    (CaseCreate, "description"): col(ServiceCase, "description"),
    (CaseCreate, "contact"): col(ServiceCase, "contact"),
    (CasePart, "item"): col(Movement, "item"),
    (CasePart, "qty"): col(Movement, "qty"),
    (CasePart, "lot_no"): col(StockLot, "lot_no"),
    (WarrantySet, "months"): col(Warranty, "months"),
    # Money (issue 16): the terms are kept whole in the payment plan's JSONB; its numbers are
    # held to the order amount's numeric(18,2), which they are compared and multiplied with.
    (pm.OrderAudit, "comment"): col(Order, "status_reason"),
    (pm.CollectPayment, "comment"): JSON,
    (OrderCreate, "credit_limit"): col(Order, "amount"),
    (OrderCreate, "customer_qualification"): TERMS,
    (PaymentTermsIn, "deposit_pct"): col(Order, "amount"),
    (PaymentTermsIn, "retention_pct"): col(Order, "amount"),
    (PaymentTermsIn, "retention_days"): TERMS,
    (PaymentTermsIn, "credit_days"): TERMS,
    (ProgressPaymentIn, "pct"): col(Order, "amount"),
    (PaymentIn, "amount"): col(Payment, "amount"),
    (PaymentIn, "reference"): col(Payment, "reference"),
    # The workshop's checks (§8.1, §8.2, §8.4) and its capacity (§8.8).
    (pw.DrawingCheck, "unclear"): JSON,
    (pw.DrawingCheck, "comment"): JSON,
    (pw.DrawingAnswer, "answer"): JSON,
    (pw.AppearanceFinding, "item"): col(Requisition, "item"),
    (pw.AppearanceFinding, "qty"): col(Requisition, "qty"),
    (pw.AppearanceFinding, "defect"): col(ProductionIssue, "description"),
    (pw.HandedDocument, "item"): col(HandedDocument, "item"),
    (pw.HandedDocument, "ref"): col(HandedDocument, "ref"),
    (CapacityChange, "production_days"): col(CapacityVersion, "production_days"),
    (CapacityChange, "reason"): col(CapacityVersion, "reason"),
    # Issue 16, procurement.
    (pp.ConfirmPromise, "comment"): JSON,
    (PromiseMove, "line_no"): col(PoLine, "line_no"),
    (PromiseMove, "reason"): col(TimelineEvent, "summary"),
    (RequisitionCreate, "item"): col(Requisition, "item"),
    (RequisitionCreate, "qty"): col(Requisition, "qty"),
    (RequisitionCreate, "order_no"): col(Requisition, "order_no"),
    (SafetyStockSet, "level"): col(SafetyStockLevel, "level"),
    (SafetyStockSet, "reason"): col(SafetyStockChange, "reason"),
}

REQUEST_SCHEMAS: tuple[type[BaseModel], ...] = (
    OrderCreate,
    CancelRequest,
    ChangeRequest,
    ChangeDetail,
    IssueCreate,
    ReturnCreate,
    ExceptionCreate,
    DelayWarningCreate,
    CaseCreate,
    PartsIssue,
    WarrantySet,
    PaymentIn,
    CapacityChange,
    PromiseMove,
    RequisitionCreate,
    SafetyStockSet,
)
