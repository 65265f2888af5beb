"""What every activity class holds: the database engine and the settings it reads."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from shared.settings import Settings


class DbActivities:
    """Base of the activity classes; the worker registers their bound `@activity.defn` methods."""

    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings
