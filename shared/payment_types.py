"""Money of one order (P1 order audit, P10 settlement): its payment terms as intake fixed them,
the instalments they make of the contract amount, and what crosses the workflow boundary about
payments. Plain data, shared by sales (which keeps the ledger) and the order's workflow (which
waits on it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, Field

# The stages a progress payment may fall due at: the order reaching that stage (a milestone of
# its life). The final payment falls due at `closing` (the customer accepted the unit), the
# retention `retention_days` after it.
PROGRESS_STAGES: tuple[str, ...] = (
    "planning",
    "engineering",
    "materials",
    "production",
    "final_inspection",
    "delivery",
    "commissioning",
)
CENT = Decimal("0.01")
HUNDRED = Decimal(100)


# One progress payment: a share of the contract amount due when the order reaches a stage.
class ProgressPayment(BaseModel):
    stage: str
    pct: Decimal


# The payment terms of one order: sent at intake, else the plant's defaults (settings).
class PaymentTerms(BaseModel):
    deposit_pct: Decimal = Decimal(0)
    progress: list[ProgressPayment] = Field(default_factory=list)
    retention_pct: Decimal = Decimal(0)
    retention_days: int = 365
    credit_days: int = 30
    # True: the order is released to planning only once the deposit is paid.
    deposit_before_release: bool = False
    # The customer's credit limit (None: none set) and qualification as sales found it.
    credit_limit: Decimal | None = None
    customer_qualification: str | None = None

    def share(self, contract: Decimal, pct: Decimal) -> Decimal:
        return (contract * pct / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)

    def deposit(self, contract: Decimal) -> Decimal:
        return self.share(contract, self.deposit_pct)

    def retention(self, contract: Decimal) -> Decimal:
        return self.share(contract, self.retention_pct)

    def approval_reasons(self, contract: Decimal) -> list[str]:
        """Why the order needs management's approval whatever its amount (P1 order audit)."""
        reasons = []
        if self.credit_limit is not None and contract > self.credit_limit:
            reasons.append(
                f"amount {contract} is above the customer's credit limit {self.credit_limit}"
            )
        if self.deposit_pct == 0:
            reasons.append("the terms ask for no deposit")
        return reasons

    def instalments(self, contract: Decimal) -> list[Instalment]:
        """The payment plan: deposit, progress payments, final payment, retention (the final
        payment takes the rounding so the plan sums to the contract amount)."""
        plan = [Instalment("deposit", "intake", self.deposit(contract), 0)]
        plan += [
            Instalment("progress", step.stage, self.share(contract, step.pct), self.credit_days)
            for step in self.progress
        ]
        retention = self.retention(contract)
        final = contract - sum((i.amount for i in plan), Decimal(0)) - retention
        plan.append(Instalment("final", "closing", final, self.credit_days))
        plan.append(Instalment("retention", "closing", retention, self.retention_days))
        return [i for i in plan if i.amount > 0]


# One instalment of the plan: what falls due, at which event, and how many days after it.
@dataclass(frozen=True)
class Instalment:
    kind: str
    trigger: str
    amount: Decimal
    days_after: int

    def due_on(self, triggered_on: date | None) -> date | None:
        return None if triggered_on is None else triggered_on + timedelta(days=self.days_after)


# The order's ledger as sales booked it, sent to the workflow after every payment (signal
# `payments_changed`): the whole total and count, so a lost or repeated signal does no harm.
class PaymentsTotal(BaseModel):
    total: Decimal
    count: int


# What the settlement says was received beyond the ledger, for sales to book (activity input).
class SettlementPayment(BaseModel):
    order_no: str
    amount: Decimal
    paid_on: date
    reference: str
    by: str
