"""The plant's money settings (P1 order audit, P10 settlement): who audits an order's terms,
and the payment terms an order gets when its intake names none. `Settings` inherits them."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings


class MoneySettings(BaseSettings):
    # Whether finance audits each new order's customer qualification and payment terms at
    # intake (`sales.order_audit`), and which role does: `finance`, or `head:sales` in a plant
    # without a finance department.
    order_audit: bool = True
    finance_role: Literal["finance", "head:sales"] = "finance"
    # The terms of an order whose intake sends none: deposit, retention (due `retention_days`
    # after the customer's acceptance), days of credit on progress and final payments, whether
    # the deposit must be in before the order is released to planning, and the credit limit
    # a customer has when intake names none (0: no limit).
    deposit_pct: Decimal = Field(default=Decimal(30), ge=0, le=100)
    retention_pct: Decimal = Field(default=Decimal(5), ge=0, le=100)
    retention_days: int = Field(default=365, ge=0, le=3650)
    credit_days: int = Field(default=30, ge=0, le=365)
    deposit_before_release: bool = False
    credit_limit: Decimal = Field(default=Decimal(0), ge=0)
