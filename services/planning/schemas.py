"""Planning's API types: master-plan revisions and their milestones."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel


class MilestonePublic(BaseModel):
    name: str
    owner: str
    planned: date
    forecast: date
    actual: date | None
    late: bool


# A published revision of the master plan.
class PlanRevisionPublic(BaseModel):
    revision: int
    milestones: dict[str, Any]
    due_date: date
    reason: str
    added_manpower: int | None
    created_by: str
    created_at: datetime


class PlanHistory(BaseModel):
    order_no: str
    current_revision: int | None
    revisions: list[PlanRevisionPublic]
