"""The daily production plan (《生产日计划表》, §2.3): `GET /planning/daily-plan?date=` recomputed
from the plan's milestones, the orders and the inboxes, on the plant's calendar (Shanghai,
China's holidays by default)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from services.planning.models import Milestone
from services.sales.models import Order
from shared.db import session_scope
from shared.settings import DEPARTMENTS, Settings
from shared.tasks.models import OPEN, inbox
from tests.conftest import Stack
from tests.plant_calendar import PLANT_CLOCKS, plant_calendar


@pytest.fixture
def base_settings(base_settings: Settings) -> Settings:
    """This module's tests run on the plant's default calendar (tests/plant_calendar.py)."""
    return base_settings.model_copy(update=PLANT_CLOCKS)


SHANGHAI = ZoneInfo("Asia/Shanghai")
TUESDAY = date(2027, 3, 2)  # a working day; Monday 2027-03-01 is the working day before
MONDAY = date(2027, 3, 8)  # the working day before is Friday 2027-03-05
FESTIVAL = date(2027, 2, 8)  # a Monday off: the Spring Festival (by rule)
STAMP = datetime(2027, 1, 1, tzinfo=UTC)


def _tag() -> str:
    return f"DP-{uuid.uuid4().hex[:6]}"


async def _order(
    engine: AsyncEngine,
    order_no: str,
    *,
    stage: str,
    status: str = "active",
    plan: dict[str, tuple[date, date | None]],
) -> str:
    """An order in `stage` with milestones name → (planned, actual); forecast = planned."""
    async with session_scope(engine) as session:
        session.add(
            Order(
                order_no=order_no,
                workflow_id=f"order-{order_no}",
                customer="Daily Plan Co",
                project_name="switchgear",
                contract_no="C-1",
                drawing_refs=[],
                requested_date=date(2027, 6, 1),
                amount=Decimal(1),
                currency="CNY",
                stage=stage,
                status=status,
                created_by="test",
                created_at=STAMP,
                updated_at=STAMP,
            )
        )
        await session.flush()
        for name, (planned, actual) in plan.items():
            session.add(
                Milestone(
                    order_no=order_no,
                    name=name,
                    owner="x",
                    planned=planned,
                    forecast=planned,
                    actual=actual,
                    revision=1,
                    updated_at=STAMP,
                )
            )
    return order_no


async def _task(engine: AsyncEngine, department: str, order_no: str, due_local: datetime) -> str:
    """An open task in `department`'s inbox, due at the Shanghai wall time `due_local`."""
    task_id = f"{order_no}-{uuid.uuid4().hex[:6]}"
    async with session_scope(engine) as session:
        await session.execute(
            insert(inbox(department)).values(
                task_id=task_id,
                kind=f"{department}.something",
                order_no=order_no,
                workflow_id=f"order-{order_no}",
                title=f"task of {order_no}",
                state=OPEN,
                context={},
                created_at=STAMP,
                due_at=due_local.replace(tzinfo=SHANGHAI),
                escalation_level=0,
            )
        )
    return task_id


async def _plan(stack: Stack, day: str | None, role: str = "planning") -> Any:
    params = {"date": day} if day is not None else {}
    response = await stack.http.get(
        "/planning/daily-plan", params=params, headers=stack.token("p", role)
    )
    assert response.status_code == 200, response.text
    return response.json()


def _due(body: Any, department: str) -> Any:
    (entry,) = [d for d in body["due"] if d["department"] == department]
    return entry


