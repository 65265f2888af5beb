"""The Temporal Schedules orderflow runs by itself, created at start and brought up to date with
the settings on every later start (PROCESS P4.2: the daily MRP run is a schedule, not a human).

Operations may pause a schedule in the Web UI; a restart keeps it paused (its state is left as
it is) and only takes the new time and action.
"""

from __future__ import annotations

import dataclasses

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

from shared.settings import Settings
from shared.temporal import workflow_queue
from shared.types import DailyMrpInput
from workflows.daily_mrp import DailyMrpWorkflow

DAILY_MRP_NOTE = (
    "Daily MRP (PROCESS P4.2, §4.3, §4.5): tops up safety stock of bought items, reserves free "
    "stock for open orders and requisitions shortages nothing covers; a run still going when "
    "the next is due makes the next one skip."
)


def daily_mrp_schedule_id(prefix: str) -> str:
    """The id of the daily-MRP schedule (also its workflows' id base)."""
    return f"{prefix}-daily-mrp"


def hour_minute(text: str) -> tuple[int, int]:
    """Read `HH:MM` (00:00 to 23:59); ValueError otherwise."""
    hour_text, sep, minute_text = text.partition(":")
    digits = (hour_text + minute_text).isdigit() and len(hour_text) == len(minute_text) == 2
    if not (sep and digits):
        raise ValueError(f"{text!r} is not a time of day as HH:MM")
    hour, minute = int(hour_text), int(minute_text)
    if hour > 23 or minute > 59:
        raise ValueError(f"{text!r} is not a time of day as HH:MM")
    return hour, minute


def daily_mrp_schedule(settings: Settings) -> Schedule:
    """Every day at `mrp_daily_at` (UTC), DailyMrpWorkflow on the workflow queue."""
    prefix = settings.task_queue_prefix
    hour, minute = hour_minute(settings.mrp_daily_at)
    return Schedule(
        action=ScheduleActionStartWorkflow(
            DailyMrpWorkflow.run,
            DailyMrpInput(queue_prefix=prefix),
            id=daily_mrp_schedule_id(prefix),
            task_queue=workflow_queue(prefix),
            static_summary="daily MRP: safety stock and open orders",
        ),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(
                    hour=[ScheduleRange(hour)],
                    minute=[ScheduleRange(minute)],
                    comment=f"every day at {settings.mrp_daily_at} UTC",
                )
            ],
            time_zone_name="UTC",
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
        state=ScheduleState(note=DAILY_MRP_NOTE),
    )


async def ensure_schedules(client: Client, settings: Settings) -> None:
    """Create orderflow's schedules, or update the ones that exist (safe to repeat)."""
    schedule_id = daily_mrp_schedule_id(settings.task_queue_prefix)
    schedule = daily_mrp_schedule(settings)
    try:
        await client.create_schedule(
            schedule_id, schedule, memo={"description": DAILY_MRP_NOTE, "process": "P4.2"}
        )
    except ScheduleAlreadyRunningError:

        def keep_state(current: ScheduleUpdateInput) -> ScheduleUpdate:
            state = current.description.schedule.state
            return ScheduleUpdate(schedule=dataclasses.replace(schedule, state=state))

        await client.get_schedule_handle(schedule_id).update(keep_state)
