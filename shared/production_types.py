"""Types that cross the workflow boundary in production, final inspection and delivery
(P8-P10): the `report_issue` update, and the activities' inputs and results.

Like `shared/types.py`: pydantic models for the pydantic data converter; add fields as
optional only, running workflows replay with the histories they have.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

IssueKind = Literal["design_problem", "nonconforming_material", "missing_part"]


# `POST /production/orders/{order_no}/issues`: the order's `report_issue` update.
class ReportIssue(BaseModel):
    kind: IssueKind
    description: str
    items: list[dict[str, Any]] = Field(default_factory=list)
    severity: Literal["normal", "serious"] = "normal"
    by: str


class IssueReported(BaseModel):
    issue_no: str
    order_no: str
    kind: str
    state: str


# An issue's record as it opens, moves and closes (production.issues).
class IssueRecord(BaseModel):
    issue_no: str
    order_no: str
    kind: str
    description: str
    items: list[dict[str, Any]] = Field(default_factory=list)
    severity: str = "normal"
    state: str = "open"
    resolution: str | None = None
    by: str
    at: datetime


class WorkOrderStep(BaseModel):
    order_no: str
    state: str
    at: datetime


# A sheet-metal work order for a self-made missing part (§8.5c).
class SheetMetalOrder(BaseModel):
    order_no: str
    issue_no: str
    item: str
    qty: Decimal
    required_date: date | None = None
    at: datetime


# One round of quality.final_inspection (P9).
class FinalInspectionRound(BaseModel):
    order_no: str
    round: int
    passed: bool
    defects: list[dict[str, Any]] = Field(default_factory=list)
    by: str
    at: datetime


# Finished goods in (passed final inspection) or out (shipped).
class FinishedGoods(BaseModel):
    order_no: str
    movement: Literal["in", "out"]
    by: str
    at: datetime
    ref: str | None = None
