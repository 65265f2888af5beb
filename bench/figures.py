"""What every benchmark returns: figures, each beside the floor it is judged against.

A benchmark module `bench/bench_<name>.py` exposes `async def measure(size: Size) ->
list[Figure]`. `size` is "tiny" when `make test` runs it once so it cannot rot (seconds, no
target judged) and "full" under `make bench`. A figure that has a floor (the bare engine's
figure, measured in the same run) prints as a ratio; a target says what the ratio or the
value must stay within, and `ok` whether this run met it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Size = Literal["tiny", "full"]


@dataclass(frozen=True)
class Figure:
    bench: str  # which benchmark, e.g. "completion"
    name: str  # what was measured, e.g. "p50, 1 client"
    value: float
    unit: str  # "ms", "s", "orders/s", "MiB", "events"
    floor: float | None = None  # the bare engine's figure in the same run, same unit
    target: str | None = None  # e.g. "<= 3x floor", "< 2 s"
    ok: bool | None = None  # whether this run met the target (None: no target)

    @property
    def ratio(self) -> float | None:
        """The figure against its floor (how many times the bare engine's figure)."""
        if self.floor is None or self.floor == 0:
            return None
        return self.value / self.floor


def table(figures: list[Figure]) -> str:
    """One plain-text table of the figures, ratios beside their floors."""
    header = ("bench", "figure", "value", "floor", "ratio", "target", "met")
    rows = [header]
    for f in figures:
        ratio = f.ratio
        rows.append(
            (
                f.bench,
                f.name,
                f"{f.value:.4g} {f.unit}",
                "" if f.floor is None else f"{f.floor:.4g} {f.unit}",
                "" if ratio is None else f"{ratio:.2f}x",
                f.target or "",
                "" if f.ok is None else ("yes" if f.ok else "NO"),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def percentile(values: list[float], q: float) -> float:
    """The `q` quantile (0.5: median, 0.99: p99) of `values`, nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(len(ordered) * q) - 1))]
