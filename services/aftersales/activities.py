"""Aftersales activities: what the aftersales task queue serves.

The department's inbox and its escalations, and the steps of a service case (售后) its
workflow records on the case and the order's timeline.
"""

from __future__ import annotations

from temporalio import activity

from services.aftersales.service import record_step
from shared.activities import DbActivities
from shared.aftersales_types import CaseStep
from shared.db import session_scope
from shared.escalations.activities import EscalationActivities
from shared.tasks.activities import TaskActivities


class AftersalesActivities(DbActivities):
    """The department's automatic work; the worker registers the bound methods."""

    @activity.defn
    async def case_step(self, step: CaseStep) -> None:
        """A service case responded to, reached on site or resolved: on the case and on its
        order's timeline (a retry changes nothing)."""
        async with session_scope(self._engine) as session:
            await record_step(session, step)


ACTIVITIES: list[type] = [TaskActivities, EscalationActivities, AftersalesActivities]
