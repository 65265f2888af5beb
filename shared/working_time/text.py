"""The calendar's settings as people write them: shifts (`08:00-12:00,13:00-17:30`) and work
weeks (`MON-FRI`, `MON,TUE,THU`). Errors say what to write instead."""

from __future__ import annotations

import re

from shared.working_time.data import MINUTES_PER_DAY, Shift

WEEKDAYS: tuple[str, ...] = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
_TIME = re.compile(r"(\d{1,2}):(\d{2})")


def parse_time(text: str) -> int:
    """Minutes after midnight of `HH:MM` (00:00 to 24:00)."""
    match = _TIME.fullmatch(text.strip())
    if not match:
        raise ValueError(f"{text.strip()!r} is not a time: write HH:MM, e.g. 08:00 or 17:30")
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours * 60 + minutes > MINUTES_PER_DAY:
        raise ValueError(f"{text.strip()!r} is outside 00:00 to 24:00")
    return hours * 60 + minutes


def format_time(minutes: int) -> str:
    """`HH:MM` for minutes after midnight (1440 is 24:00)."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_shifts(text: str) -> tuple[Shift, ...]:
    """The shifts of `08:00-12:00,13:00-17:30`: in order, not overlapping, 24:00 allowed as an
    end (a night shift past midnight is two shifts: `00:00-06:00,22:00-24:00`)."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        raise ValueError("no shifts given: write them as 08:00-12:00,13:00-17:30")
    shifts: list[Shift] = []
    for part in parts:
        bounds = part.split("-")
        if len(bounds) != 2:
            raise ValueError(f"shift {part!r} is not START-END: write e.g. 08:00-12:00")
        start, end = parse_time(bounds[0]), parse_time(bounds[1])
        if end <= start:
            raise ValueError(
                f"shift {part!r} ends before it starts: a shift past midnight is two shifts "
                "(00:00-06:00,22:00-24:00)"
            )
        if shifts and start < shifts[-1].end:
            previous = format_shifts((shifts[-1],))
            raise ValueError(
                f"shift {part!r} starts before the shift before it ({previous}) ends: list "
                "shifts in order of the day without overlaps"
            )
        shifts.append(Shift(start, end))
    return tuple(shifts)


def format_shifts(shifts: tuple[Shift, ...]) -> str:
    """Shifts as `parse_shifts` reads them: `08:00-12:00,13:00-17:30`."""
    return ",".join(f"{format_time(s.start)}-{format_time(s.end)}" for s in shifts)


def parse_work_week(text: str) -> frozenset[int]:
    """The weekdays (0 is Monday) of `MON-FRI`, `MON,TUE,THU` or `MON-SAT`; a range may wrap
    round the week end (`SAT-WED`)."""
    days: set[int] = set()
    for part in (p.strip().upper() for p in text.split(",")):
        if not part:
            continue
        names = part.split("-")
        if len(names) > 2:
            raise ValueError(f"{part!r} is not a weekday or a range like MON-FRI")
        first, last = (_weekday(n) for n in (names[0], names[-1]))
        days.update((first + i) % 7 for i in range((last - first) % 7 + 1))
    if not days:
        raise ValueError("no working weekdays given: write e.g. MON-FRI or MON,TUE,THU")
    return frozenset(days)


def format_work_week(days: frozenset[int]) -> str:
    """The weekdays as `MON,TUE,WED`, Monday first."""
    return ",".join(WEEKDAYS[d] for d in sorted(days))


def _weekday(name: str) -> int:
    key = name.strip().upper()
    if key not in WEEKDAYS:
        raise ValueError(f"unknown weekday {name.strip()!r}: use {', '.join(WEEKDAYS)}")
    return WEEKDAYS.index(key)
