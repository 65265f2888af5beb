"""Sales API types: the order intake and its answer."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.sales.payment_schemas import Money, PaymentTermsIn, QualificationText
from shared.bounds import (
    CODE_LEN,
    FREE_TEXT_LEN,
    ITEM_LEN,
    LINES_MAX,
    NAME_LEN,
    ORDER_NO_LEN,
    REF_LEN,
    NoControl,
    RequestDate,
    Text,
    check_extra_fields,
)
from shared.payloads import BomChange

# Units a line may be ordered in; anything else is refused so quantities stay comparable.
UNITS = frozenset({"pcs", "set", "unit", "lot", "m", "m2", "m3", "kg", "t", "l", "pair", "roll"})
ORDER_NO_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class OrderLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item: Text = Field(min_length=1, max_length=ITEM_LEN)
    description: Text = Field(default="", max_length=500)
    qty: Decimal = Field(gt=0, max_digits=18, decimal_places=4, allow_inf_nan=False)
    unit: str = Field(max_length=16)

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, unit: str) -> str:
        if unit not in UNITS:
            raise ValueError(f"unknown unit {unit!r}; use one of {', '.join(sorted(UNITS))}")
        return unit


# The order as sales takes it in (P1.1): everything is checked before anything is stored.
class OrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_no: str = Field(max_length=ORDER_NO_LEN, pattern=ORDER_NO_PATTERN)
    customer: Text = Field(min_length=1, max_length=NAME_LEN)
    project_name: Text = Field(min_length=1, max_length=NAME_LEN)
    contract_no: Text = Field(min_length=1, max_length=CODE_LEN)
    technical_agreement_ref: Annotated[str, Field(max_length=REF_LEN), NoControl] | None = None
    drawing_refs: list[Annotated[str, Field(max_length=REF_LEN), NoControl]] = Field(
        default_factory=list, max_length=500
    )
    lines: list[OrderLineIn] = Field(min_length=1, max_length=LINES_MAX)
    requested_date: RequestDate
    amount: Decimal = Field(ge=0, max_digits=18, decimal_places=2, allow_inf_nan=False)
    currency: str = Field(default="CNY", max_length=3, pattern=r"^[A-Z]{3}$")
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    # The order audit's figures (issue 16): left out, the plant's defaults apply.
    payment_terms: PaymentTermsIn | None = None
    credit_limit: Money | None = None
    customer_qualification: QualificationText | None = None

    @field_validator("requested_date")
    @classmethod
    def _in_the_future(cls, value: date) -> date:
        today = date.today()
        if value <= today:
            raise ValueError(f"must be after today ({today.isoformat()})")
        return value

    @field_validator("customer", "project_name", "contract_no")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


# The answer to an intake: where the order lives.
class OrderCreated(BaseModel):
    order_no: str
    workflow_id: str


# `POST /sales/orders/{order_no}/cancel`: why the customer's order is cancelled.
class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Text = Field(min_length=1, max_length=500)

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


# `POST /sales/orders/{order_no}/changes`: a customer change (API.md). `detail` says in words
# what the customer asked; it may also be an object carrying the kind's fields (`item`, `qty`,
# `new_date`, `bom_changes`, with its words under `description`).
class ChangeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["qty", "date", "scope"]
    detail: Annotated[str, Field(max_length=FREE_TEXT_LEN), NoControl] | dict[str, Any]
    customer_confirmation_ref: Annotated[str, Field(max_length=REF_LEN), NoControl] | None = None
    item: Annotated[str, Field(min_length=1, max_length=ITEM_LEN), NoControl] | None = None
    qty: Decimal | None = Field(
        default=None, gt=0, max_digits=18, decimal_places=4, allow_inf_nan=False
    )
    new_date: RequestDate | None = None
    bom_changes: list[BomChange] = Field(default_factory=list, max_length=500)

    @model_validator(mode="after")
    def _fields_of_the_kind(self) -> Self:
        if isinstance(self.detail, dict):
            lifted = ChangeDetail.model_validate(self.detail)
            self.item = self.item or lifted.item
            self.qty = self.qty if self.qty is not None else lifted.qty
            self.new_date = self.new_date or lifted.new_date
            self.bom_changes = self.bom_changes or lifted.bom_changes
        if not self.text.strip():
            raise ValueError("detail must say what the customer asked for")
        if self.kind == "qty" and self.qty is None:
            raise ValueError("a qty change needs qty: the new quantity of the order line")
        if self.kind == "date" and self.new_date is None:
            raise ValueError("a date change needs new_date: the delivery date now wanted")
        if self.kind == "scope" and not self.bom_changes:
            raise ValueError("a scope change needs bom_changes: the BOM lines it changes")
        return self

    @property
    def text(self) -> str:
        if isinstance(self.detail, str):
            return self.detail
        words = self.detail.get("description") or self.detail.get("text")
        return str(words) if words else ""


# `detail` given as an object: the kind's fields inside it.
class ChangeDetail(BaseModel):
    model_config = ConfigDict(extra="allow")
    description: Annotated[str, Field(max_length=FREE_TEXT_LEN), NoControl] | None = None
    item: Annotated[str, Field(min_length=1, max_length=ITEM_LEN), NoControl] | None = None
    qty: Decimal | None = Field(
        default=None, gt=0, max_digits=18, decimal_places=4, allow_inf_nan=False
    )
    new_date: RequestDate | None = None
    bom_changes: list[BomChange] = Field(default_factory=list, max_length=500)

    # Its other fields are kept with the change's request (JSONB): bounded like payload extras.
    @model_validator(mode="before")
    @classmethod
    def _bounded_extras(cls, data: Any) -> Any:
        check_extra_fields(data, set(cls.model_fields), where="detail")
        return data
