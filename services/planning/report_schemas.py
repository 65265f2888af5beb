"""The plan-report types: `GET /planning/reports`, and what PlanReportWorkflow's activities
take and return.

Rates are fractions (0.75 is 75 %) rounded to four places; a rate over nothing is null, never 0.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from shared.periods import PeriodKind


# One owning department's milestones in a period: due (planned in it), met (actual on or
# before the planned date), rate = met / due.
class DepartmentAchievement(BaseModel):
    department: str
    due: int
    met: int
    rate: float | None


# A stored plan-achievement report (`GET /planning/reports`).
class PlanReportPublic(BaseModel):
    kind: PeriodKind
    period: str
    departments: list[DepartmentAchievement]
    created_at: datetime
    updated_at: datetime


# PlanReportWorkflow's input: what its schedules start it with. No `period` means the one the
# run is for: the ISO week before the one it runs in, or the month before the one it runs in.
class PlanReportInput(BaseModel):
    queue_prefix: str = "orderflow"
    kind: PeriodKind = "week"
    period: str | None = None
    # The plant's zone (`timezone`) whose local date picks the scheduled period; the schedule
    # sets it. Runs started before it existed took UTC dates.
    zone: str = "UTC"


# Compute and store one period's report (the store activity's input).
class PlanReportRequest(BaseModel):
    kind: PeriodKind
    period: str
    at: datetime


# POST a stored report to one event webhook.
class PublishPlanReport(BaseModel):
    kind: PeriodKind
    period: str
    url: str


# What a PlanReportWorkflow run stored and where it published it.
class PlanReportResult(BaseModel):
    kind: PeriodKind
    period: str
    departments: list[DepartmentAchievement]
    published_to: list[str] = Field(default_factory=list)
