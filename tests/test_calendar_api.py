"""The calendar API (issue 13): the days of a range with the public holidays and make-up days,
the plant's exceptions added and deleted by planning (the version follows), a year confirmed,
and every refusal naming its field."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from shared.settings import Settings
from shared.workflow_ids import order_workflow_id
from shared.working_time.clocks import CALENDAR_CHANGED
from tests.conftest import Stack
from tests.helpers import create_order, wait_task
from tests.plant_calendar import PLANT_CLOCKS
from workflows.calendar_change import CalendarChangeResult


@pytest.fixture
def base_settings(base_settings: Settings) -> Settings:
    """This module's tests run on the plant's default calendar (tests/plant_calendar.py)."""
    return base_settings.model_copy(update=PLANT_CLOCKS)


CALENDAR = "/planning/calendar"
EXCEPTIONS = "/planning/calendar/exceptions"


async def _days(stack: Stack, start: str, end: str, role: str = "sales") -> dict[str, Any]:
    response = await stack.http.get(
        CALENDAR, params={"from": start, "to": end}, headers=stack.token("reader", role)
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _by_date(calendar: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {day["date"]: day for day in calendar["days"]}


async def test_february_2026_has_the_spring_festival_off_and_its_make_up_saturdays(
    stack: Stack,
) -> None:
    calendar = await _days(stack, "2026-02-01", "2026-02-28")
    assert calendar["zone"] == "Asia/Shanghai"
    assert calendar["basis"] == "working"
    assert calendar["official_through"] >= 2026
    days = _by_date(calendar)
    assert len(days) == 28
    for n in range(15, 24):
        day = days[f"2026-02-{n:02d}"]
        assert (day["working"], day["shifts"], day["periods"]) == (False, [], []), day
        assert day["note"] and day["official"] is True
    for saturday in ("2026-02-14", "2026-02-28"):
        day = days[saturday]
        assert date.fromisoformat(saturday).weekday() == 5
        assert day["working"] is True and day["official"] is True
        assert day["shifts"] == ["08:00-12:00", "13:00-17:30"]
        assert day["note"]
    # An ordinary Monday: two periods as instants with the plant's offset.
    monday = days["2026-02-02"]
    assert (monday["working"], monday["note"]) == (True, None)
    assert monday["periods"] == [
        {"start": "2026-02-02T08:00:00+08:00", "end": "2026-02-02T12:00:00+08:00"},
        {"start": "2026-02-02T13:00:00+08:00", "end": "2026-02-02T17:30:00+08:00"},
    ]
    assert days["2026-02-07"]["working"] is False  # an ordinary Saturday
    assert all(day["confirmed"] is False for day in days.values())


async def test_the_2027_spring_festival_is_computed_by_rule_and_not_official(
    stack: Stack,
) -> None:
    calendar = await _days(stack, "2027-02-01", "2027-02-28")
    assert calendar["official_through"] < 2027
    # Far years need their public holidays too; the version stays the one clocks count in.
    long_ago = await _days(stack, "2010-02-01", "2010-02-28")
    assert long_ago["version"] == calendar["version"]
    assert not _by_date(long_ago)["2010-02-15"]["working"]  # the 2010 Spring Festival
    by_rule = [d for d in calendar["days"] if not d["official"]]
    assert by_rule, "the 2027 Spring Festival days are rule-based"
    assert all(not d["working"] and d["note"] for d in by_rule)
    # Ordinary days are facts of the work week, official whatever the year.
    assert _by_date(calendar)["2027-02-01"]["official"] is True


async def test_a_shutdown_added_and_deleted_by_planning_changes_the_version(
    stack: Stack,
) -> None:
    planner = stack.token("planner", "planning")
    before = await _days(stack, "2026-03-01", "2026-03-10")
    body = {"kind": "day_off", "start": "2026-03-02", "end": "2026-03-04", "reason": "stock-take"}
    added = await stack.http.post(EXCEPTIONS, json=body, headers=planner)
    assert added.status_code == 201, added.text
    answer = added.json()
    exception = answer["exception"]
    assert {k: exception[k] for k in ("kind", "start", "end", "shifts", "reason")} == {
        **body,
        "shifts": [],
    }
    assert exception["created_by"] == "planner"
    assert answer["version"] != before["version"]
    assert (
        answer["workflow_id"] == f"{stack.settings.task_queue_prefix}-calendar-{answer['change']}"
    )
    during = await _days(stack, "2026-03-01", "2026-03-10")
    assert during["version"] == answer["version"]
    off = _by_date(during)
    for day in ("2026-03-02", "2026-03-03", "2026-03-04"):
        assert (off[day]["working"], off[day]["note"]) == (False, "stock-take")
    assert off["2026-03-05"]["working"] is True
    listed = await stack.http.get(EXCEPTIONS, headers=stack.token("x", "quality"))
    assert [e["id"] for e in listed.json()] == [exception["id"]]
    for touching, ids in (
        ({"from": "2026-03-04"}, [exception["id"]]),
        ({"from": "2026-03-05"}, []),
    ):
        response = await stack.http.get(EXCEPTIONS, params=touching, headers=planner)
        assert [e["id"] for e in response.json()] == ids

    deleted = await stack.http.delete(f"{EXCEPTIONS}/{exception['id']}", headers=planner)
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["version"] == before["version"]
    assert deleted.json()["change"] == answer["change"] + 1
    after = await _days(stack, "2026-03-01", "2026-03-10")
    assert after["days"] == before["days"]
    again = await stack.http.delete(f"{EXCEPTIONS}/{exception['id']}", headers=planner)
    assert again.status_code == 404
    assert (await stack.http.get(EXCEPTIONS, headers=planner)).json() == []


async def test_changed_shifts_and_an_extra_working_day(stack: Stack) -> None:
    planner = stack.token("planner", "planning")
    shorter = {
        "kind": "shifts",
        "start": "2026-06-01",
        "end": "2026-06-05",
        "shifts": "7:30-11:30, 12:00-15:00",
        "reason": "summer hours",
    }
    response = await stack.http.post(EXCEPTIONS, json=shorter, headers=planner)
    assert response.status_code == 201, response.text
    assert response.json()["exception"]["shifts"] == ["07:30-11:30", "12:00-15:00"]
    extra = {"kind": "working_day", "start": "2026-06-06", "end": "2026-06-06", "reason": "rush"}
    assert (await stack.http.post(EXCEPTIONS, json=extra, headers=planner)).status_code == 201
    days = _by_date(await _days(stack, "2026-06-01", "2026-06-07"))
    assert days["2026-06-03"]["shifts"] == ["07:30-11:30", "12:00-15:00"]
    assert days["2026-06-06"]["working"] is True
    assert days["2026-06-06"]["shifts"] == ["08:00-12:00", "13:00-17:30"]
    assert days["2026-06-07"]["working"] is False


async def test_an_overlapping_exception_is_refused_naming_the_other(stack: Stack) -> None:
    planner = stack.token("planner", "planning")
    first = {"kind": "day_off", "start": "2026-10-08", "end": "2026-10-09", "reason": "shutdown"}
    stored = (await stack.http.post(EXCEPTIONS, json=first, headers=planner)).json()["exception"]
    second = {"kind": "working_day", "start": "2026-10-09", "end": "2026-10-10", "reason": "x"}
    refused = await stack.http.post(EXCEPTIONS, json=second, headers=planner)
    assert refused.status_code == 409
    answer = refused.json()
    assert answer["error"] == "exception_overlaps"
    assert f"exception {stored['id']} (day_off 2026-10-08..2026-10-09" in answer["detail"]
    assert answer["problems"][0]["field"] == "start"


GOOD = {"kind": "day_off", "start": "2026-11-02", "end": "2026-11-03", "reason": "audit"}


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"end": "2026-11-01"}, "end", "must not be before start"),
        ({"kind": "holiday"}, "kind", "day_off"),
        ({"kind": "shifts"}, "shifts", "required"),
        ({"kind": "shifts", "shifts": "08:00-25:00"}, "shifts", "outside 00:00 to 24:00"),
        ({"kind": "shifts", "shifts": "eight to noon"}, "shifts", "START-END"),
        ({"kind": "shifts", "shifts": "12:00-08:00"}, "shifts", "ends before it starts"),
        ({"shifts": "08:00-12:00"}, "shifts", "a day off has no shifts"),
        ({"reason": "  "}, "reason", "blank"),
        ({"start": "1999-12-31"}, "start", "2000-01-01"),
        ({"end": "2027-12-31"}, "end", "at most 366 days"),
    ],
)
async def test_a_bad_exception_is_422_naming_the_field(
    stack: Stack, change: dict[str, str], field: str, words: str
) -> None:
    response = await stack.http.post(
        EXCEPTIONS, json={**GOOD, **change}, headers=stack.token("planner", "planning")
    )
    assert response.status_code == 422, response.text
    problems = response.json()["problems"]
    assert [p["field"] for p in problems] == [field], problems
    assert words in problems[0]["problem"]


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ({"from": "2026-03-10", "to": "2026-03-01"}, "query.to", "must not be before from"),
        ({"from": "2026-01-01", "to": "2027-03-01"}, "query.to", "at most 400 days"),
        ({"from": "2026-02-30", "to": "2026-03-01"}, "query.from", "date"),
        ({"to": "2026-03-01"}, "query.from", "required"),
        ({"from": "1999-12-01", "to": "2000-01-05"}, "query.from", "2000-01-01"),
    ],
)
async def test_a_bad_range_is_422_naming_the_field(
    stack: Stack, query: dict[str, str], field: str, words: str
) -> None:
    response = await stack.http.get(CALENDAR, params=query, headers=stack.token("r", "ops"))
    assert response.status_code == 422, response.text
    problems = response.json()["problems"]
    assert [p["field"] for p in problems] == [field], problems
    assert words in problems[0]["problem"].lower()


async def test_only_planning_and_admin_change_the_calendar(stack: Stack) -> None:
    body = {**GOOD, "start": "2026-12-28", "end": "2026-12-28"}
    for role in ("sales", "ops", "head:planning", "division"):
        headers = stack.token("someone", role)
        assert (await stack.http.post(EXCEPTIONS, json=body, headers=headers)).status_code == 403
        assert (await stack.http.delete(f"{EXCEPTIONS}/1", headers=headers)).status_code == 403
        confirm = await stack.http.post(f"{CALENDAR}/years/2027/confirm", headers=headers)
        assert confirm.status_code == 403
    admin = await stack.http.post(EXCEPTIONS, json=body, headers=stack.token("root", "admin"))
    assert admin.status_code == 201


async def test_confirming_a_year_marks_its_days_confirmed(stack: Stack) -> None:
    planner = stack.token("planner", "planning")
    response = await stack.http.post(f"{CALENDAR}/years/2027/confirm", headers=planner)
    assert response.status_code == 200, response.text
    confirmed = response.json()
    assert (confirmed["year"], confirmed["country"], confirmed["confirmed_by"]) == (
        2027,
        "CN",
        "planner",
    )
    datetime.fromisoformat(confirmed["at"])
    days = await _days(stack, "2026-12-30", "2027-01-02")
    assert [d["confirmed"] for d in days["days"]] == [False, False, True, True]
    # Confirming is about the plant; what the government published stays as it was.
    assert any(not d["official"] for d in (await _days(stack, "2027-02-01", "2027-02-28"))["days"])
    out_of_range = await stack.http.post(f"{CALENDAR}/years/1999/confirm", headers=planner)
    assert out_of_range.status_code == 422
    assert out_of_range.json()["problems"][0]["field"] == "path.year"


async def test_without_visibility_the_workflows_with_open_tasks_are_told(stack: Stack) -> None:
    # The time-skipping server lists no workflows: an order waiting on a task is still told.
    order_no = await create_order(stack)
    await wait_task(stack, "engineering.contract_review", order_no)
    body = {"kind": "day_off", "start": "2026-09-07", "end": "2026-09-07", "reason": "power cut"}
    added = await stack.http.post(EXCEPTIONS, json=body, headers=stack.token("planner", "planning"))
    assert added.status_code == 201, added.text
    fanout = stack.client.get_workflow_handle(
        added.json()["workflow_id"], result_type=CalendarChangeResult
    )
    assert (await fanout.result()).signalled == 1
    history = await stack.client.get_workflow_handle(order_workflow_id(order_no)).fetch_history()
    told = [
        e.workflow_execution_signaled_event_attributes
        for e in history.events
        if e.HasField("workflow_execution_signaled_event_attributes")
        and e.workflow_execution_signaled_event_attributes.signal_name == CALENDAR_CHANGED
    ]
    assert len(told) == 1
