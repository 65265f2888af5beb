"""Pure scheduling rules of the planner: working days, delivery proposals, plan proposals.

No I/O: the activities read the workshop's load, the settings and the factory calendar
(`CalendarSource`), then call these. Working days are the plant's calendar's.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

from shared.payloads import MILESTONES
from shared.working_time.calendar import FactoryCalendar

# Which department answers for each milestone (its head is escalated to when it slips).
MILESTONE_OWNERS: dict[str, str] = {
    "design_done": "engineering",
    "bom_release": "engineering",
    "drawings_release": "engineering",
    "material_required": "procurement",
    "production_start": "production",
    "production_end": "production",
    "final_inspection": "quality",
    "ship": "sales",
}

# Working days engineering needs after the BOM to finish the drawing set.
DRAWINGS_AFTER_BOM_DAYS = 2


def is_working_day(calendar: FactoryCalendar, day: date) -> bool:
    """Whether the plant works on the local date `day` (its work week, public holidays and
    make-up working days, its own exceptions)."""
    return calendar.is_working_day(day)


def next_working_day(calendar: FactoryCalendar, day: date) -> date:
    """`day` itself when it is a working day, else the next one."""
    return calendar.next_working_day(day)


def add_working_days(calendar: FactoryCalendar, start: date, days: int) -> date:
    """The working day `days` working days after the first working day from `start`."""
    # Counted from `next_working_day(start)`, so that a start on a day off counts from the
    # day work resumes (the planner's rule since Monday-to-Friday plans).
    day = calendar.next_working_day(start)
    for _ in range(days):
        day = calendar.next_working_day(day + timedelta(days=1))
    return day


def working_days_between(calendar: FactoryCalendar, start: date, end: date) -> int:
    """How many working days after `start` `end` falls (0 when end <= start)."""
    return calendar.working_days_between(start, end)


def weekdays_between(
    start: date, end: date, days_off: Collection[date] = (), extra_days: Collection[date] = ()
) -> int:
    """How many working days after `start` `end` falls (0 when end <= start), counting
    Mondays to Fridays but `days_off`, and `extra_days`.

    For workflow code only (the master plan's production-window rule in workflows/plan.py),
    which cannot read the calendar: the plan proposal brings the calendar's exceptions to
    Monday-Friday as data (`PlanProposal.days_off`, `extra_days`); everything else counts with
    `working_days_between`."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if (day.weekday() < 5 and day not in days_off) or day in extra_days:
            count += 1
    return count


def calendar_exceptions(
    calendar: FactoryCalendar, start: date, end: date
) -> tuple[list[date], list[date]]:
    """The days start..end where the calendar differs from Monday to Friday: (Mondays to
    Fridays off, other days worked)."""
    days_off, extra = [], []
    day = start
    while day <= end:
        working = calendar.is_working_day(day)
        if day.weekday() < 5 and not working:
            days_off.append(day)
        elif day.weekday() >= 5 and working:
            extra.append(day)
        day += timedelta(days=1)
    return days_off, extra


# Figures the workshop plans by (from settings).
@dataclass(frozen=True)
class Capacity:
    production_days: int
    inspection_days: int
    ship_days: int
    workshop_capacity: int


# An order already holding the workshop: its production window.
@dataclass(frozen=True)
class Booking:
    start: date
    end: date


def first_free_start(
    calendar: FactoryCalendar, earliest: date, capacity: Capacity, bookings: list[Booking]
) -> date:
    """The first working day from `earliest` at which the workshop has room for a new order."""
    start = calendar.next_working_day(earliest)
    for _ in range(366):
        end = add_working_days(calendar, start, capacity.production_days)
        overlapping = [b for b in bookings if b.start <= end and b.end >= start]
        if len(overlapping) < capacity.workshop_capacity:
            return start
        start = calendar.next_working_day(min(b.end for b in overlapping) + timedelta(days=1))
    return start


def propose_milestones(
    *,
    calendar: FactoryCalendar,
    today: date,
    design_days: int,
    lead_days: int,
    capacity: Capacity,
    bookings: list[Booking],
) -> dict[str, date]:
    """The eight master-plan dates from the review figures and the workshop's load.

    Design takes `design_days` working days; the BOM is released when design is done, the
    drawings two working days later; material arrives `lead_days` calendar days after the BOM;
    production starts when both are there and the workshop has room. Working days are the
    plant's (`calendar`): a plan across the Spring Festival is longer by its days off.
    """
    design_done = add_working_days(calendar, today, design_days)
    bom_release = design_done
    drawings_release = add_working_days(calendar, bom_release, DRAWINGS_AFTER_BOM_DAYS)
    material_required = calendar.next_working_day(bom_release + timedelta(days=lead_days))
    earliest_start = max(material_required, drawings_release)
    production_start = first_free_start(calendar, earliest_start, capacity, bookings)
    production_end = add_working_days(calendar, production_start, capacity.production_days)
    final_inspection = add_working_days(calendar, production_end, capacity.inspection_days)
    ship = add_working_days(calendar, final_inspection, capacity.ship_days)
    plan = {
        "design_done": design_done,
        "bom_release": bom_release,
        "drawings_release": drawings_release,
        "material_required": material_required,
        "production_start": production_start,
        "production_end": production_end,
        "final_inspection": final_inspection,
        "ship": ship,
    }
    assert list(plan) == list(MILESTONES)
    return plan


def shift_forecast(
    planned: dict[str, date], forecast: dict[str, date], slipped: str, new_date: date
) -> dict[str, date]:
    """Forecast `slipped` for `new_date` and keep every later milestone at least its planned
    distance behind it; never earlier than forecast before.

    Distances come from the plan, not the forecast, so two milestones slipping on the same
    day (in either order) move the rest once, not twice.
    """
    shifted = dict(forecast)
    shifted[slipped] = max(forecast[slipped], new_date)
    start = MILESTONES.index(slipped)
    for name in MILESTONES[start + 1 :]:
        behind = planned[name] - planned[slipped]
        shifted[name] = max(forecast[name], shifted[slipped] + behind)
    return shifted
