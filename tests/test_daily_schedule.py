"""The daily MRP run is a Temporal Schedule created at start (P4.2), checked on the real dev
server: the time-skipping server does not implement schedules. Its times are the plant's local
times, and on the plant's days off the run skips (time-skipping server)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.enums.v1 import EventType
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
from shared.schedule_times import WEEKDAYS
from shared.settings import Settings
from shared.temporal import workflow_queue
from tests.conftest import run_stack, settings_for
from tests.dev_server import (
    dev_server_env,  # noqa: F401  (the dev_env fixture)
    trigger_and_wait,
)
from tests.plant_calendar import EVERY_DAY, PLANT_CLOCKS, plant_weekday
from workflows.daily_mrp import DailyMrpWorkflow


@pytest.fixture
def base_settings(base_settings: Settings) -> Settings:
    """This module's tests run on the plant's default calendar (tests/plant_calendar.py)."""
    return base_settings.model_copy(update=PLANT_CLOCKS)


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
    assert list(calendar.day_of_week) == [ScheduleRange(0, 6)]  # every day; days off skip
    assert schedule.spec.time_zone_name == settings.timezone == "Asia/Shanghai"
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
    local = next_run.astimezone(ZoneInfo("Asia/Shanghai"))
    assert (local.hour, local.minute) == (5, 30)  # the plant's local time: 21:30 UTC
    assert (next_run.astimezone(UTC).hour, next_run.minute) == (21, 30)
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
    settings = settings_for(base_settings, **EVERY_DAY)  # today works, whatever day it is
    await ensure_schedules(dev_env.client, settings)
    handle = dev_env.client.get_schedule_handle(daily_mrp_schedule_id(settings.task_queue_prefix))
    async with run_stack(settings, dev_env.client):
        _, workflow_id, result = await trigger_and_wait(dev_env.client, handle, DailyMrpResult)
    assert workflow_id.startswith(f"{settings.task_queue_prefix}-daily-mrp")
    assert [(r.item, r.qty) for r in result.safety_stock.created] == [(item, Decimal(5))]
    await handle.delete()


async def test_on_a_day_off_the_run_records_that_it_skipped_and_ends(
    base_settings: Settings, ts_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    item = f"WASHER-{uuid.uuid4().hex[:8]}"
    async with engine.begin() as conn:  # below its safety stock: a working day would buy it
        await conn.execute(
            insert(Item).values(
                item=item,
                make_or_buy="buy",
                safety_stock=Decimal(5),
                first_order_no="SO-seed",
                created_at=datetime.now(UTC),
            )
        )
    # A plant that works every day but today.
    plain = settings_for(base_settings, **EVERY_DAY)
    today = plant_weekday(plain)
    week = ",".join(d for d in WEEKDAYS if d != today)
    settings = plain.model_copy(update={"work_week": week})
    prefix = settings.task_queue_prefix
    async with run_stack(settings, ts_env.client):
        handle = await ts_env.client.start_workflow(
            DailyMrpWorkflow.run,
            DailyMrpInput(queue_prefix=prefix),
            id=f"{prefix}-daily-mrp-off",
            task_queue=workflow_queue(prefix),
        )
        result = await handle.result()
        history = await handle.fetch_history()
    assert isinstance(result, DailyMrpResult)
    assert result.skipped and "is not a working day" in result.skipped
    assert result.day is not None and f"{result.day:%A}" in result.skipped
    assert result.safety_stock.created == [] and result.notified == []
    scheduled = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    assert scheduled == ["mrp_day"]  # asked the calendar, then nothing else
