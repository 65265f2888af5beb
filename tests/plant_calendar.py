"""The factory calendar tests compute their expectations with: built from the settings (default:
Shanghai, MON-FRI, China's public holidays) without the database, like `CalendarSource` minus
the plant's stored exceptions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shared.schedule_times import WEEKDAYS
from shared.settings import Settings
from shared.working_time.calendar import FactoryCalendar
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


# Settings of a plant that works every day (no public holidays): a scheduled run that skips
# days off works on whatever day the suite runs.
EVERY_DAY: dict[str, Any] = {"work_week": "MON-SUN", "holidays_country": "none"}


def plant_weekday(settings: Settings, days_on: int = 0) -> str:
    """The plant's local weekday (`MON`..`SUN`) now, or `days_on` days from now."""
    today = datetime.now(UTC).astimezone(ZoneInfo(settings.timezone)).date()
    return WEEKDAYS[(today + timedelta(days=days_on)).isoweekday() % 7]
