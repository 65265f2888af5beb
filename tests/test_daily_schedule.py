"""The daily MRP run is a Temporal Schedule created at start (P4.2), checked on the real dev
server: the time-skipping server does not implement schedules."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import (
    ScheduleActionStartWorkflow,
    ScheduleDescription,
    ScheduleOverlapPolicy,
    ScheduleRange,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from app.schedules import daily_mrp_schedule_id, ensure_schedules
from services.engineering.models import Item
from shared.material_types import DailyMrpInput, DailyMrpResult
from shared.settings import Settings
from shared.temporal import workflow_queue
from tests.conftest import run_stack, settings_for
from tests.dev_server import (
    dev_server_env,  # noqa: F401  (the dev_env fixture)
    trigger_and_wait,
)


async def _describe(env: WorkflowEnvironment, settings: Settings) -> ScheduleDescription:
    schedule_id = daily_mrp_schedule_id(settings.task_queue_prefix)
    return await env.client.get_schedule_handle(schedule_id).describe()


async def test_worker_start_creates_the_daily_mrp_schedule(
    base_settings: Settings, dev_env: WorkflowEnvironment
) -> None:
    settings = settings_for(base_settings, mrp_daily_at="05:30")
    prefix = settings.task_queue_prefix
    await ensure_schedules(dev_env.client, settings)

    described = await _describe(dev_env, settings)
    assert described.id == f"{prefix}-daily-mrp"
    schedule = described.schedule
    (calendar,) = schedule.spec.calendars
    assert (list(calendar.hour), list(calendar.minute)) == ([ScheduleRange(5)], [ScheduleRange(30)])
    assert list(calendar.day_of_week) == [ScheduleRange(0, 6)]  # every day
    assert schedule.spec.time_zone_name == "UTC"
    assert schedule.policy.overlap == ScheduleOverlapPolicy.SKIP
    assert schedule.state.note and "P4.2" in schedule.state.note
    assert (await described.memo())["process"] == "P4.2"
    action = schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert (action.workflow, action.id, action.task_queue) == (
        "DailyMrpWorkflow",
        f"{prefix}-daily-mrp",
        workflow_queue(prefix),
    )
    (arg,) = pydantic_data_converter.payload_converter.from_payloads(
        list(action.args),  # type: ignore[arg-type]
        [DailyMrpInput],
    )
    assert arg == DailyMrpInput(queue_prefix=prefix)
    (next_run, *_) = described.info.next_action_times
    assert (next_run.hour, next_run.minute) == (5, 30)
    assert next_run - datetime.now(UTC) <= timedelta(days=1)


async def test_a_restart_takes_the_new_time_and_keeps_a_pause(
    base_settings: Settings, dev_env: WorkflowEnvironment
) -> None:
    settings = settings_for(base_settings, mrp_daily_at="06:00")
    await ensure_schedules(dev_env.client, settings)
    handle = dev_env.client.get_schedule_handle(daily_mrp_schedule_id(settings.task_queue_prefix))
    await handle.pause(note="stocktaking")

    later = settings.model_copy(update={"mrp_daily_at": "21:45"})
    await ensure_schedules(dev_env.client, later)  # the next start, with a new time

    described = await _describe(dev_env, later)
    (calendar,) = described.schedule.spec.calendars
    assert (list(calendar.hour), list(calendar.minute)) == (
        [ScheduleRange(21)],
        [ScheduleRange(45)],
    )
    assert described.schedule.state.paused is True
    assert described.schedule.state.note == "stocktaking"


async def test_the_scheduled_action_runs_the_daily_mrp_workflow(
    base_settings: Settings, dev_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    item = f"WASHER-{uuid.uuid4().hex[:8]}"
    async with engine.begin() as conn:  # kept on hand, and none there
        await conn.execute(
            insert(Item).values(
                item=item,
                make_or_buy="buy",
                safety_stock=Decimal(5),
                first_order_no="SO-seed",
                created_at=datetime.now(UTC),
            )
        )
    settings = settings_for(base_settings)
    await ensure_schedules(dev_env.client, settings)
    handle = dev_env.client.get_schedule_handle(daily_mrp_schedule_id(settings.task_queue_prefix))
    async with run_stack(settings, dev_env.client):
        _, workflow_id, result = await trigger_and_wait(dev_env.client, handle, DailyMrpResult)
    assert workflow_id.startswith(f"{settings.task_queue_prefix}-daily-mrp")
    assert [(r.item, r.qty) for r in result.safety_stock.created if r.item == item] == [
        (item, Decimal(5))
    ]
    await handle.delete()
