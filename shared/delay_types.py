"""The planner's delivery-delay warning raised by hand (§2.4, 《交期延误项目预警》): the
order's update `warn_delay` and what it answers."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel


# The planner's warning: the milestone that slips (the ship date by default) and its new date,
# why, and the countermeasure sales and the division are to know.
class DelayWarning(BaseModel):
    milestone: str = "ship"
    new_date: date
    reason: str
    countermeasure: str
    by: str
    # The gateway's signed assertion of `by` for this update (shared/actor.py).
    assertion: str | None = None


# What the order made of it: the warning's number on the order, the ship forecast after the
# re-forecast, and how many days that lies past the due date (0 when it does not).
class DelayWarned(BaseModel):
    order_no: str
    number: int
    milestone: str
    new_date: date
    forecast_ship: date
    due_date: date | None
    late_days: int
    warned: list[str]
