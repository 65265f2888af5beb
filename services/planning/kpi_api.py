"""KPI and plan-report routes: `GET /kpis` and `GET /planning/reports` (API.md `/kpis`).

Mounted by every gateway, like `/orders`: the figures span every department.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.status import HTTP_404_NOT_FOUND

from services.planning.kpi_schemas import Kpis, PeriodKind, PlanReportPublic
from services.planning.kpis import InvalidPeriod, Period, kpis, month_of, parse_period, week_of
from services.planning.reports import get_report, plan_report_time, report_public
from shared.deps import CurrentUser, SessionDep, SettingsDep
from shared.errors import APIError, invalid
from shared.settings import DEPARTMENTS, Settings

KPI_READERS: tuple[str, ...] = ("planning", "ops", "division")
REPORT_READERS: tuple[str, ...] = (*KPI_READERS, *(f"head:{d}" for d in DEPARTMENTS))

kpi_router = APIRouter(tags=["kpis"])

WeekQuery = Annotated[str | None, Query(description="ISO week, e.g. 2026-W48")]
MonthQuery = Annotated[str | None, Query(description="month, e.g. 2026-11")]


def _period(kind: PeriodKind, text: str) -> Period:
    try:
        return parse_period(kind, text)
    except InvalidPeriod as exc:
        raise invalid("invalid_period", str(exc)) from None


@kpi_router.get("/kpis", response_model=Kpis)
async def get_kpis(
    session: SessionDep, user: CurrentUser, week: WeekQuery = None, month: MonthQuery = None
) -> Kpis:
    """Plan achievement per department for a week and a month, and for the month on-time
    delivery, incoming-inspection SLA, DCN response, shortages and first-pass yield; open
    escalations by age now. Defaults: the current ISO week and month (UTC)."""
    user.require(KPI_READERS, "reading KPIs")
    today = datetime.now(UTC).date()
    return await kpis(
        session,
        week=_period("week", week) if week is not None else week_of(today),
        month=_period("month", month) if month is not None else month_of(today),
    )


@kpi_router.get("/planning/reports", response_model=PlanReportPublic, tags=["planning"])
async def get_plan_report(
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    week: WeekQuery = None,
    month: MonthQuery = None,
) -> PlanReportPublic:
    """The stored plan-achievement report of one week (`?week=`) or one month (`?month=`)."""
    user.require(REPORT_READERS, "reading plan reports")
    if (week is None) == (month is None):
        raise invalid("invalid_period", "give either week (2026-W48) or month (2026-11), not both")
    period = _period("week", week) if week is not None else _period("month", month or "")
    report = await get_report(session, kind=period.kind, period=period.label)
    if report is None:
        raise APIError(HTTP_404_NOT_FOUND, "report_not_found", _not_made(period, settings))
    return report_public(report)


def _not_made(period: Period, settings: Settings) -> str:
    """Why there is no report for `period`, and when it is (or was) to be made."""
    when = plan_report_time(period, settings)
    name = f"the plan report of {period.kind} {period.label}"
    if when > datetime.now(UTC):
        return f"{name} has not been made yet: it is made on {when:%A %Y-%m-%d at %H:%M} UTC"
    return (
        f"{name} was due on {when:%A %Y-%m-%d at %H:%M} UTC but was not made (the schedule "
        "may have been paused or created later); ask ops to run PlanReportWorkflow for it"
    )
