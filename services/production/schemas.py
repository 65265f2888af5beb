"""Production API types: an issue reported from assembly (§8.5) and its answer."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class IssueItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item: str = Field(min_length=1, max_length=64)
    qty: Decimal = Field(gt=0, max_digits=18, decimal_places=4)


# API.md `POST /production/orders/{order_no}/issues`.
class IssueCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["design_problem", "nonconforming_material", "missing_part"]
    description: str = Field(min_length=1, max_length=2000)
    items: list[IssueItem] = Field(default_factory=list, max_length=200)
    severity: Literal["normal", "serious"] = "normal"


class IssuePublic(BaseModel):
    issue_no: str
    order_no: str
    kind: str
    state: str
