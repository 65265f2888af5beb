"""`GET /kpis` over HTTP: the asked or current week and month, who may read it, and 422
`invalid_period` for a period that is not one. The figures themselves are tests/test_kpis.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.periods import local_date, month_of, week_of
from tests.conftest import Stack
from tests.kpi_drivers import add_milestones


async def _milestones(engine: AsyncEngine, *rows: tuple[str, date, date | None]) -> None:
    """Milestones (name, planned, actual) of one made-up order."""
    await add_milestones(engine, rows)


async def test_get_kpis_answers_the_asked_week_and_month(stack: Stack, engine: AsyncEngine) -> None:
    await _milestones(
        engine,
        ("design_done", date(2026, 6, 1), date(2026, 6, 1)),
        ("bom_release", date(2026, 6, 2), None),
        ("ship", date(2026, 6, 28), date(2026, 6, 30)),
    )
    response = await stack.http.get(
        "/kpis",
        params={"week": "2026-W23", "month": "2026-06"},
        headers=stack.token("p", "planning"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["week"], body["month"]) == ("2026-W23", "2026-06")
    week = {r["department"]: r for r in body["plan_achievement"]["week"]}
    assert week["engineering"] == {"department": "engineering", "due": 2, "met": 1, "rate": 0.5}
    assert week["sales"] == {"department": "sales", "due": 0, "met": 0, "rate": None}
    month = {r["department"]: (r["due"], r["met"]) for r in body["plan_achievement"]["month"]}
    assert month == {
        "engineering": (2, 1),
        "procurement": (0, 0),
        "production": (0, 0),
        "quality": (0, 0),
        "sales": (1, 0),
    }
    for section, fields in {
        "on_time_delivery": {"shipped", "on_time", "rate"},
        "incoming_inspection": {"inspected", "within_sla", "compliance", "median_hours"},
        "design_change": {"issued", "within_sla", "median_hours", "p90_hours"},
        "shortages": {"orders", "total", "per_order", "by_cause"},
        "first_pass_yield": {"inspected", "passed_first", "rate"},
        "open_escalations": {"total", "by_age", "by_level"},
    }.items():
        assert fields <= set(body[section]), section
    assert set(body["open_escalations"]["by_age"]) == {"under_1d", "1_to_3d", "3_to_7d", "over_7d"}


async def test_get_kpis_defaults_to_the_plants_current_week_and_month(stack: Stack) -> None:
    today = local_date(datetime.now(UTC), stack.settings.timezone)
    for role in ("ops", "division", "admin"):
        response = await stack.http.get("/kpis", headers=stack.token("k", role))
        assert response.status_code == 200, (role, response.text)
        body = response.json()
        assert (body["week"], body["month"]) == (week_of(today).label, month_of(today).label)


@pytest.mark.parametrize("role", ["sales", "quality", "head:quality", "engineering"])
async def test_get_kpis_refuses_other_roles(stack: Stack, role: str) -> None:
    response = await stack.http.get("/kpis", headers=stack.token("x", role))
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"


async def test_get_kpis_without_a_token_is_401(stack: Stack) -> None:
    response = await stack.http.get("/kpis")
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"week": "2026-48"}, "2026-W48"),
        ({"week": "2027-W53"}, "no ISO week 53"),
        ({"month": "2026-13"}, "01 to 12"),
        ({"month": "11/2026"}, "2026-11"),
    ],
)
async def test_a_malformed_period_is_422_invalid_period(
    stack: Stack, params: dict[str, str], named: str
) -> None:
    response = await stack.http.get("/kpis", params=params, headers=stack.token("p", "planning"))
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_period"
    assert named in body["detail"]
