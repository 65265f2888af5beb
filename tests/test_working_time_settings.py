"""The plant's working time as people write it (issue 13): shifts and work weeks as text, and
the settings the factory calendar is read from, each refused with its variable."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from shared.settings import Settings
from shared.working_time.data import Shift
from shared.working_time.public import public_calendar
from shared.working_time.text import (
    format_shifts,
    format_work_week,
    parse_shifts,
    parse_work_week,
)

# -- text ---------------------------------------------------------------------------------------


def test_shifts_and_work_weeks_read_as_people_write_them() -> None:
    assert parse_shifts("08:00-12:00, 13:00-17:30") == (Shift(480, 720), Shift(780, 1050))
    assert parse_shifts("00:00-06:00,22:00-24:00") == (Shift(0, 360), Shift(1320, 1440))
    assert format_shifts(parse_shifts("00:00-06:00,22:00-24:00")) == "00:00-06:00,22:00-24:00"
    assert parse_work_week("MON-FRI") == frozenset(range(5))
    assert parse_work_week("mon,tue,thu") == frozenset({0, 1, 3})
    assert parse_work_week("MON-SAT") == frozenset(range(6))
    assert parse_work_week("SAT-MON") == frozenset({5, 6, 0})
    assert format_work_week(frozenset({4, 0})) == "MON,FRI"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "no shifts"),
        ("08:00", "START-END"),
        ("12:00-08:00", "ends before it starts"),
        ("08:00-12:00,11:00-13:00", "starts before the shift before it"),
        ("13:00-17:00,08:00-12:00", "in order"),
        ("08:00-24:01", "outside 00:00 to 24:00"),
        ("24:00-24:00", "ends before it starts"),
        ("8h-12h", "not a time"),
    ],
)
def test_bad_shifts_say_what_to_write(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_shifts(text)


@pytest.mark.parametrize(
    ("text", "says"),
    [("", "no working weekdays"), ("MON-FRX", "MON, TUE, WED"), ("MON-TUE-WED", "range")],
)
def test_bad_work_weeks_say_what_to_write(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_work_week(text)


# -- settings -----------------------------------------------------------------------------------


def test_the_default_settings_are_a_chinese_plant() -> None:
    settings = Settings()
    data = settings.calendar_data(public_calendar(settings.holidays_country, range(2026, 2027)))
    assert data.zone == "Asia/Shanghai" and data.basis == "working"
    assert data.shifts == (Shift(480, 720), Shift(780, 1050))
    assert data.work_week == frozenset(range(5))
    assert data.public.country == "CN"
    assert Settings(holidays_country="none").holidays_country == "none"
    assert Settings(holidays_country="de").holidays_country == "DE"


@pytest.mark.parametrize(
    ("changes", "variable"),
    [
        ({"timezone": "Asia/Beijing"}, "ORDERFLOW_TIMEZONE"),
        ({"timezone": ""}, "ORDERFLOW_TIMEZONE"),
        ({"shifts": "08:00-12:00,11:00-17:30"}, "ORDERFLOW_SHIFTS"),
        ({"shifts": "8-17"}, "ORDERFLOW_SHIFTS"),
        ({"work_week": "MO-FR"}, "ORDERFLOW_WORK_WEEK"),
        ({"work_week": ""}, "ORDERFLOW_WORK_WEEK"),
        ({"holidays_country": "ZZ"}, "ORDERFLOW_HOLIDAYS_COUNTRY"),
        ({"clock_basis": "elapsed"}, "clock_basis"),
    ],
)
def test_bad_calendar_settings_name_their_variable(changes: dict[str, Any], variable: str) -> None:
    with pytest.raises(ValidationError, match=variable):
        Settings(**changes)


def test_calendar_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERFLOW_TIMEZONE", "Europe/Berlin")
    monkeypatch.setenv("ORDERFLOW_SHIFTS", "06:00-14:00")
    monkeypatch.setenv("ORDERFLOW_WORK_WEEK", "MON-SAT")
    monkeypatch.setenv("ORDERFLOW_CLOCK_BASIS", "wall")
    data = Settings().calendar_data(public_calendar(None, range(2026, 2027)))
    assert (data.zone, data.shifts, data.work_week, data.basis) == (
        "Europe/Berlin",
        (Shift(360, 840),),
        frozenset(range(6)),
        "wall",
    )
