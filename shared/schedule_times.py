"""Times of day and weekdays as the settings give them, in Temporal's calendar numbering."""

from __future__ import annotations

# Weekday names as settings give them, in Temporal's day-of-week numbering (0 is Sunday).
WEEKDAYS: tuple[str, ...] = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


def hour_minute(text: str) -> tuple[int, int]:
    """Read `HH:MM` (00:00 to 23:59); ValueError otherwise."""
    hour_text, sep, minute_text = text.partition(":")
    digits = (hour_text + minute_text).isdigit() and len(hour_text) == len(minute_text) == 2
    if not (sep and digits):
        raise ValueError(f"{text!r} is not a time of day as HH:MM")
    hour, minute = int(hour_text), int(minute_text)
    if hour > 23 or minute > 59:
        raise ValueError(f"{text!r} is not a time of day as HH:MM")
    return hour, minute


def weekday_number(name: str) -> int:
    """Temporal's day of week (0 Sunday to 6 Saturday) of `MON`..`SUN`; ValueError otherwise."""
    if name not in WEEKDAYS:
        raise ValueError(f"{name!r} is not a weekday (MON, TUE, WED, THU, FRI, SAT or SUN)")
    return WEEKDAYS.index(name)
