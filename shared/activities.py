"""What every activity class holds: the database engine, the settings it reads and the factory
calendar its clocks count in."""

from __future__ import annotations

from functools import cached_property

from sqlalchemy.ext.asyncio import AsyncEngine

from shared.settings import Settings
from shared.working_time.store import CalendarSource


class DbActivities:
    """Base of the activity classes; the worker registers their bound `@activity.defn` methods."""

    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings

    @cached_property
    def calendar(self) -> CalendarSource:
        """The plant's calendar, as the stored exceptions make it now."""
        return CalendarSource(self._engine, self._settings)
