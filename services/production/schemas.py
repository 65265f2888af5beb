"""Production API types: an issue reported from assembly (§8.5) and its answer."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.bounds import ISSUES_MAX, ITEM_LEN, Text


class IssueItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item: Text = Field(min_length=1, max_length=ITEM_LEN)
    qty: Decimal = Field(gt=0, max_digits=18, decimal_places=4, allow_inf_nan=False)


# API.md `POST /production/orders/{order_no}/issues`.
class IssueCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["design_problem", "nonconforming_material", "missing_part"]
    description: Text = Field(min_length=1, max_length=2000)
    items: list[IssueItem] = Field(default_factory=list, max_length=ISSUES_MAX)
    severity: Literal["normal", "serious"] = "normal"


class IssuePublic(BaseModel):
    issue_no: str
    order_no: str
    kind: str
    state: str
