"""The activity that resolves a workflow's clocks against the factory calendar (served on the
planning queue: planning keeps the calendar)."""

from __future__ import annotations

from temporalio import activity

from shared.activities import DbActivities
from shared.working_time.clocks import ClockSpec, ResolvedClocks, resolve


class ClockActivities(DbActivities):
    """Resolves clocks against the calendar as it stands when asked."""

    @activity.defn
    async def resolve_clocks(self, specs: list[ClockSpec]) -> ResolvedClocks:
        """The instants of `specs` on the current calendar, and its version."""
        calendar = await self.calendar.current()
        return ResolvedClocks(
            version=calendar.version, instants=[resolve(spec, calendar) for spec in specs]
        )
