"""Payloads of the after-sales service case tasks (售后): the first response to the customer,
the engineer's visit on site, and the case's resolution. Imported by shared/tasks/kinds.py."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.bounds import FREE_TEXT_LEN, PERSON_LEN, Text
from shared.payload_base import Payload

# How a case ended: repaired on site, the unit or part exchanged, the customer advised (a
# complaint answered), no fault found, or the price refunded.
CaseOutcome = Literal["repaired", "exchanged", "advised", "no_fault", "refunded"]


# aftersales.case_response: the customer has been answered and the next step is known; a
# visit on site follows when `on_site` is true (always for a repair or a visit case).
class CaseResponse(Payload):
    response: Text = Field(min_length=1, max_length=FREE_TEXT_LEN)
    on_site: bool = False


# aftersales.case_on_site: the service engineer reached the customer's site.
class CaseOnSite(Payload):
    engineer: Text = Field(min_length=1, max_length=PERSON_LEN)
    findings: Text = Field(min_length=1, max_length=FREE_TEXT_LEN)


# aftersales.case_resolve: what was done, and how the case ended.
class CaseResolution(Payload):
    outcome: CaseOutcome
    resolution: Text = Field(min_length=1, max_length=FREE_TEXT_LEN)
