"""Production activities: what the production task queue serves.

Today that is the department's inbox and its escalations; the department's own automatic work
joins this list with the phases it owns.
"""

from __future__ import annotations

from shared.escalations.activities import EscalationActivities
from shared.tasks.activities import TaskActivities

ACTIVITIES: list[type] = [TaskActivities, EscalationActivities]
