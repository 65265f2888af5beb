"""Aftersales API types: service cases (售后), the parts issued to them, and warranties."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.warehouse.case_issue import CasePart, IssuedLine, IssuedPart
from services.warehouse.schemas import ReturnPublic
from shared.aftersales_types import CaseKind
from shared.bounds import FREE_TEXT_LEN, ORDER_NO_LEN, NoControl, Text
from shared.tasks.schemas import TaskPublic


# `POST /aftersales/cases`: a customer's complaint, repair, exchange or visit request on a
# delivered order. Outside the warranty only a chargeable case (`paid`) is taken.
class CaseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: CaseKind
    order_no: Annotated[str, Field(min_length=1, max_length=ORDER_NO_LEN), NoControl]
    description: Text = Field(min_length=1, max_length=FREE_TEXT_LEN)
    contact: Text | None = Field(default=None, min_length=1, max_length=200)
    paid: bool = False


# An order's warranty: months from the customer's receipt (the plant's default or the
# order's own), and whether it still runs today.
class WarrantyPublic(BaseModel):
    order_no: str
    months: int
    source: Literal["plant", "order"]
    delivered_on: date | None
    ends_on: date | None
    in_warranty: bool


# `PUT /aftersales/warranties/{order_no}`: the order's own warranty length.
class WarrantySet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    months: int = Field(ge=0, le=120)


class CasePublic(BaseModel):
    case_id: str
    order_no: str
    kind: CaseKind
    description: str
    contact: str | None
    in_warranty: bool
    paid: bool
    state: str
    workflow_id: str
    opened_by: str
    opened_at: datetime
    responded_at: datetime | None
    on_site_at: datetime | None
    resolved_at: datetime | None
    resolved_by: str | None
    outcome: str | None


# `GET /aftersales/cases/{case_id}`: the case with its warranty, its tasks (their due times are
# the SLA clocks: first response, on site, resolved), the parts issued to it lot by lot, and
# the returns booked against it.
class CaseDetail(CasePublic):
    warranty: WarrantyPublic
    tasks: list[TaskPublic]
    parts: list[IssuedPart]
    returns: list[ReturnPublic]


# `POST /aftersales/cases/{case_id}/parts`: spare parts out of free stock for the case.
class PartsIssue(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lines: list[CasePart] = Field(min_length=1, max_length=100)


class PartsIssued(BaseModel):
    case_id: str
    order_no: str
    issued_by: str
    issued_at: datetime
    lines: list[IssuedLine]
