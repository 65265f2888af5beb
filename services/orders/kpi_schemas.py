"""The KPI types: `GET /kpis`.

Rates are fractions (0.75 is 75 %) rounded to four places, hours to two; a rate or a median
over nothing is null, never 0.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from services.planning.report_schemas import DepartmentAchievement


# Plan achievement per department for the asked week and month.
class PlanAchievement(BaseModel):
    week: list[DepartmentAchievement]
    month: list[DepartmentAchievement]


# Orders whose ship actual falls in the month; on time when it is on or before the due date.
class OnTimeDelivery(BaseModel):
    shipped: int
    on_time: int
    rate: float | None


# Lots inspected in the month: how many within the inspection SLA, and the median hours from
# request to result.
class IncomingInspectionKpi(BaseModel):
    inspected: int
    within_sla: int
    compliance: float | None
    median_hours: float | None


# DCNs issued in the month (customer scope changes left out): hours from the confirmed design
# problem to the DCN.
class DesignChangeKpi(BaseModel):
    issued: int
    within_sla: int
    median_hours: float | None
    p90_hours: float | None


# Material shortage events in the month: the orders they hit, how many, and their causes.
class ShortagesKpi(BaseModel):
    orders: int
    total: int
    per_order: float | None
    by_cause: dict[str, int]


# Round 1 of final inspection in the month: how many passed the first time.
class FirstPassYield(BaseModel):
    inspected: int
    passed_first: int
    rate: float | None


# Escalations open at `as_of`, by age since their breach and by level.
class OpenEscalations(BaseModel):
    as_of: datetime
    total: int
    by_age: dict[str, int]
    by_level: dict[str, int]


# `GET /kpis`: the factory's figures for one ISO week and one month (PROCESS "KPIs").
class Kpis(BaseModel):
    week: str
    month: str
    plan_achievement: PlanAchievement
    on_time_delivery: OnTimeDelivery
    incoming_inspection: IncomingInspectionKpi
    design_change: DesignChangeKpi
    shortages: ShortagesKpi
    first_pass_yield: FirstPassYield
    open_escalations: OpenEscalations
