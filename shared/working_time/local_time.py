"""The plant's wall clock and UTC: local dates of instants and the instants of local wall times,
through daylight saving changes (a wall time in a spring-forward gap or in a repeated fall-back
hour), safe at the ends of the calendar (pure functions, no clock reads)."""

from __future__ import annotations

from datetime import MAXYEAR, UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def require_aware(instant: datetime) -> None:
    """Refuse an instant without a time zone (`ValueError` saying what to give)."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(
            f"{instant.isoformat()} has no time zone: give instants with an offset (UTC or the "
            "plant's zone)"
        )


def local_date(zone: ZoneInfo, instant: datetime) -> date:
    """The local date in `zone` at the aware `instant`."""
    require_aware(instant)
    try:
        return instant.astimezone(zone).date()
    except OverflowError:  # datetime.max/min pushed past the calendar's end by the offset
        return date.max if instant.year == MAXYEAR else date.min


def wall_instant(
    zone: ZoneInfo, day: date, since_midnight: int | timedelta, *, later: bool = False
) -> datetime:
    """The UTC instant of the local wall time `since_midnight` (minutes or a timedelta)
    after `day`'s midnight in `zone`; `later` picks the second of two fall-back instants."""
    offset = (
        since_midnight
        if isinstance(since_midnight, timedelta)
        else timedelta(minutes=since_midnight)
    )
    try:
        wall = datetime.combine(day, time()) + offset
    except OverflowError:  # 24:00 on 9999-12-31
        return datetime.max.replace(tzinfo=UTC)
    return to_utc(zone, wall, later=later)


def to_utc(zone: ZoneInfo, wall: datetime, *, later: bool) -> datetime:
    """The UTC instant of the naive local `wall` time in `zone`: the first (or, with `later`,
    the second) of a repeated one, the transition itself for one that does not exist."""
    try:
        first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
        second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    except OverflowError:  # the zone's offset pushes the instant past year 1 or 9999
        edge = datetime.max if wall.year == MAXYEAR else datetime.min
        return edge.replace(tzinfo=UTC)
    if first == second:
        return first
    if first < second:  # fall back: the wall time happens twice
        return second if later else first
    # Spring forward: the wall time does not exist; the first instant that does is the
    # transition, between the two readings (second < first).
    return _transition(zone, second, first)


def _transition(zone: ZoneInfo, before: datetime, after: datetime) -> datetime:
    """The instant in [before, after] where the zone's offset changes (to the second)."""
    offset = after.astimezone(zone).utcoffset()
    while after - before > timedelta(seconds=1):
        middle = before + (after - before) / 2
        if middle.astimezone(zone).utcoffset() == offset:
            after = middle
        else:
            before = middle
    return after.replace(microsecond=0)


def since_midnight(zone: ZoneInfo, day: date, instant: datetime) -> timedelta:
    """The local wall time of `instant` counted from `day`'s midnight (24:00 allowed)."""
    wall = instant.astimezone(zone).replace(tzinfo=None)
    return wall - datetime.combine(day, time())
