"""The factory calendar tests compute their expectations with: built from the settings (default:
Shanghai, MON-FRI, China's public holidays) without the database, like `CalendarSource` minus
the plant's stored exceptions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shared.schedule_times import WEEKDAYS
from shared.settings import Settings
from shared.working_time.calendar import FactoryCalendar
from shared.working_time.data import CalendarException, ExceptionKind, Shift
from shared.working_time.public import public_calendar

# The years the tests' dates fall in (the property tests draw from 2024 to 2030).
YEARS = range(2023, 2032)


def plant_calendar(settings: Settings | None = None, **overrides: Any) -> FactoryCalendar:
    """The calendar of `settings` (or the defaults) with `overrides` (e.g.
    holidays_country="none" for a plain Monday-to-Friday week)."""
    base = settings or Settings()
    if overrides:
        base = base.model_copy(update=overrides)
    public = public_calendar(base.holidays_country, YEARS)
    return FactoryCalendar(base.calendar_data(public))


# The plant's default calendar (Asia/Shanghai, 08:00-12:00 and 13:00-17:30, Monday to Friday,
# China's public holidays, working time): what the tests of working time itself run on, while
# the process tests run on tests/conftest.py's LEGACY_CLOCKS.
PLANT_CLOCKS: dict[str, Any] = {
    "clock_basis": "working",
    "timezone": "Asia/Shanghai",
    "shifts": "08:00-12:00,13:00-17:30",
    "work_week": "MON-FRI",
    "holidays_country": "CN",
}


# Settings of a plant that works every day (no public holidays): a scheduled run that skips
# days off works on whatever day the suite runs.
EVERY_DAY: dict[str, Any] = {"work_week": "MON-SUN", "holidays_country": "none"}


def plant_weekday(settings: Settings, days_on: int = 0) -> str:
    """The plant's local weekday (`MON`..`SUN`) now, or `days_on` days from now."""
    today = datetime.now(UTC).astimezone(ZoneInfo(settings.timezone)).date()
    return WEEKDAYS[(today + timedelta(days=days_on)).isoweekday() % 7]


# -- for the factory calendar's own tests (tests/test_working_time*.py) -------------------------

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
HOUR = timedelta(hours=1)


def calendar(
    exceptions: tuple[CalendarException, ...] = (), years: range = range(2025, 2028), **changes: Any
) -> FactoryCalendar:
    """The calendar of the default settings (Shanghai, 08:00-12:00/13:00-17:30, MON-FRI, CN)
    with `changes`."""
    settings = Settings(**changes)
    public = public_calendar(settings.holidays_country, years)
    return FactoryCalendar(settings.calendar_data(public, exceptions))


def shanghai(*parts: int) -> datetime:
    """The instant of a wall time in Shanghai (year, month, day, hour[, minute])."""
    return datetime(*parts).replace(tzinfo=SHANGHAI)  # type: ignore[arg-type]


def berlin(*parts: int) -> datetime:
    """The instant of a wall time in Berlin."""
    return datetime(*parts).replace(tzinfo=BERLIN)  # type: ignore[arg-type]


def off(
    day: date,
    reason: str = "stock-take",
    kind: ExceptionKind = "day_off",
    end: date | None = None,
    shifts: tuple[Shift, ...] = (),
) -> CalendarException:
    """A plant exception for `day` (to `end`), a day off unless `kind` says otherwise."""
    return CalendarException(1, kind, day, end or day, reason, shifts)
