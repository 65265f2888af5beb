"""Payloads of procurement's task kinds added in issue 16 (see shared/payloads.py for the rules
every payload keeps)."""

from __future__ import annotations

from pydantic import Field

from shared.bounds import FREE_TEXT_LEN, BoundedDate, Text
from shared.payload_base import Payload


# procurement.confirm_promise: the buyer confirms a PO line's promised date with the supplier
# (§4.7) or gives the date the supplier now promises (§4.9: a later one warns the planner).
class ConfirmPromise(Payload):
    promised_date: BoundedDate
    comment: Text = Field(default="", max_length=FREE_TEXT_LEN)
