"""Plan-achievement reports: computed with the KPI's SQL, stored in `planning.reports` (one per
week or month; a re-run replaces it), and sent as a `plan_report` event to the channels the
routes name (shared/escalations/notify.py).

The Temporal Schedules `<prefix>-weekly-plan-report` and `<prefix>-monthly-plan-report`
(app/schedules.py) start PlanReportWorkflow, which calls these activities.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.orders.kpis import plan_achievement
from services.planning.models import PlanReport
from services.planning.report_schemas import (
    DepartmentAchievement,
    PlanReportPublic,
    PlanReportRequest,
    PlanReportResult,
    PublishPlanReport,
)
from shared.activities import DbActivities
from shared.db import session_scope
from shared.escalations import deliveries
from shared.escalations.activities import channel_for_url
from shared.escalations.notify import DeliveryActivities, event_delivery_id
from shared.periods import Period, PeriodKind, parse_period
from shared.schedule_times import hour_minute, weekday_number
from shared.settings import Settings

EVENT_KIND = "plan_report"


async def store_report(
    session: AsyncSession, *, kind: PeriodKind, period: str, rows: list[Any], at: datetime
) -> PlanReport:
    """Store a period's report, or replace the rows of the one stored before."""
    result = await session.execute(
        insert(PlanReport)
        .values(kind=kind, period=period, rows=rows, created_at=at, updated_at=at)
        .on_conflict_do_update(
            index_elements=["kind", "period"], set_={"rows": rows, "updated_at": at}
        )
        .returning(PlanReport)
    )
    return result.scalar_one()


async def get_report(session: AsyncSession, *, kind: PeriodKind, period: str) -> PlanReport | None:
    """The stored report of a week or month, if it was made."""
    result = await session.execute(
        select(PlanReport).where(col(PlanReport.kind) == kind, col(PlanReport.period) == period)
    )
    return result.scalar_one_or_none()


def report_public(report: PlanReport) -> PlanReportPublic:
    return PlanReportPublic(
        kind=report.kind,  # type: ignore[arg-type]
        period=report.period,
        departments=[DepartmentAchievement.model_validate(row) for row in report.rows],
        created_at=report.created_at,
        updated_at=report.updated_at,
    )


def report_event(report: PlanReport) -> dict[str, Any]:
    """The JSON an event webhook receives for a stored report."""
    return {
        "kind": EVENT_KIND,
        "period_kind": report.kind,
        "period": report.period,
        "departments": report.rows,
        "generated_at": report.updated_at.isoformat(),
    }


def report_event_of(result: PlanReportResult, at: datetime) -> dict[str, Any]:
    """The same JSON from what `store_plan_report` returned, stored at `at` (a workflow has
    the result, not the row)."""
    return {
        "kind": EVENT_KIND,
        "period_kind": result.kind,
        "period": result.period,
        "departments": [d.model_dump(mode="json") for d in result.departments],
        "generated_at": at.isoformat(),
    }


def plan_report_time(period: Period, settings: Settings) -> datetime:
    """When the schedules make the report of `period`: a week's on `report_weekday` of the next
    week (the Friday run reports the week before), a month's on `report_month_day` of the next
    month, at `report_at` in the plant's zone (`timezone`)."""
    hour, minute = hour_minute(settings.report_at)
    if period.kind == "week":
        # Temporal counts weekdays from Sunday (0); an ISO week starts on Monday.
        day = period.end + timedelta(days=(weekday_number(settings.report_weekday) - 1) % 7)
    else:
        day = period.end.replace(day=settings.report_month_day)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(settings.timezone))


class PlanReportActivities(DbActivities):
    """PlanReportWorkflow's work: compute and store a report, publish it to event webhooks."""

    @activity.defn
    async def store_plan_report(self, request: PlanReportRequest) -> PlanReportResult:
        """Compute the period's plan achievement per department and store it (a re-run of the
        same period replaces the stored rows)."""
        period = parse_period(request.kind, request.period, self._settings.timezone)
        async with session_scope(self._engine) as session:
            departments = await plan_achievement(session, period=period)
            await store_report(
                session,
                kind=request.kind,
                period=period.label,
                rows=[d.model_dump(mode="json") for d in departments],
                at=request.at,
            )
        return PlanReportResult(kind=request.kind, period=period.label, departments=departments)

    @activity.defn
    async def event_webhook_targets(self) -> list[str]:
        """The legacy event webhook URLs (for a run started before channels)."""
        return list(self._settings.event_webhooks)

    @activity.defn
    async def publish_plan_report(self, target: PublishPlanReport) -> int:
        """Send the stored report to a bare URL (a run started before channels), as a webhook
        channel; the answer's status, 0 when it failed at the cap."""
        async with session_scope(self._engine) as session:
            report = await get_report(session, kind=target.kind, period=target.period)
        if report is None:
            raise ApplicationError(
                f"no stored {target.kind} report {target.period}", non_retryable=True
            )
        channel = channel_for_url(self._settings, target.url)
        run = (activity.info().workflow_run_id or "")[:8]
        delivery_id = event_delivery_id(
            EVENT_KIND, f"{target.kind}-{target.period}-{run}", channel.name
        )
        async with session_scope(self._engine) as session:
            await deliveries.plan(
                session,
                [
                    deliveries.Planned(
                        delivery_id=delivery_id,
                        channel=channel.name,
                        event=EVENT_KIND,
                        content=report_event(report),
                    )
                ],
                at=activity.info().scheduled_time,
            )
        sender = DeliveryActivities(self._engine, self._settings)
        outcome = await sender.send_planned(delivery_id, channel_given=channel)
        return 200 if outcome.state == "delivered" else 0
