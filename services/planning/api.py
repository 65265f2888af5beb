"""Planning routes: plan revisions, the stored plan reports, the inbox."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from starlette.status import HTTP_404_NOT_FOUND

from services.planning.calendar_api import router as calendar_router
from services.planning.delay_api import router as delay_router
from services.planning.report_schemas import PlanReportPublic
from services.planning.reports import get_report, plan_report_time, report_public
from services.planning.schemas import PlanHistory
from services.planning.service import plan_history
from services.sales.service import order_exists
from services.tasks.api import task_router
from shared.auth import KPI_READERS
from shared.deps import CurrentUser, MonthQuery, SessionDep, SettingsDep, WeekQuery, period_of
from shared.errors import APIError, invalid, not_found
from shared.periods import Period
from shared.settings import DEPARTMENTS, Settings

REPORT_READERS: tuple[str, ...] = (*KPI_READERS, *(f"head:{d}" for d in DEPARTMENTS))

router = APIRouter(prefix="/planning", tags=["planning"])
router.include_router(task_router("planning"))
router.include_router(calendar_router)
router.include_router(delay_router)

# `/planning/reports` is mounted by every gateway, like `/kpis`: the figures span every
# department.
reports_router = APIRouter(tags=["planning"])


@router.get("/orders/{order_no}/plan", response_model=PlanHistory)
async def get_plan(order_no: str, session: SessionDep, user: CurrentUser) -> PlanHistory:
    """Every master-plan revision of an order: milestones planned, forecast and actual."""
    if not await order_exists(session, order_no):
        raise not_found(f"order {order_no}")
    return await plan_history(session, order_no)


@reports_router.get("/planning/reports", response_model=PlanReportPublic)
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
    zone = settings.timezone
    period = (
        period_of("week", week, zone) if week is not None else period_of("month", month or "", zone)
    )
    report = await get_report(session, kind=period.kind, period=period.label)
    if report is None:
        raise APIError(HTTP_404_NOT_FOUND, "report_not_found", _not_made(period, settings))
    return report_public(report)


def _not_made(period: Period, settings: Settings) -> str:
    """Why there is no report for `period`, and when it is (or was) to be made (the plant's
    local time)."""
    when = plan_report_time(period, settings)
    name = f"the plan report of {period.kind} {period.label}"
    at = f"{when:%A %Y-%m-%d at %H:%M} {settings.timezone}"
    if when > datetime.now(UTC):
        return f"{name} has not been made yet: it is made on {at}"
    return (
        f"{name} was due on {at} but was not made (the schedule may have been paused or "
        "created later); ask ops to run PlanReportWorkflow for it"
    )
