"""Plan-achievement reports: PlanReportWorkflow stores a period's report and POSTs it signed to
every event webhook until it answers 2xx (time-skipping server); a re-run replaces the stored
report; `GET /planning/reports`; the weekly and monthly Temporal Schedules on the real dev
server (the time-skipping server does not implement schedules).

The weeks reported lie in the past, so none is the week the suite runs in.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
from temporalio.client import (
    ScheduleActionStartWorkflow,
    ScheduleOverlapPolicy,
    ScheduleRange,
    WorkflowFailureError,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from app.schedules import ensure_schedules, plan_report_schedule_id
from services.planning.models import PlanReport
from services.planning.report_schemas import PlanReportInput, PlanReportResult
from shared.db import session_scope
from shared.periods import local_date, previous_month, previous_week
from shared.settings import Settings
from shared.temporal import workflow_queue
from tests.conftest import Stack, run_stack, settings_for
from tests.dev_server import (
    dev_server_env,  # noqa: F401  (the dev_env fixture)
    trigger_and_wait,
)
from tests.kpi_drivers import add_milestones
from tests.plant_calendar import PLANT_CLOCKS
from tests.webhook_receiver import WebhookReceiver, expected_signature
from workflows.reports import PlanReportWorkflow


@pytest.fixture
def base_settings(base_settings: Settings) -> Settings:
    """This module's tests run on the plant's default calendar (tests/plant_calendar.py)."""
    return base_settings.model_copy(update=PLANT_CLOCKS)


async def _milestones(engine: AsyncEngine, week: str, *rows: tuple[str, int, int | None]) -> None:
    """Milestones of one made-up order planned in `week`: (name, weekday, days late or None)."""
    year, _, number = week.partition("-W")
    dated = []
    for name, weekday, late in rows:
        planned = date.fromisocalendar(int(year), int(number), weekday)
        dated.append((name, planned, None if late is None else planned + timedelta(days=late)))
    await add_milestones(engine, dated, prefix="PR")


async def _report(stack: Stack, inp: PlanReportInput) -> PlanReportResult:
    return await stack.client.execute_workflow(
        PlanReportWorkflow.run,
        inp,
        id=f"plan-report-{uuid.uuid4().hex[:8]}",
        task_queue=workflow_queue(stack.settings.task_queue_prefix),
    )


async def _stored(engine: AsyncEngine, kind: str, period: str) -> list[PlanReport]:
    async with session_scope(engine) as session:
        rows = await session.execute(
            select(PlanReport).where(col(PlanReport.kind) == kind, col(PlanReport.period) == period)
        )
        return list(rows.scalars())


def _by_dept(rows: list[Any]) -> dict[str, tuple[int, int, float | None]]:
    return {r["department"]: (r["due"], r["met"], r["rate"]) for r in rows}


async def test_a_report_is_stored_and_posted_signed_until_the_webhook_takes_it(
    base_settings: Settings, ts_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    week = "2026-W05"
    await _milestones(engine, week, ("design_done", 1, 0), ("bom_release", 2, 1), ("ship", 3, -1))
    secret = base_settings.webhook_signing_secret()
    async with WebhookReceiver(secret, fail_first=1) as bot:
        url = bot.url
        settings = settings_for(base_settings, event_webhooks=[url])
        async with run_stack(settings, ts_env.client) as stack:
            zone = settings.timezone
            result = await _report(
                stack, PlanReportInput(queue_prefix=settings.task_queue_prefix, zone=zone)
            )
            # without a period, the week before the plant's week it runs in; now the one asked
            assert result.period == previous_week(local_date(datetime.now(UTC), zone)).label
            result = await _report(
                stack,
                PlanReportInput(queue_prefix=settings.task_queue_prefix, kind="week", period=week),
            )
            (delivered,) = await bot.wait_for(lambda r: r.json["period"] == week)

    expected = {
        "engineering": (2, 1, 0.5),
        "procurement": (0, 0, None),
        "production": (0, 0, None),
        "quality": (0, 0, None),
        "sales": (1, 1, 1.0),
    }
    assert (result.kind, result.period, result.published_to) == ("week", week, ["event-webhook-1"])
    assert _by_dept([d.model_dump() for d in result.departments]) == expected
    (stored,) = await _stored(engine, "week", week)
    assert _by_dept(stored.rows) == expected
    body = delivered.json
    assert (body["kind"], body["period_kind"], body["period"]) == ("plan_report", "week", week)
    assert _by_dept(body["departments"]) == expected
    assert delivered.headers["x-orderflow-signature"] == expected_signature(delivered.body, secret)
    refused = [r for r in bot.received if not r.accepted]
    assert refused and refused[0].status == 500  # the first POST failed and was retried


async def test_a_rerun_replaces_the_stored_report(
    base_settings: Settings, ts_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    week = "2026-W07"
    await _milestones(engine, week, ("production_start", 1, 2))
    settings = settings_for(base_settings)  # no event webhooks: stored only
    async with run_stack(settings, ts_env.client) as stack:
        inp = PlanReportInput(queue_prefix=settings.task_queue_prefix, kind="week", period=week)
        first = await _report(stack, inp)
        (before,) = await _stored(engine, "week", week)
        await _milestones(engine, week, ("production_end", 4, 0))
        second = await _report(stack, inp)
        response = await stack.http.get(
            "/planning/reports", params={"week": week}, headers=stack.token("h", "head:production")
        )

    assert _by_dept([d.model_dump() for d in first.departments])["production"] == (1, 0, 0.0)
    assert _by_dept([d.model_dump() for d in second.departments])["production"] == (2, 1, 0.5)
    assert second.published_to == []
    (after,) = await _stored(engine, "week", week)  # still one row, with the new figures
    assert _by_dept(after.rows)["production"] == (2, 1, 0.5)
    assert after.created_at == before.created_at and after.updated_at >= before.updated_at
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["kind"], body["period"]) == ("week", week)
    production = next(d for d in body["departments"] if d["department"] == "production")
    assert production == {"department": "production", "due": 2, "met": 1, "rate": 0.5}


async def test_a_monthly_run_reports_the_month_before_and_a_bad_period_fails(
    stack: Stack, engine: AsyncEngine
) -> None:
    prefix = stack.settings.task_queue_prefix
    result = await _report(stack, PlanReportInput(queue_prefix=prefix, kind="month"))
    assert result.period == previous_month(datetime.now(UTC).date()).label
    assert len(await _stored(engine, "month", result.period)) == 1
    with pytest.raises(WorkflowFailureError) as failed:
        await _report(stack, PlanReportInput(queue_prefix=prefix, kind="month", period="2026-13"))
    assert "01 to 12" in str(failed.value.cause)


# -- GET /planning/reports ----------------------------------------------------------------------


async def test_a_report_not_made_is_404_saying_when_it_will_be(stack: Stack) -> None:
    planner = stack.token("p", "planning")
    response = await stack.http.get(
        "/planning/reports", params={"week": "2099-W01"}, headers=planner
    )
    assert response.status_code == 404
    body = response.json()
    assert body["error"] == "report_not_found"
    # FRI 17:00 in the plant's zone by default, in the week after the one reported
    assert "made on Friday 2099-01-09 at 17:00 Asia/Shanghai" in body["detail"]

    response = await stack.http.get(
        "/planning/reports", params={"month": "2001-01"}, headers=planner
    )
    assert response.status_code == 404
    assert "was due on Thursday 2001-02-01 at 17:00 Asia/Shanghai" in response.json()["detail"]


@pytest.mark.parametrize(
    "params", [{}, {"week": "2026-W05", "month": "2026-01"}, {"week": "W5"}, {"month": "2026-1"}]
)
async def test_reports_need_exactly_one_valid_period(stack: Stack, params: dict[str, str]) -> None:
    response = await stack.http.get(
        "/planning/reports", params=params, headers=stack.token("o", "ops")
    )
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_period"


async def test_reports_are_for_planning_leaders_and_heads(stack: Stack) -> None:
    params = {"month": "2026-01"}
    for role in ("planning", "ops", "division", "admin", "head:quality", "head:sales"):
        response = await stack.http.get(
            "/planning/reports", params=params, headers=stack.token("r", role)
        )
        assert response.status_code == 404, role  # allowed in; nothing made yet
    for role in ("sales", "quality", "warehouse"):
        response = await stack.http.get(
            "/planning/reports", params=params, headers=stack.token("r", role)
        )
        assert response.status_code == 403, role
    assert (await stack.http.get("/planning/reports", params=params)).status_code == 401


# -- the schedules, on the dev server ----------------------------------------------------------


async def test_worker_start_creates_the_weekly_and_monthly_report_schedules(
    base_settings: Settings, dev_env: WorkflowEnvironment
) -> None:
    settings = settings_for(base_settings, report_weekday="THU", report_at="16:30")
    prefix = settings.task_queue_prefix
    await ensure_schedules(dev_env.client, settings)

    for kind, name, day in (
        ("week", "weekly", {"day_of_week": [ScheduleRange(4)]}),
        ("month", "monthly", {"day_of_month": [ScheduleRange(1)]}),
    ):
        described = await dev_env.client.get_schedule_handle(
            plan_report_schedule_id(prefix, kind)  # type: ignore[arg-type]
        ).describe()
        assert described.id == f"{prefix}-{name}-plan-report"
        schedule = described.schedule
        (calendar,) = schedule.spec.calendars
        assert (list(calendar.hour), list(calendar.minute)) == (
            [ScheduleRange(16)],
            [ScheduleRange(30)],
        )
        for field, ranges in day.items():
            assert list(getattr(calendar, field)) == ranges
        # The plant's local time: the spec carries its zone (Asia/Shanghai by default).
        assert schedule.spec.time_zone_name == settings.timezone == "Asia/Shanghai"
        assert schedule.policy.overlap == ScheduleOverlapPolicy.SKIP
        action = schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow)
        assert (action.workflow, action.id, action.task_queue) == (
            "PlanReportWorkflow",
            f"{prefix}-{name}-plan-report",
            workflow_queue(prefix),
        )
        (arg,) = pydantic_data_converter.payload_converter.from_payloads(
            list(action.args),  # type: ignore[arg-type]
            [PlanReportInput],
        )
        assert arg == PlanReportInput(
            queue_prefix=prefix,
            kind=kind,  # type: ignore[arg-type]
            zone="Asia/Shanghai",
        )
        (next_run, *_) = described.info.next_action_times
        next_run = next_run.astimezone(ZoneInfo("Asia/Shanghai"))
        assert (next_run.hour, next_run.minute) == (16, 30)
        assert next_run.astimezone(UTC).hour == 8  # 16:30 in Shanghai is 08:30 UTC
        if kind == "week":
            assert next_run.isoweekday() == 4
        else:
            assert next_run.day == 1


async def test_a_restart_keeps_a_paused_report_schedule_paused(
    base_settings: Settings, dev_env: WorkflowEnvironment
) -> None:
    settings = settings_for(base_settings)
    await ensure_schedules(dev_env.client, settings)
    monthly = plan_report_schedule_id(settings.task_queue_prefix, "month")
    handle = dev_env.client.get_schedule_handle(monthly)
    await handle.pause(note="year-end closing")

    await ensure_schedules(dev_env.client, settings.model_copy(update={"report_month_day": 3}))

    described = await handle.describe()
    (calendar,) = described.schedule.spec.calendars
    assert list(calendar.day_of_month) == [ScheduleRange(3)]
    assert (described.schedule.state.paused, described.schedule.state.note) == (
        True,
        "year-end closing",
    )


async def test_the_weekly_schedule_runs_the_report_of_the_week_before_the_one_it_is_due_in(
    base_settings: Settings, dev_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    settings = settings_for(base_settings)
    await ensure_schedules(dev_env.client, settings)
    handle = dev_env.client.get_schedule_handle(
        plan_report_schedule_id(settings.task_queue_prefix, "week")
    )
    async with run_stack(settings, dev_env.client):
        started, workflow_id, result = await trigger_and_wait(
            dev_env.client, handle, PlanReportResult
        )
    await handle.delete()
    assert workflow_id.startswith(f"{settings.task_queue_prefix}-weekly-plan-report")
    local = local_date(started.scheduled_at, settings.timezone)
    assert result.period == previous_week(local).label
    (stored,) = await _stored(engine, "week", result.period)
    assert _by_dept(stored.rows) == _by_dept([d.model_dump() for d in result.departments])