async def test_the_days_orders_in_production_what_is_due_and_what_slipped(
    stack: Stack, engine: AsyncEngine
) -> None:
    tag = _tag()
    day, before = TUESDAY, date(2027, 3, 1)
    building = await _order(
        engine,
        f"{tag}-a-building",
        stage="production",
        plan={
            "production_start": (day - timedelta(days=7), day - timedelta(days=7)),
            "production_end": (day + timedelta(days=7), None),
            "final_inspection": (day, None),  # due today: quality
        },
    )
    planned_in = await _order(
        engine,
        f"{tag}-b-window",
        stage="material",  # not started, but its planned window covers the day
        plan={
            "production_start": (day, None),  # due today: production
            "production_end": (day + timedelta(days=1), None),
            "material_required": (before, None),  # slipped yesterday: procurement
            "drawings_release": (before, before),  # met yesterday: not slipped
        },
    )
    later = await _order(
        engine,
        f"{tag}-c-later",
        stage="engineering",
        plan={
            "production_start": (day + timedelta(days=20), None),
            "production_end": (day + timedelta(days=30), None),
            "design_done": (day, None),  # due today: engineering
        },
    )
    await _order(
        engine,
        f"{tag}-d-cancelled",
        stage="production",
        status="cancelled",
        plan={"production_end": (day, None), "material_required": (before, None)},
    )
    morning = await _task(engine, "quality", building, datetime.combine(day, time(9)))
    # 23:30 in Shanghai is 15:30 UTC the same day; 00:30 the next morning is still the 1st
    # in UTC: the day is the plant's local day.
    late = await _task(engine, "quality", later, datetime.combine(day, time(23, 30)))
    await _task(engine, "quality", later, datetime.combine(day + timedelta(days=1), time(0, 30)))
    await _task(engine, "production", building, datetime.combine(before, time(23, 59)))

    body = await _plan(stack, day.isoformat())

    assert (body["date"], body["zone"], body["working"]) == (day.isoformat(), SHANGHAI.key, True)
    assert body["previous_working_day"] == before.isoformat()
    assert [o["order_no"] for o in body["in_production"]] == [building, planned_in]
    first = body["in_production"][0]
    assert first["stage"] == "production"
    assert first["milestones"]["production_end"] == {
        "planned": (day + timedelta(days=7)).isoformat(),
        "forecast": (day + timedelta(days=7)).isoformat(),
        "actual": None,
    }
    assert [d["department"] for d in body["due"]] == list(DEPARTMENTS)
    quality = _due(body, "quality")
    assert [(m["order_no"], m["milestone"]) for m in quality["milestones"]] == [
        (building, "final_inspection")
    ]
    assert [t["task_id"] for t in quality["tasks"]] == [morning, late]
    assert [(m["order_no"], m["milestone"]) for m in _due(body, "engineering")["milestones"]] == [
        (later, "design_done")
    ]
    assert [(m["order_no"], m["milestone"]) for m in _due(body, "production")["milestones"]] == [
        (planned_in, "production_start")
    ]
    assert _due(body, "production")["tasks"] == []  # due the day before
    assert [(m["order_no"], m["milestone"], m["department"]) for m in body["slipped"]] == [
        (planned_in, "material_required", "procurement")
    ]


async def test_monday_looks_back_to_friday_and_a_day_off_answers_with_working_false(
    stack: Stack, engine: AsyncEngine
) -> None:
    tag = _tag()
    friday = date(2027, 3, 5)
    order_no = await _order(
        engine,
        f"{tag}-a",
        stage="production",
        plan={
            "production_start": (FESTIVAL - timedelta(days=10), FESTIVAL - timedelta(days=10)),
            "production_end": (MONDAY, None),
            "final_inspection": (friday, None),
        },
    )
    monday = await _plan(stack, MONDAY.isoformat())
    assert monday["previous_working_day"] == friday.isoformat()
    assert [(m["order_no"], m["milestone"]) for m in monday["slipped"]] == [
        (order_no, "final_inspection")
    ]
    assert [m["milestone"] for m in _due(monday, "production")["milestones"]] == ["production_end"]

    off = await _plan(stack, FESTIVAL.isoformat())
    assert off["working"] is False and "Chinese New Year" in off["note"]
    # Still filled: the order is in production over the festival.
    assert [o["order_no"] for o in off["in_production"]] == [order_no]
    # The working day before: the calendar's, computed here the same way.
    calendar = plant_calendar(stack.settings)
    expected = FESTIVAL - timedelta(days=1)
    while not calendar.is_working_day(expected):
        expected -= timedelta(days=1)
    assert off["previous_working_day"] == expected.isoformat() == "2027-02-04"


async def test_without_a_date_the_plan_is_the_plants_today(stack: Stack) -> None:
    before = datetime.now(SHANGHAI).date()
    body = await _plan(stack, None, role="production")
    after = datetime.now(SHANGHAI).date()  # the same, unless local midnight passed between
    assert body["date"] in {before.isoformat(), after.isoformat()}


@pytest.mark.parametrize("bad", ["2027-02-30", "tomorrow", "1999-12-31", "2200-01-01"])
async def test_a_bad_date_is_422_naming_date(stack: Stack, bad: str) -> None:
    response = await stack.http.get(
        "/planning/daily-plan", params={"date": bad}, headers=stack.token("p", "planning")
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid_request"
    assert "date" in body["detail"]


async def test_the_daily_plan_is_for_planning_production_ops_division_and_admin(
    stack: Stack,
) -> None:
    params = {"date": TUESDAY.isoformat()}
    for role in ("planning", "production", "ops", "division", "admin"):
        response = await stack.http.get(
            "/planning/daily-plan", params=params, headers=stack.token("r", role)
        )
        assert response.status_code == 200, role
    for role in ("sales", "quality", "head:production"):
        response = await stack.http.get(
            "/planning/daily-plan", params=params, headers=stack.token("r", role)
        )
        assert response.status_code == 403, role
    assert (await stack.http.get("/planning/daily-plan", params=params)).status_code == 401
