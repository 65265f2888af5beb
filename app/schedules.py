"""The Temporal Schedules orderflow runs by itself, created at start and brought up to date with
the settings on every later start (PROCESS P4.2: the daily MRP run is a schedule, not a human;
P2.6: so is the weekly list of orders in finished goods not yet shipped; "KPIs the factory
reads": so are the weekly and monthly plan-achievement reports).

Every time is the plant's local time (`timezone`, the schedules' `time_zone_name`). The daily
MRP skips the plant's days off; the unshipped list runs on its weekday, or on the next working
day when that day is off (its schedule starts a run every day and the run decides); the plan
reports always run (shared/plant_days.py).

Operations may pause a schedule in the Web UI; a restart keeps it paused (its state is left as
it is) and only takes the new time and action.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from services.planning.report_schemas import PlanReportInput
from shared.escalations.delivery_types import DigestInput
from shared.material_types import DailyMrpInput
from shared.periods import PeriodKind
from shared.production_types import WeeklyUnshippedInput
from shared.schedule_times import hour_minute, weekday_number
from shared.settings import Settings
from shared.temporal import workflow_queue
from shared.working_time.text import parse_shifts
from workflows.daily_mrp import DailyMrpWorkflow
from workflows.digest import EscalationDigestWorkflow
from workflows.reports import PlanReportWorkflow
from workflows.unshipped import WeeklyUnshippedWorkflow

DAILY_MRP_NOTE = (
    "Daily MRP (PROCESS P4.2, §4.3, §4.5): tops up safety stock of bought items, reserves free "
    "stock for open orders and requisitions shortages nothing covers; on the plant's days off "
    "the run records that it skipped and ends; a run still going when the next is due makes "
    "the next one skip."
)

WEEKLY_UNSHIPPED_NOTE = (
    "Weekly unshipped list (PROCESS P2.6): every active order in finished goods whose ship "
    "milestone has no actual is asked for a ship date (sales.ship_date), on its weekday or, "
    "when that day is off, on the next working day (started daily, the run decides); a run "
    "still going when the next is due makes the next one skip."
)

PLAN_REPORT_KINDS: tuple[PeriodKind, ...] = ("week", "month")
PLAN_REPORT_NOTES: dict[PeriodKind, str] = {
    "week": (
        "Weekly plan report (PROCESS KPIs): plan achievement per department for the previous ISO "
        "week (milestones met on or before their planned date / milestones due), stored for "
        "GET /planning/reports?week= and sent to the channels routed for plan_report; runs on "
        "days off too."
    ),
    "month": (
        "Monthly plan report (PROCESS KPIs): plan achievement per department for the previous "
        "month, stored for GET /planning/reports?month= and sent to the channels routed for "
        "plan_report; runs on days off too."
    ),
}


ESCALATION_DIGEST_NOTE = (
    "Escalation digest (issue 15): at the start of the plant's working day (its first shift), "
    "each department's open escalations in one message to the channels routed for "
    "escalation_digest; on the plant's days off the run records that it skipped and ends."
)


def daily_mrp_schedule_id(prefix: str) -> str:
    """The id of the daily-MRP schedule (also its workflows' id base)."""
    return f"{prefix}-daily-mrp"


def daily_mrp_schedule(settings: Settings) -> Schedule:
    """Every day at `mrp_daily_at` (the plant's local time), DailyMrpWorkflow on the workflow
    queue; the run skips the plant's days off."""
    prefix = settings.task_queue_prefix
    return _on_calendar(
        DailyMrpWorkflow.run,
        DailyMrpInput(queue_prefix=prefix),
        schedule_id=daily_mrp_schedule_id(prefix),
        prefix=prefix,
        summary="daily MRP: safety stock and open orders",
        calendar=ScheduleCalendarSpec(
            **_time_of_day(settings.mrp_daily_at),
            comment=f"every day at {settings.mrp_daily_at} {settings.timezone} (days off skip)",
        ),
        note=DAILY_MRP_NOTE,
        zone=settings.timezone,
    )


def escalation_digest_schedule_id(prefix: str) -> str:
    """The id of the daily escalation-digest schedule (also its workflows' id base)."""
    return f"{prefix}-escalation-digest"


def escalation_digest_schedule(settings: Settings) -> Schedule:
    """Every day at the start of the first shift (the plant's local time),
    EscalationDigestWorkflow on the workflow queue; the run skips the plant's days off."""
    prefix = settings.task_queue_prefix
    start = parse_shifts(settings.shifts)[0].start  # minutes after local midnight
    at = f"{start // 60:02d}:{start % 60:02d}"
    return _on_calendar(
        EscalationDigestWorkflow.run,
        DigestInput(queue_prefix=prefix),
        schedule_id=escalation_digest_schedule_id(prefix),
        prefix=prefix,
        summary="escalation digest: each department's open escalations",
        calendar=ScheduleCalendarSpec(
            **_time_of_day(at),
            comment=f"every day at {at} {settings.timezone}, the first shift's start "
            "(days off skip)",
        ),
        note=ESCALATION_DIGEST_NOTE,
        zone=settings.timezone,
    )


def _time_of_day(text: str) -> dict[str, list[ScheduleRange]]:
    """A calendar's hour and minute for `HH:MM`."""
    hour, minute = hour_minute(text)
    return {"hour": [ScheduleRange(hour)], "minute": [ScheduleRange(minute)]}


def _on_calendar(
    run: Any,
    arg: Any,
    *,
    schedule_id: str,
    prefix: str,
    summary: str,
    calendar: ScheduleCalendarSpec,
    note: str,
    zone: str,
) -> Schedule:
    """A schedule starting `run(arg)` on the workflow queue at `calendar`, read in the IANA
    `zone` (the plant's); a run still going when the next is due makes that one skip."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            run,
            arg,
            id=schedule_id,
            task_queue=workflow_queue(prefix),
            static_summary=summary,
        ),
        spec=ScheduleSpec(calendars=[calendar], time_zone_name=zone),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
        state=ScheduleState(note=note),
    )


def weekly_unshipped_schedule_id(prefix: str) -> str:
    """The id of the weekly-unshipped schedule (also its workflows' id base)."""
    return f"{prefix}-weekly-unshipped"


def weekly_unshipped_schedule(settings: Settings) -> Schedule:
    """Every day at `unshipped_at` (the plant's local time), WeeklyUnshippedWorkflow on the
    workflow queue: the run makes the list on `unshipped_weekday`, or on the next working day
    when that day is off, and ends at once on any other day."""
    prefix = settings.task_queue_prefix
    weekday = settings.unshipped_weekday
    return _on_calendar(
        WeeklyUnshippedWorkflow.run,
        WeeklyUnshippedInput(queue_prefix=prefix),
        schedule_id=weekly_unshipped_schedule_id(prefix),
        prefix=prefix,
        summary="weekly: a ship date for each order in finished goods not yet shipped",
        calendar=ScheduleCalendarSpec(
            **_time_of_day(settings.unshipped_at),
            comment=f"every day at {settings.unshipped_at} {settings.timezone}: the list on "
            f"{weekday}, or the next working day when {weekday} is off",
        ),
        note=WEEKLY_UNSHIPPED_NOTE,
        zone=settings.timezone,
    )


def plan_report_schedule_id(prefix: str, kind: PeriodKind) -> str:
    """The id of the weekly or monthly plan-report schedule (also its workflows' id base)."""
    return f"{prefix}-{'weekly' if kind == 'week' else 'monthly'}-plan-report"


def plan_report_schedule(settings: Settings, kind: PeriodKind) -> Schedule:
    """Weekly on `report_weekday` (for the ISO week before), or monthly on `report_month_day`
    (for the month before), at `report_at` (the plant's local time), working day or not:
    PlanReportWorkflow on the workflow queue."""
    prefix = settings.task_queue_prefix
    at = _time_of_day(settings.report_at)
    if kind == "week":
        calendar = ScheduleCalendarSpec(
            day_of_week=[ScheduleRange(weekday_number(settings.report_weekday))],
            **at,
            comment=f"every {settings.report_weekday} at {settings.report_at} "
            f"{settings.timezone} (the week before)",
        )
    else:
        calendar = ScheduleCalendarSpec(
            day_of_month=[ScheduleRange(settings.report_month_day)],
            **at,
            comment=f"on day {settings.report_month_day} of every month at "
            f"{settings.report_at} {settings.timezone} (the month before)",
        )
    return _on_calendar(
        PlanReportWorkflow.run,
        PlanReportInput(queue_prefix=prefix, kind=kind, zone=settings.timezone),
        schedule_id=plan_report_schedule_id(prefix, kind),
        prefix=prefix,
        summary=f"{'weekly' if kind == 'week' else 'monthly'} plan-achievement report",
        calendar=calendar,
        note=PLAN_REPORT_NOTES[kind],
        zone=settings.timezone,
    )


async def ensure_schedules(client: Client, settings: Settings) -> None:
    """Create orderflow's schedules, or update the ones that exist (safe to repeat)."""
    prefix = settings.task_queue_prefix
    await _ensure_schedule(
        client,
        daily_mrp_schedule_id(prefix),
        daily_mrp_schedule(settings),
        memo={"description": DAILY_MRP_NOTE, "process": "P4.2"},
    )
    await _ensure_schedule(
        client,
        weekly_unshipped_schedule_id(prefix),
        weekly_unshipped_schedule(settings),
        memo={"description": WEEKLY_UNSHIPPED_NOTE, "process": "P2.6"},
    )
    await _ensure_schedule(
        client,
        escalation_digest_schedule_id(prefix),
        escalation_digest_schedule(settings),
        memo={"description": ESCALATION_DIGEST_NOTE, "process": "issue 15"},
    )
    for kind in PLAN_REPORT_KINDS:
        await _ensure_schedule(
            client,
            plan_report_schedule_id(prefix, kind),
            plan_report_schedule(settings, kind),
            memo={"description": PLAN_REPORT_NOTES[kind], "process": "KPIs"},
        )


async def _ensure_schedule(
    client: Client, schedule_id: str, schedule: Schedule, memo: dict[str, str]
) -> None:
    """Create the schedule, or give an existing one the new spec, action and policy while its
    state (paused by an operator, and the note saying why) stays as it is."""
    try:
        await client.create_schedule(schedule_id, schedule, memo=memo)
    except ScheduleAlreadyRunningError:

        def keep_state(current: ScheduleUpdateInput) -> ScheduleUpdate:
            state = current.description.schedule.state
            return ScheduleUpdate(schedule=dataclasses.replace(schedule, state=state))

        await client.get_schedule_handle(schedule_id).update(keep_state)
