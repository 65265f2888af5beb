"""The weekly unshipped list (P2.6): orders in finished goods not yet shipped are each asked for
a ship date. The list on the real database; the workflow on the time-skipping server, with a
stand-in order workflow that records the `ship_date_due` signal; the Temporal Schedule on the
real dev server (the time-skipping server does not implement schedules)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    Client,
    ScheduleActionStartWorkflow,
    ScheduleDescription,
    ScheduleOverlapPolicy,
    ScheduleRange,
    WorkflowHandle,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from app.schedules import (
    daily_mrp_schedule_id,
    ensure_schedules,
    weekly_unshipped_schedule_id,
)
from services.planning.models import Milestone
from services.sales.models import Order
from services.sales.unshipped import UnshippedActivities
from shared.db import session_scope
from shared.production_types import UnshippedRun, WeeklyUnshippedInput, WeeklyUnshippedResult
from shared.schedule_times import weekday_number
from shared.settings import Settings
from shared.temporal import workflow_queue
from tests.conftest import Stack, run_stack, settings_for
from tests.dev_server import (
    dev_server_env,  # noqa: F401  (the dev_env fixture)
    trigger_and_wait,
)
from tests.plant_calendar import EVERY_DAY, PLANT_CLOCKS, plant_weekday
from workflows.unshipped import WeeklyUnshippedWorkflow


@pytest.fixture
def base_settings(base_settings: Settings) -> Settings:
    """This module's tests run on the plant's default calendar (tests/plant_calendar.py)."""
    return base_settings.model_copy(update=PLANT_CLOCKS)


NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
PLAN_DAY = date(2026, 12, 4)


# -- a stand-in for the order workflow: takes `ship_date_due`, which its history then holds ------


@workflow.defn(name="ShipDateDueRecorder")
class ShipDateDueRecorder:
    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)

    @workflow.signal(name="ship_date_due")
    def ship_date_due(self) -> None:
        """Nothing to do: the signal stands in the stand-in's history."""


def _recorder_worker(client: Client, queue: str) -> Worker:
    # Unsandboxed: this module imports the test stack, which the sandbox need not re-import.
    return Worker(
        client,
        task_queue=queue,
        workflows=[ShipDateDueRecorder],
        workflow_runner=UnsandboxedWorkflowRunner(),
    )


async def _recorder(
    client: Client, order_no: str, queue: str
) -> WorkflowHandle[ShipDateDueRecorder, None]:
    return await client.start_workflow(
        ShipDateDueRecorder.run, id=f"order-{order_no}", task_queue=queue
    )


async def _recorded(handle: WorkflowHandle[ShipDateDueRecorder, None]) -> int:
    """How many `ship_date_due` signals the stand-in's history holds: the server wrote each
    one there before the weekly run went on. (Not its result: finishing one stand-in and
    awaiting it let the loaded time-skipping server end another one under it.)"""
    history = await handle.fetch_history()
    return sum(
        event.workflow_execution_signaled_event_attributes.signal_name == "ship_date_due"
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    )


# -- orders and milestones, inserted directly ----------------------------------------------------


async def _order(
    engine: AsyncEngine,
    order_no: str,
    *,
    stage: str,
    status: str = "active",
    shipped: bool = False,
    planned: bool = True,
) -> str:
    """An order in `stage`; with a plan (final inspection done, ship with an actual when
    `shipped`) unless `planned` is False."""
    async with session_scope(engine) as session:
        session.add(
            Order(
                order_no=order_no,
                workflow_id=f"order-{order_no}",
                customer="Test",
                project_name="weekly unshipped",
                contract_no="C-1",
                drawing_refs=[],
                requested_date=PLAN_DAY + timedelta(days=30),
                amount=Decimal(1),
                currency="CNY",
                stage=stage,
                status=status,
                created_by="test",
                created_at=NOW,
                updated_at=NOW,
            )
        )
        await session.flush()
        if planned:
            for name, owner, actual in (
                ("final_inspection", "quality", PLAN_DAY - timedelta(days=2)),
                ("ship", "sales", PLAN_DAY if shipped else None),
            ):
                session.add(
                    Milestone(
                        order_no=order_no,
                        name=name,
                        owner=owner,
                        planned=PLAN_DAY,
                        forecast=PLAN_DAY,
                        actual=actual,
                        revision=1,
                        updated_at=NOW,
                    )
                )
    return order_no


def _tag() -> str:
    return f"WU-{uuid.uuid4().hex[:8]}"


# -- the list, on the real database --------------------------------------------------------------


