"""Planning tables: master-plan revisions, milestone tracking, and the plan reports."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from shared.models import json_field, ts_field
from shared.tasks.models import inbox

Task = inbox("planning")


# One published revision of an order's master plan (项目主计划表).
class PlanRevision(SQLModel, table=True):
    __tablename__ = "plan_revisions"
    __table_args__ = {"schema": "planning"}

    order_no: str = Field(primary_key=True, max_length=64)
    revision: int = Field(primary_key=True)
    milestones: dict[str, Any] = json_field()
    due_date: date
    reason: str
    added_manpower: int | None = None
    created_by: str
    created_at: datetime = ts_field()


# A milestone of the current plan: planned, forecast and actual dates, and who owns it.
class Milestone(SQLModel, table=True):
    __tablename__ = "milestones"
    # (name, planned): plan achievement and the daily plan read one milestone over a period.
    __table_args__ = (
        Index("ix_planning_milestones_name_planned", "name", "planned"),
        {"schema": "planning"},
    )

    order_no: str = Field(primary_key=True, max_length=64)
    name: str = Field(primary_key=True, max_length=32)
    owner: str = Field(max_length=32)
    planned: date
    forecast: date
    actual: date | None = None
    revision: int
    updated_at: datetime = ts_field()


# A stored plan-achievement report (PlanReportWorkflow): one per week or month, a re-run
# replaces its rows. `rows` are the departments' {department, due, met, rate}.
class PlanReport(SQLModel, table=True):
    __tablename__ = "reports"
    __table_args__ = {"schema": "planning"}

    kind: str = Field(primary_key=True, max_length=8)
    period: str = Field(primary_key=True, max_length=16)
    rows: list[Any] = json_field()
    created_at: datetime = ts_field()
    updated_at: datetime = ts_field()
