"""The factory calendar tests compute their expectations with: built from the settings (default:
Shanghai, MON-FRI, China's public holidays) without the database, like `CalendarSource` minus
the plant's stored exceptions."""

from __future__ import annotations

from typing import Any

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
