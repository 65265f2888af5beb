"""The desk's charts, drawn on the server as inline SVG: the master plan as a Gantt (one row per
milestone: planned, forecast and actual on a date axis) and plain bar charts for the KPIs. No
chart library: the geometry is a few lines of arithmetic, and the page stays one HTML answer
that works without script."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

# Gantt geometry, in SVG user units (the SVG scales to the page's width).
LABEL_WIDTH = 170
PLOT_WIDTH = 640
ROW_HEIGHT = 26
AXIS_HEIGHT = 28


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class GanttRow:
    name: str
    y: float
    planned: date
    forecast: date
    actual: date | None
    planned_x: float
    forecast_x: float
    actual_x: float | None
    # The forecast or the actual lies after the planned date.
    late: bool


@dataclass(frozen=True)
class Gantt:
    width: int
    height: int
    plot_left: int
    plot_right: int
    rows: list[GanttRow]
    ticks: list[Tick]
    today_x: float | None


def _day(value: Any) -> date | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def gantt(milestones: dict[str, Any], today: date, order: tuple[str, ...] = ()) -> Gantt | None:
    """The Gantt of one plan revision's milestones (`{name: {planned, forecast, actual}}`, as
    `GET /planning/orders/{no}/plan` gives them), rows in `order` first, then by planned date;
    None for a plan without milestones."""
    parsed: list[tuple[str, date, date, date | None]] = []
    for name, dates in milestones.items():
        planned = _day(dates.get("planned") if isinstance(dates, dict) else dates)
        if planned is None:
            continue
        forecast = _day(dates.get("forecast")) if isinstance(dates, dict) else None
        actual = _day(dates.get("actual")) if isinstance(dates, dict) else None
        parsed.append((name, planned, forecast or planned, actual))
    if not parsed:
        return None
    rank = {name: i for i, name in enumerate(order)}
    parsed.sort(key=lambda row: (rank.get(row[0], len(rank)), row[1], row[0]))
    days = [d for _, p, f, a in parsed for d in (p, f, a) if d is not None]
    # A few days either side so that the first and last markers are not on the frame.
    start = min(days) - timedelta(days=3)
    end = max(days) + timedelta(days=3)
    span = max((end - start).days, 1)
    left, right = LABEL_WIDTH, LABEL_WIDTH + PLOT_WIDTH

    def x(day: date) -> float:
        return round(left + (day - start).days * PLOT_WIDTH / span, 1)

    rows = [
        GanttRow(
            name=name,
            y=AXIS_HEIGHT + i * ROW_HEIGHT + ROW_HEIGHT / 2,
            planned=planned,
            forecast=forecast,
            actual=actual,
            planned_x=x(planned),
            forecast_x=x(forecast),
            actual_x=x(actual) if actual else None,
            late=(actual or forecast) > planned,
        )
        for i, (name, planned, forecast, actual) in enumerate(parsed)
    ]
    return Gantt(
        width=right + 20,
        height=AXIS_HEIGHT + len(rows) * ROW_HEIGHT + 8,
        plot_left=left,
        plot_right=right,
        rows=rows,
        ticks=[Tick(x(day), label) for day, label in _ticks(start, end)],
        today_x=x(today) if start <= today <= end else None,
    )


def _ticks(start: date, end: date) -> list[tuple[date, str]]:
    """Axis ticks: Mondays for a plan of up to ~3 months, else the first of each month."""
    if (end - start).days <= 100:
        day = start + timedelta(days=(7 - start.weekday()) % 7)
        step = 7 if (end - start).days > 21 else 1
        found = []
        while day <= end:
            found.append((day, f"{day:%m-%d}"))
            day += timedelta(days=step)
        return found
    day = (start.replace(day=1) + timedelta(days=32)).replace(day=1)
    found = []
    while day <= end:
        found.append((day, f"{day:%Y-%m}"))
        day = (day + timedelta(days=32)).replace(day=1)
    return found


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    text: str
    y: float
    width: float


@dataclass(frozen=True)
class Bars:
    width: int
    height: int
    label_width: int
    bars: list[Bar] = field(default_factory=list)


BAR_LABEL_WIDTH = 190
BAR_PLOT_WIDTH = 360
BAR_HEIGHT = 22


def bars(points: list[tuple[str, float | None, str]], top: float | None = None) -> Bars:
    """A horizontal bar chart of `(label, value, text)` points; `top` is the full-width value
    (1.0 for rates; default the largest value). A point without a value draws no bar."""
    values = [v for _, v, _ in points if v is not None]
    scale = top if top is not None else max(values, default=0.0)
    return Bars(
        width=BAR_LABEL_WIDTH + BAR_PLOT_WIDTH + 70,
        height=len(points) * BAR_HEIGHT + 6,
        label_width=BAR_LABEL_WIDTH,
        bars=[
            Bar(
                label=label,
                value=value,
                text=text,
                y=3 + i * BAR_HEIGHT,
                width=round(BAR_PLOT_WIDTH * value / scale, 1) if value and scale else 0.0,
            )
            for i, (label, value, text) in enumerate(points)
        ],
    )
