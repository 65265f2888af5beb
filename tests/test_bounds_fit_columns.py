"""A payload that passes the API can always be stored: every bound fits the column it lands in.

Walks every task kind's payload model (nested parts included) and every request schema, and
every field of them that takes text or a number. Each such field is mapped below to the column
it lands in (or to free text kept in a `text`/JSONB column); a field without an entry fails,
and so does a bound wider than its column.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from decimal import Decimal
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pytest
from pydantic import BaseModel, Field, create_model
from pydantic.fields import FieldInfo
from sqlalchemy import Column, Integer, Numeric

from services.aftersales.models import ServiceCase, Warranty
from services.aftersales.schemas import CaseCreate, PartsIssue, WarrantySet
from services.engineering.models import BomLineRow, DesignChangeNotice, DrawingRelease
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
from shared.bounds import FREE_TEXT_LEN, NumericFit
from shared.tasks.kinds import TASK_KINDS
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


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in get_args(annotation):
        yield from _models_in(arg)


def input_models() -> list[type[BaseModel]]:
    """Every payload model and request schema, with the models nested in their fields."""
    seen: list[type[BaseModel]] = []
    todo = [kind.payload for kind in TASK_KINDS.values()] + list(REQUEST_SCHEMAS)
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.append(model)
        for field in model.model_fields.values():
            todo.extend(_models_in(field.annotation))
    return sorted(seen, key=lambda m: m.__name__)


def _leaves(annotation: Any) -> Iterator[Any]:
    """The scalar types a field holds, through Optional, list and Annotated."""
    origin = get_origin(annotation)
    if origin is Annotated:
        yield from _leaves(get_args(annotation)[0])
    elif origin in (Union, types.UnionType, list):
        for arg in get_args(annotation):
            yield from _leaves(arg)
    elif annotation is not type(None):
        yield annotation


def _flat(items: list[Any]) -> list[Any]:
    out = []
    for item in items:
        out.append(item)
        if isinstance(item, FieldInfo):
            out.extend(item.metadata)
    return out


def _annotation_metadata(annotation: Any) -> list[Any]:
    """The constraints inside a field's type (`Text | None`, `list[Annotated[Text, ...]]`)."""
    found: list[Any] = []
    if get_origin(annotation) is Annotated:
        found.extend(_flat(list(annotation.__metadata__)))
    for arg in get_args(annotation):
        found.extend(_annotation_metadata(arg))
    return found


def _metadata(field: FieldInfo) -> list[Any]:
    """The constraints on a field's values: a list's items' own, else the field's and its type's."""
    inner = _annotation_metadata(field.annotation)
    return inner if field_is_list(field) else _flat(list(field.metadata)) + inner


def _bound(field: FieldInfo, name: str, *, of_list: bool = False) -> Any:
    metadata = _flat(list(field.metadata)) if of_list else _metadata(field)
    values = [getattr(m, name) for m in metadata if getattr(m, name, None) is not None]
    return min(values) if values else None


def checked_fields() -> list[tuple[type[BaseModel], str, FieldInfo]]:
    """Every field that takes text or a number (Literal and bool fields are closed sets)."""
    out = []
    for model in input_models():
        for name, field in model.model_fields.items():
            leaves = [t for t in _leaves(field.annotation) if get_origin(t) is not Literal]
            if any(t in (str, int, float, Decimal) for t in leaves if t is not bool):
                out.append((model, name, field))
    return out


FIELDS = checked_fields()


def _id(case: tuple[type[BaseModel], str, FieldInfo]) -> str:
    return f"{case[0].__name__}.{case[1]}"


def test_every_field_taking_text_or_numbers_is_mapped_to_its_column() -> None:
    unmapped = [_id(case) for case in FIELDS if (case[0], case[1]) not in COLUMNS]
    assert unmapped == [], f"map these fields to the column they land in: {unmapped}"
    stale = [f"{m.__name__}.{n}" for m, n in COLUMNS if n not in m.model_fields]
    assert stale == []


@pytest.mark.parametrize("case", FIELDS, ids=_id)
def test_bound_fits_the_column(case: tuple[type[BaseModel], str, FieldInfo]) -> None:
    model, name, field = case
    column = COLUMNS[(model, name)]
    leaves = set(_leaves(field.annotation))
    if str in leaves:
        max_length = _bound(field, "max_length")
        assert max_length is not None, f"{_id(case)}: text without a max length"
        length = getattr(column.type, "length", None)  # String(n) and SQLModel's AutoString
        if length is not None:
            assert max_length <= length, f"{_id(case)} is wider than {column}"
        else:
            assert max_length <= FREE_TEXT_LEN, f"{_id(case)}: free text above {FREE_TEXT_LEN}"
    if field_is_list(field):
        size = _bound(field, "max_length", of_list=True)
        assert size is not None, f"{_id(case)}: a list without a max size"
    if leaves & {float, Decimal}:
        assert isinstance(column.type, Numeric), f"{_id(case)} lands in {column.type}"
        precision, scale = column.type.precision, column.type.scale
        assert precision is not None and scale is not None
        fits = [m for m in _metadata(field) if isinstance(m, NumericFit)]
        if fits:
            (fit,) = fits
            assert fit.precision - fit.scale <= precision - scale and fit.scale <= scale
        else:
            max_digits, places = _bound(field, "max_digits"), _bound(field, "decimal_places")
            assert max_digits is not None and places is not None, f"{_id(case)} is unbounded"
            assert max_digits - places <= precision - scale and places <= scale
        assert _bound(field, "allow_inf_nan") is False, f"{_id(case)} takes NaN or Infinity"
    if int in leaves and bool not in leaves:
        upper = _bound(field, "le")
        assert upper is not None, f"{_id(case)}: an integer without an upper bound"
        if isinstance(column.type, Integer):
            assert upper <= INT4_MAX


def field_is_list(field: FieldInfo) -> bool:
    return any(get_origin(a) is list for a in [field.annotation, *get_args(field.annotation)])


@pytest.mark.parametrize(
    ("annotation", "field", "column"),
    [
        (str | None, Field(default=None, max_length=65), col(PurchaseOrder, "po_no")),
        (Decimal, Field(max_digits=20, decimal_places=6, allow_inf_nan=False), col(PoLine, "qty")),
        (str, Field(max_length=FREE_TEXT_LEN + 1), col(Order, "project_name")),
    ],
    ids=["po_no-65", "qty-numeric(20,6)", "free-text"],
)
def test_a_widened_bound_is_caught(
    annotation: Any, field: FieldInfo, column: Column[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check fails for a bound past its column (so it cannot pass vacuously)."""
    wide = create_model("Wide", value=(annotation, field))
    monkeypatch.setitem(COLUMNS, (wide, "value"), column)
    with pytest.raises(AssertionError):
        test_bound_fits_the_column((wide, "value", wide.model_fields["value"]))