async def test_lists_active_orders_in_finished_goods_without_a_ship_actual(
    engine: AsyncEngine, base_settings: Settings
) -> None:
    tag = _tag()
    waiting = await _order(engine, f"{tag}-b-waiting", stage="delivery")
    unplanned = await _order(engine, f"{tag}-a-unplanned", stage="delivery", planned=False)
    await _order(engine, f"{tag}-c-shipped", stage="delivery", shipped=True)
    await _order(engine, f"{tag}-d-inspection", stage="final_inspection")
    await _order(engine, f"{tag}-e-production", stage="production")
    await _order(engine, f"{tag}-f-commissioning", stage="commissioning", shipped=True)
    await _order(engine, f"{tag}-g-cancelled", stage="delivery", status="cancelled")
    await _order(engine, f"{tag}-h-closed", stage="delivery", status="closed")

    activities = UnshippedActivities(engine, base_settings)
    listed = await ActivityEnvironment().run(activities.unshipped_orders, UnshippedRun(at=NOW))

    assert listed == [unplanned, waiting]  # sorted, each once


# -- the workflow, on the time-skipping server ---------------------------------------------------


async def test_each_unshipped_order_is_asked_once_and_an_ended_one_is_listed(
    base_settings: Settings, ts_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    # Today is the list's day: a plant working every day, with the list on today's weekday.
    settings = settings_for(base_settings, **EVERY_DAY)
    settings = settings.model_copy(update={"unshipped_weekday": plant_weekday(settings)})
    async with run_stack(settings, ts_env.client) as stack:
        await _asked_once(stack, engine)


async def test_on_another_day_the_run_records_why_and_asks_nobody(
    base_settings: Settings, ts_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    settings = settings_for(base_settings, **EVERY_DAY)
    tomorrow = plant_weekday(settings, days_on=1)
    settings = settings.model_copy(update={"unshipped_weekday": tomorrow})
    waiting = await _order(engine, f"{_tag()}-waiting", stage="delivery")
    async with run_stack(settings, ts_env.client) as stack:
        prefix = stack.settings.task_queue_prefix
        handle = await stack.client.start_workflow(
            WeeklyUnshippedWorkflow.run,
            WeeklyUnshippedInput(queue_prefix=prefix),
            id=f"{prefix}-weekly-unshipped-off",
            task_queue=workflow_queue(prefix),
        )
        result = await handle.result()
        history = await handle.fetch_history()
    assert isinstance(result, WeeklyUnshippedResult)
    assert (result.asked, result.unreachable) == ([], [])
    assert result.skipped and f"is not the list's day ({tomorrow})" in result.skipped
    assert result.day is not None and waiting
    # The history shows the question asked and no list made.
    activities = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    assert activities == ["unshipped_day"]


async def _asked_once(stack: Stack, engine: AsyncEngine) -> None:
    tag = _tag()
    running = await _order(engine, f"{tag}-running", stage="delivery")
    shipped = await _order(engine, f"{tag}-shipped", stage="delivery", shipped=True)
    ended = await _order(engine, f"{tag}-ended", stage="delivery")
    gone = await _order(engine, f"{tag}-gone", stage="delivery")  # no workflow at all
    prefix = stack.settings.task_queue_prefix
    queue = f"{prefix}-recorder"

    async with _recorder_worker(stack.client, queue):
        asked_for = await _recorder(stack.client, running, queue)
        not_asked = await _recorder(stack.client, shipped, queue)
        finished = await _recorder(stack.client, ended, queue)
        await finished.terminate("test: the order has ended")

        result = await stack.client.execute_workflow(
            WeeklyUnshippedWorkflow.run,
            WeeklyUnshippedInput(queue_prefix=prefix),
            id=f"{prefix}-weekly-unshipped-test",
            task_queue=workflow_queue(prefix),
        )

        assert isinstance(result, WeeklyUnshippedResult)
        assert result.asked == [running]
        assert sorted(result.unreachable) == [ended, gone]  # and the shipped one in neither
        assert await _recorded(asked_for) == 1
        assert await _recorded(not_asked) == 0


# -- the settings and the schedule on the real dev server -------------------------------------


def test_weekdays_use_temporals_numbering_from_sunday() -> None:
    names = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
    assert [weekday_number(name) for name in names] == [0, 1, 2, 3, 4, 5, 6]
    with pytest.raises(ValueError):
        weekday_number("MONDAY")


def test_the_weekday_and_time_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ORDERFLOW_UNSHIPPED_WEEKDAY", raising=False)
    monkeypatch.delenv("ORDERFLOW_UNSHIPPED_AT", raising=False)
    assert (Settings().unshipped_weekday, Settings().unshipped_at) == ("MON", "08:00")
    monkeypatch.setenv("ORDERFLOW_UNSHIPPED_WEEKDAY", "FRI")
    monkeypatch.setenv("ORDERFLOW_UNSHIPPED_AT", "16:30")
    assert (Settings().unshipped_weekday, Settings().unshipped_at) == ("FRI", "16:30")
    for name, value in (
        ("ORDERFLOW_UNSHIPPED_WEEKDAY", "FRIDAY"),
        ("ORDERFLOW_UNSHIPPED_WEEKDAY", "fri"),
        ("ORDERFLOW_UNSHIPPED_AT", "8:00"),
        ("ORDERFLOW_UNSHIPPED_AT", "24:00"),
    ):
        with monkeypatch.context() as env:
            env.setenv(name, value)
            with pytest.raises(ValidationError):
                Settings()


async def _describe(env: WorkflowEnvironment, settings: Settings) -> ScheduleDescription:
    schedule_id = weekly_unshipped_schedule_id(settings.task_queue_prefix)
    return await env.client.get_schedule_handle(schedule_id).describe()


async def test_worker_start_creates_the_weekly_unshipped_schedule(
    base_settings: Settings, dev_env: WorkflowEnvironment
) -> None:
    settings = settings_for(base_settings, unshipped_weekday="WED", unshipped_at="07:15")
    prefix = settings.task_queue_prefix
    await ensure_schedules(dev_env.client, settings)

    described = await _describe(dev_env, settings)
    assert described.id == f"{prefix}-weekly-unshipped"
    schedule = described.schedule
    (calendar,) = schedule.spec.calendars
    # Started every day at the plant's local time; the run decides whether it is the list's
    # day (Wednesday, or the next working day when Wednesday is off).
    assert list(calendar.day_of_week) == [ScheduleRange(0, 6)]
    assert (list(calendar.hour), list(calendar.minute)) == ([ScheduleRange(7)], [ScheduleRange(15)])
    assert schedule.spec.time_zone_name == settings.timezone == "Asia/Shanghai"
    assert "WED" in (calendar.comment or "")
    assert schedule.policy.overlap == ScheduleOverlapPolicy.SKIP
    assert schedule.state.paused is False
    assert schedule.state.note and "P2.6" in schedule.state.note
    assert (await described.memo())["process"] == "P2.6"
    action = schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert (action.workflow, action.id, action.task_queue) == (
        "WeeklyUnshippedWorkflow",
        f"{prefix}-weekly-unshipped",
        workflow_queue(prefix),
    )
    (arg,) = pydantic_data_converter.payload_converter.from_payloads(
        list(action.args),  # type: ignore[arg-type]
        [WeeklyUnshippedInput],
    )
    assert arg == WeeklyUnshippedInput(queue_prefix=prefix)
    first, second, *_ = described.info.next_action_times
    local = first.astimezone(ZoneInfo("Asia/Shanghai"))
    assert (local.hour, local.minute) == (7, 15)
    assert (first.astimezone(UTC).hour, first.minute) == (23, 15)  # 07:15 in Shanghai
    assert first - datetime.now(UTC) <= timedelta(days=1)
    assert second - first == timedelta(days=1)
    # The daily MRP schedule is created beside it, as before.
    daily = await dev_env.client.get_schedule_handle(daily_mrp_schedule_id(prefix)).describe()
    assert daily.id == f"{prefix}-daily-mrp"


async def test_a_restart_takes_the_new_weekday_and_time_and_keeps_a_pause(
    base_settings: Settings, dev_env: WorkflowEnvironment
) -> None:
    settings = settings_for(base_settings, unshipped_weekday="MON", unshipped_at="08:00")
    await ensure_schedules(dev_env.client, settings)
    prefix = settings.task_queue_prefix
    handle = dev_env.client.get_schedule_handle(weekly_unshipped_schedule_id(prefix))
    await handle.pause(note="year-end shutdown")

    later = settings.model_copy(update={"unshipped_weekday": "SUN", "unshipped_at": "22:05"})
    await ensure_schedules(dev_env.client, later)  # the next start, with a new weekday and time

    described = await _describe(dev_env, later)
    (calendar,) = described.schedule.spec.calendars
    assert (list(calendar.hour), list(calendar.minute)) == ([ScheduleRange(22)], [ScheduleRange(5)])
    assert "SUN" in (calendar.comment or "")
    assert described.schedule.state.paused is True
    assert described.schedule.state.note == "year-end shutdown"
    # Pausing one schedule leaves the other running.
    daily = await dev_env.client.get_schedule_handle(daily_mrp_schedule_id(prefix)).describe()
    assert daily.schedule.state.paused is False


async def test_the_scheduled_action_asks_the_unshipped_orders(
    base_settings: Settings, dev_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    tag = _tag()
    running = await _order(engine, f"{tag}-running", stage="delivery")
    gone = await _order(engine, f"{tag}-gone", stage="delivery")
    settings = settings_for(base_settings, **EVERY_DAY)
    settings = settings.model_copy(update={"unshipped_weekday": plant_weekday(settings)})
    prefix = settings.task_queue_prefix
    queue = f"{prefix}-recorder"
    await ensure_schedules(dev_env.client, settings)
    handle = dev_env.client.get_schedule_handle(weekly_unshipped_schedule_id(prefix))
    async with run_stack(settings, dev_env.client), _recorder_worker(dev_env.client, queue):
        recorder = await _recorder(dev_env.client, running, queue)
        _, workflow_id, result = await trigger_and_wait(
            dev_env.client, handle, WeeklyUnshippedResult
        )
        assert await _recorded(recorder) == 1
    assert workflow_id.startswith(f"{prefix}-weekly-unshipped")
    assert (result.asked, result.unreachable) == ([running], [gone])
    await handle.delete()
    await dev_env.client.get_schedule_handle(daily_mrp_schedule_id(prefix)).delete()
