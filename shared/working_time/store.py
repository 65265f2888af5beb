"""The plant's calendar exceptions in PostgreSQL (schema `calendar`), and the calendar the
activities and the API compute with: the settings, the public holidays and the exceptions.

Written only through these functions (planning's API calls them); read by every activity that
sets a clock, through `CalendarSource`."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from shared.settings import Settings
from shared.working_time.calendar import FactoryCalendar


class CalendarSource:
    """The current factory calendar for the activities of one worker or gateway process."""

    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings

    async def current(self) -> FactoryCalendar:
        """The calendar as it stands now (settings, public holidays, stored exceptions)."""
        raise NotImplementedError
