"""Whether a scheduled run works on the plant's day (issue 13): the rules the daily MRP and the
unshipped list follow, pure over the factory calendar; their activities answer with them.

- Daily MRP: runs on the plant's working days only; on a day off (weekend, public holiday,
  the plant's own shutdown) the run records that it skipped and ends. A make-up working day
  (China's 调休 Saturday) is a working day: it runs.
- Weekly unshipped list: runs on its weekday (`unshipped_weekday`); when that day is off it
  runs on the next working day instead. Its schedule starts a run every day; the run works
  only on the first working day on or after the week's `unshipped_weekday`, and otherwise
  records why not and ends.
- The plan reports always run: a report is data nobody has to act on.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pydantic import BaseModel

from shared.schedule_times import weekday_number
from shared.working_time.calendar import FactoryCalendar


# The plant's day a scheduled run falls on, and whether the run does its work on it.
class PlantDay(BaseModel):
    day: date  # the plant's local date at the run's time
    working: bool
    runs: bool
    reason: str  # why it runs or not, for the run's summary and result


def _what(calendar: FactoryCalendar, day: date) -> str:
    """`2027-02-08 (Monday, 春节)`: the day and why it is what it is."""
    note = calendar.day(day).note
    return f"{day.isoformat()} ({day:%A}{', ' + note if note else ''})"


def daily_mrp_day(calendar: FactoryCalendar, at: datetime) -> PlantDay:
    """The daily MRP runs on working days and skips days off."""
    day = calendar.local_date(at)
    working = calendar.is_working_day(day)
    if working:
        return PlantDay(day=day, working=True, runs=True, reason=f"{_what(calendar, day)} works")
    reason = f"skipped: {_what(calendar, day)} is not a working day"
    return PlantDay(day=day, working=False, runs=False, reason=reason)


def last_weekday(day: date, weekday: str) -> date:
    """The latest date on or before `day` that falls on `weekday` (`MON`..`SUN`)."""
    # Python counts Monday as 0, Temporal (and the settings' numbering) Sunday as 0.
    wanted = (weekday_number(weekday) - 1) % 7
    return day - timedelta(days=(day.weekday() - wanted) % 7)


def unshipped_day(calendar: FactoryCalendar, at: datetime, weekday: str) -> PlantDay:
    """The unshipped list runs on the first working day on or after its weekday."""
    day = calendar.local_date(at)
    due = last_weekday(day, weekday)
    working = calendar.is_working_day(day)
    runs = working and calendar.next_working_day(due) == day
    if runs and due == day:
        reason = f"{_what(calendar, day)}: the list's weekday"
    elif runs:
        reason = f"{_what(calendar, day)}: {weekday} {due.isoformat()} was not a working day"
    elif not working:
        reason = f"skipped: {_what(calendar, day)} is not a working day"
    else:
        reason = f"skipped: {_what(calendar, day)} is not the list's day ({weekday})"
    return PlantDay(day=day, working=working, runs=runs, reason=reason)
