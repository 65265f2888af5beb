"""Payloads of the tasks that follow parts listed missing at final inspection (§11.2): the
team leader's record of parts fitted, quality's signature on them, and sales' word on the parts
that ship separately. Imported by shared/tasks/kinds.py beside shared/payloads.py."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, model_validator

from shared.bounds import FREE_TEXT_LEN, ITEM_LEN, LINES_MAX, PERSON_LEN, NoControl, Text
from shared.payload_base import Part, Payload

Item = Annotated[str, Field(min_length=1, max_length=ITEM_LEN), NoControl]


class FittedPart(Part):
    item: Text = Field(min_length=1, max_length=ITEM_LEN)
    signed_by: Text = Field(min_length=1, max_length=PERSON_LEN)


# production.fit_missing_parts: the missing parts fitted, each signed by the team leader.
class FitMissingParts(Payload):
    parts: list[FittedPart] = Field(min_length=1, max_length=LINES_MAX)


# quality.sign_fitted_parts: quality checks the fitted parts and signs them (or sends them back).
class SignFittedParts(Payload):
    signed: bool
    comment: Text = Field(default="", max_length=FREE_TEXT_LEN)

    @model_validator(mode="after")
    def _why_not(self) -> Self:
        if not self.signed and not self.comment.strip():
            raise ValueError("say in comment what is wrong with the fitted parts")
        return self


# sales.missing_parts_shipment: which missing parts ship separately (none: wait for fitting).
class MissingPartsShipment(Payload):
    ship_separately: list[Item] = Field(default_factory=list, max_length=LINES_MAX)
    comment: Text = Field(default="", max_length=FREE_TEXT_LEN)
