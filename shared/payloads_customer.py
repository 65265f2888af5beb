"""Payloads of the two customer agreements issue 16 added (API.md "Task kinds" style): the
fee or compensation agreed when an order is cancelled, and the check of the delivery address
and packaging before it ships. Bounded like every payload (shared/payloads.py)."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from shared.bounds import FREE_TEXT_LEN, NAME_LEN, PERSON_LEN, REF_LEN, Amount, Text
from shared.payload_base import Payload


# sales.cancellation_settlement: what the customer and the plant agreed the cancellation
# costs (seed 五.3: "合理收取取消费用或与客户协商补偿方案"). `fee`: the customer pays the plant
# `amount`; `compensation`: the plant pays the customer `amount`; `none`: neither pays (amount
# 0). `amount` is in the order's currency; `reference` is where the agreement is written down
# (the customer's letter, a signed memo).
class CancellationSettlement(Payload):
    settlement: Literal["fee", "compensation", "none"]
    amount: Amount = Field(ge=0)
    reference: Text = Field(min_length=1, max_length=REF_LEN)
    notes: Text = Field(default="", max_length=FREE_TEXT_LEN)

    @model_validator(mode="after")
    def _amount_fits_the_settlement(self) -> Self:
        if self.settlement == "none" and self.amount != 0:
            raise ValueError("settlement none agrees no payment: amount must be 0")
        if self.settlement != "none" and self.amount <= 0:
            raise ValueError(f"a {self.settlement} needs the amount agreed (more than 0)")
        return self


# sales.shipping_check: before the shipment leaves, sales confirms the delivery address and
# the contact with the customer again (seed 七.3: "发货前应再次确认收货地址和联系方式") and the
# packaging is checked fit for the transport (seed: "保证产品的包装质量"). The check has passed
# when both are confirmed; a failed check says in `notes` what is wrong.
class ShippingCheck(Payload):
    delivery_address: Text = Field(min_length=1, max_length=REF_LEN)
    consignee: Text = Field(min_length=1, max_length=PERSON_LEN)
    contact_phone: Text = Field(min_length=1, max_length=64)
    address_confirmed: bool
    packaging: Text = Field(min_length=1, max_length=NAME_LEN)
    packaging_ok: bool
    notes: Text = Field(default="", max_length=FREE_TEXT_LEN)

    @property
    def passed(self) -> bool:
        return self.address_confirmed and self.packaging_ok

    @model_validator(mode="after")
    def _failed_says_why(self) -> Self:
        if not self.passed and not self.notes.strip():
            raise ValueError("a failed shipping check says in notes what is wrong")
        return self
