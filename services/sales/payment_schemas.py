"""Sales API types of the money (issue 16): the payment terms and customer qualification an
intake may carry, a payment booked, and the receivables with their ageing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.bounds import FREE_TEXT_LEN, REF_LEN, NoControl
from shared.payment_types import HUNDRED, PROGRESS_STAGES, PaymentTerms, ProgressPayment
from shared.settings import Settings

Pct = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2, allow_inf_nan=False)]
# The customer's qualification as sales found it (licence, rating, references), in words.
QualificationText = Annotated[str, Field(max_length=FREE_TEXT_LEN), NoControl]
Money = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2, allow_inf_nan=False)]


class ProgressPaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stage: Literal[PROGRESS_STAGES]  # type: ignore[valid-type]
    pct: Pct


# The payment terms of an intake; a term left out takes the plant's default (settings).
class PaymentTermsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    deposit_pct: Pct
    progress: list[ProgressPaymentIn] = Field(default_factory=list, max_length=len(PROGRESS_STAGES))
    retention_pct: Pct | None = None
    retention_days: int | None = Field(default=None, ge=0, le=3650)
    credit_days: int | None = Field(default=None, ge=0, le=365)
    deposit_before_release: bool | None = None

    @model_validator(mode="after")
    def _adds_up(self) -> Self:
        stages = [step.stage for step in self.progress]
        if len(set(stages)) != len(stages):
            raise ValueError("progress: one payment per stage")
        total = self.deposit_pct + sum((s.pct for s in self.progress), Decimal(0))
        total += self.retention_pct or Decimal(0)
        if total > HUNDRED:
            raise ValueError(
                f"deposit, progress payments and retention add up to {total}%, more than 100%"
            )
        return self


def intake_terms(
    terms: PaymentTermsIn | None,
    credit_limit: Decimal | None,
    qualification: str | None,
    settings: Settings,
) -> PaymentTerms:
    """The order's terms: what the intake sent, the plant's defaults for the rest."""
    sent = terms or PaymentTermsIn(deposit_pct=settings.deposit_pct)
    retention = settings.retention_pct if sent.retention_pct is None else sent.retention_pct
    deposit_plus = sent.deposit_pct + sum((s.pct for s in sent.progress), Decimal(0))
    plant_limit = settings.credit_limit or None
    return PaymentTerms(
        deposit_pct=sent.deposit_pct,
        progress=[ProgressPayment(stage=s.stage, pct=s.pct) for s in sent.progress],
        # The plant's retention never pushes the plan past the contract amount.
        retention_pct=min(retention, HUNDRED - deposit_plus),
        retention_days=settings.retention_days
        if sent.retention_days is None
        else sent.retention_days,
        credit_days=settings.credit_days if sent.credit_days is None else sent.credit_days,
        deposit_before_release=settings.deposit_before_release
        if sent.deposit_before_release is None
        else sent.deposit_before_release,
        credit_limit=plant_limit if credit_limit is None else credit_limit,
        customer_qualification=qualification,
    )


# `POST /sales/orders/{order_no}/payments`: money the customer paid, with its bank reference.
class PaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    amount: Decimal = Field(gt=0, max_digits=18, decimal_places=2, allow_inf_nan=False)
    paid_on: dt.date = Field(alias="date")
    reference: Annotated[str, Field(min_length=1, max_length=REF_LEN), NoControl]

    @field_validator("paid_on")
    @classmethod
    def _not_ahead(cls, value: dt.date) -> dt.date:
        today = dt.date.today()
        if value > today:
            raise ValueError(f"a payment is booked once received: not after today ({today})")
        if value < dt.date(2000, 1, 1):
            raise ValueError("must not be before 2000-01-01")
        return value

    @field_validator("reference")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must name the bank or receipt reference")
        return value.strip()


# A payment as booked, with the order's ledger after it.
class PaymentBooked(BaseModel):
    order_no: str
    amount: Decimal
    date: dt.date
    reference: str
    recorded_by: str
    recorded_at: dt.datetime
    paid_total: Decimal
    contract_amount: Decimal
    outstanding: Decimal


# Ageing buckets of what has fallen due and is unpaid, by days past its due date.
BUCKETS: tuple[str, ...] = ("not_due", "1-30", "31-60", "61-90", "over_90")


# One instalment of an order's payment plan and where it stands.
class InstalmentOut(BaseModel):
    kind: Literal["deposit", "progress", "final", "retention"]
    trigger: str
    amount: Decimal
    due_on: dt.date | None
    paid: Decimal
    outstanding: Decimal
    days_overdue: int
    bucket: str


# An order's receivable: contract, paid, outstanding, what is overdue, and its plan.
class Receivable(BaseModel):
    order_no: str
    customer: str
    currency: str
    stage: str
    status: str
    contract_amount: Decimal
    paid: Decimal
    outstanding: Decimal
    due: Decimal
    overdue: Decimal
    instalments: list[InstalmentOut]


# `GET /sales/receivables`: the orders with money outstanding, and the ageing per currency.
class Receivables(BaseModel):
    as_of: dt.date
    orders: list[Receivable]
    ageing: dict[str, dict[str, Decimal]]
