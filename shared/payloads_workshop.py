"""Payloads of the workshop's own checks (P8.1, P8.2, P8.4) and engineering's answer to a
drawing question: what production and engineering send to complete those tasks."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from shared.bounds import FREE_TEXT_LEN, ISSUES_MAX, ITEM_LEN, LINES_MAX, REF_LEN, NoControl, Text
from shared.payload_base import Part, Payload
from shared.payloads import ItemQty

Point = Annotated[str, Field(min_length=1, max_length=FREE_TEXT_LEN), NoControl]


# production.drawing_check (§8.1): the team leader has the drawings 3 working days before the
# start and checks them; every point that is unclear goes to engineering as a question.
class DrawingCheck(Payload):
    clear: bool
    unclear: list[Point] = Field(default_factory=list, max_length=ISSUES_MAX)
    comment: Text = Field(default="", max_length=FREE_TEXT_LEN)

    @model_validator(mode="after")
    def _points_when_unclear(self) -> Self:
        if not self.clear and not [x for x in self.unclear if x.strip()]:
            raise ValueError("a check that is not clear lists what is unclear (unclear)")
        if self.clear and self.unclear:
            raise ValueError("a clear check lists nothing as unclear; set clear to false")
        return self


# engineering.drawing_question: engineering's answer to a point the team found unclear.
class DrawingAnswer(Payload):
    answer: Text = Field(min_length=1, max_length=FREE_TEXT_LEN)


class AppearanceFinding(ItemQty):
    defect: Text = Field(min_length=1, max_length=FREE_TEXT_LEN)


# production.appearance_check (§8.2): the received material looked at before assembly; each
# nonconforming finding goes to quality as an NCR. No findings: everything looked right.
class AppearanceCheck(Payload):
    findings: list[AppearanceFinding] = Field(default_factory=list, max_length=LINES_MAX)


class HandedDocument(Part):
    kind: Literal["certificate", "manual"]
    item: Text = Field(min_length=1, max_length=ITEM_LEN)
    ref: Text = Field(min_length=1, max_length=REF_LEN)


# production.hand_over_documents (§8.4): component certificates and manuals handed to quality;
# final inspection waits for them.
class HandOverDocuments(Payload):
    documents: list[HandedDocument] = Field(min_length=1, max_length=LINES_MAX)
