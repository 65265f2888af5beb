"""The building blocks of the `orderflow` command's views: one value as a cell, a table of rows,
a mapping as key and value (nested objects as nested tables), flags and percentages."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

NONE = "-"
# KPI fields that are fractions (0.75 is 75 %), shown as percentages.
SHARES = frozenset({"rate", "compliance"})


def cell(value: Any) -> str:
    """One value as a table shows it: times to the minute, empty as a dash."""
    if value is None or value == "" or value == []:
        return NONE
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and len(value) > 10 and value[4:5] == "-" and "T" in value:
        try:
            return f"{datetime.fromisoformat(value.replace('Z', '+00:00')):%Y-%m-%d %H:%M}"
        except ValueError:
            return value
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return ", ".join(str(v) for v in value)
    return str(value)


def table(
    title: str | None,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    empty: str = "nothing to show",
) -> RenderableType:
    """A table of `rows` (values through `cell`), or the `empty` sentence when there are none."""
    out = Table(show_lines=False)
    for name in columns:
        out.add_column(name, overflow="fold")
    count = 0
    for row in rows:
        out.add_row(*(v if isinstance(v, Text) else Text(cell(v)) for v in row))
        count += 1
    if not count:
        return Text(f"{title}: {empty}" if title else empty, style="dim")
    return _titled(title, out)


def key_values(title: str | None, mapping: Mapping[str, Any]) -> RenderableType:
    """A two-column table of `mapping`; nested objects and lists of objects nest as tables."""
    out = Table(show_header=False)
    out.add_column("field", style="bold")
    out.add_column("value", overflow="fold")
    for key, value in mapping.items():
        share = str(key) in SHARES or str(key).endswith("_rate")
        out.add_row(Text(str(key)), Text(rate(value)) if share else nested(value))
    return _titled(title, out)


def _titled(title: str | None, out: Table) -> RenderableType:
    """`out` under its title, a line of its own that a narrow table does not wrap (and
    literal text: an order number or a field name is never rich markup)."""
    return out if title is None else Group(Text(title, style="bold"), out)


def nested(value: Any) -> RenderableType:
    """A value inside a generic table: objects and lists of objects become tables."""
    if isinstance(value, Mapping):
        return key_values(None, value) if value else Text(NONE)
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        columns = list(dict.fromkeys(k for row in value for k in row))
        return table(None, columns, ([_inline(row.get(c)) for c in columns] for row in value))
    return Text(cell(value))


def _inline(value: Any) -> Any:
    """A value in a row of a nested table: deeper objects and lists as one line of JSON."""
    if isinstance(value, Mapping | list):
        return Text(json.dumps(value, ensure_ascii=False, default=str))
    return value


def flag(value: Any, text: str = "late") -> Text:
    """A red word when `value` is true, a dash otherwise."""
    return Text(text, style="bold red") if value else Text(NONE)


def rate(value: Any) -> str:
    """A share as a percentage (0.875 → 87.5%); anything else as the API sent it."""
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1:
        return f"{value:.1%}"
    return cell(value)
