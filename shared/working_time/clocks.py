"""The clocks a workflow sets, declared by their basis and resolved by an activity against the
factory calendar (workflow code never reads the calendar itself), and the signal that tells a
running workflow the calendar changed so it resolves its open clocks again."""

from __future__ import annotations

from pydantic import BaseModel

# The signal every workflow with clocks takes when the plant's calendar changes.
CALENDAR_CHANGED = "calendar_changed"


class CalendarChanged(BaseModel):
    """The calendar now has `version`: clocks resolved under another version are re-timed."""

    version: str
