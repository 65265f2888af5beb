"""Payloads of the money task kinds (P1 order audit, P10 collection), beside shared/payloads.py."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from shared.bounds import FREE_TEXT_LEN, BoundedDate, Text
from shared.payload_base import Payload


# sales.order_audit: finance's verdict on the customer's qualification and the payment terms.
class OrderAudit(Payload):
    customer_qualified: bool
    terms_ok: bool
    comment: Text = Field(default="", max_length=FREE_TEXT_LEN)

    @model_validator(mode="after")
    def _reason_when_refused(self) -> Self:
        if not (self.customer_qualified and self.terms_ok) and not self.comment.strip():
            raise ValueError("an audit that does not pass the order says why in comment")
        return self

    @property
    def passed(self) -> bool:
        return self.customer_qualified and self.terms_ok


# sales.collect_payment: the customer's answer when chased for an outstanding amount: the date
# they promise to pay by (the next reminder comes when it passes unpaid).
class CollectPayment(Payload):
    promised_on: BoundedDate
    comment: Text = Field(default="", max_length=FREE_TEXT_LEN)
