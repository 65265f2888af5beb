"""Bounds every department's input shares: text, quantities, money, dates, lists, extra fields.

A value that passes these bounds can always be stored: every length fits its column and every
number fits its `numeric(p, s)` (tests/test_bounds_fit_columns.py walks the models and the
columns to keep it so). The validators are pure: the date horizon against "today" applies only
when the caller passes `today` in the validation context (the API does, the workflow does not:
it re-validates against the fixed outer horizon only, so it stays deterministic).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationInfo

# Column lengths the input lands in (the models' `max_length` / `String(n)`).
ITEM_LEN = 64
ORDER_NO_LEN = 64
PO_NO_LEN = 64
DCN_NO_LEN = 64
DRAWING_NUMBER_LEN = 64
DRAWING_REV_LEN = 16
SUPPLIER_LEN = 128
PERSON_LEN = 128
TASK_ID_LEN = 128
KIND_LEN = 64
REF_LEN = 200
NAME_LEN = 200
CODE_LEN = 64
# Free text with no column limit (a `text` column or JSON): long enough for a paragraph or two.
FREE_TEXT_LEN = 4000
# A query or path parameter that is no identifier of ours (anything longer is refused with 422).
PARAM_LEN = 256

# List sizes: a BOM, a drawing set, issues, defects and other lines of one payload.
BOM_LINES_MAX = 10_000
DRAWINGS_MAX = 1_000
LINES_MAX = 1_000
ISSUES_MAX = 200

# Extra payload fields are kept with the task (JSONB and the workflow's history), so they are
# bounded: at most this many, with short names, and this many bytes of JSON in all.
EXTRA_FIELDS_MAX = 20
EXTRA_BYTES_MAX = 8_192

# Dates: nothing before this, nothing after the outer horizon (which keeps date arithmetic in
# the workflow far from `date.max`), and with `today` known nothing beyond today + 20 years.
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2199, 12, 31)
HORIZON_YEARS = 20

# C0 controls except tab, newline and carriage return; DEL and C1 controls; lone surrogates
# (they cannot be encoded as UTF-8). PostgreSQL refuses NUL in text and in JSONB outright.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def refuse_control_characters(value: str) -> str:
    """`value` unchanged; ValueError when it holds a NUL or another control character."""
    found = _CONTROL.search(value)
    if found:
        raise ValueError(
            f"must not contain control characters (found U+{ord(found.group()):04X} "
            f"at position {found.start()})"
        )
    return value


# The check every text field carries. Where a length goes with it in one Annotated (an optional
# field, a list's items), the length comes first, `Annotated[str, Field(max_length=n), NoControl]`,
# so pydantic keeps its plain "String should have at most n characters".
NoControl = AfterValidator(refuse_control_characters)
# Every text field of every input model: no NUL or control characters (lengths per field).
Text = Annotated[str, NoControl]


# The precision of the numeric column a number lands in; metadata the fit test reads.
@dataclass(frozen=True)
class NumericFit:
    precision: int
    scale: int

    @property
    def integer_digits(self) -> int:
        return self.precision - self.scale

    def check(self, value: float | Decimal) -> float | Decimal:
        """`value` unchanged when it fits `numeric(precision, scale)` exactly; else ValueError.

        More decimals than the column keeps are refused, not rounded (1e-9 would round to 0).
        """
        try:
            exact = Decimal(str(value))
        except InvalidOperation:
            raise ValueError("must be a number") from None
        if not exact.is_finite():
            raise ValueError("must be a finite number")
        if exact != 0 and exact.adjusted() >= self.integer_digits:
            raise ValueError(f"must be less than 10^{self.integer_digits} in magnitude")
        if exact != exact.quantize(Decimal(1).scaleb(-self.scale)):
            raise ValueError(f"must have at most {self.scale} decimal places")
        return value


QTY_NUMERIC = NumericFit(18, 4)
AMOUNT_NUMERIC = NumericFit(18, 2)

# A quantity or a price per unit: finite, at most 14 integer digits and 4 decimals (numeric(18,4)).
Qty = Annotated[float, Field(allow_inf_nan=False), QTY_NUMERIC, AfterValidator(QTY_NUMERIC.check)]
# A contract amount: finite, at most 16 integer digits and 2 decimals (numeric(18,2)).
Amount = Annotated[
    float, Field(allow_inf_nan=False), AMOUNT_NUMERIC, AfterValidator(AMOUNT_NUMERIC.check)
]


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def within_horizon(value: date, info: ValidationInfo) -> date:
    """`value` unchanged when within the horizon; the context's `today` narrows the outer one."""
    if value < EARLIEST_DATE:
        raise ValueError(f"must not be before {EARLIEST_DATE.isoformat()}")
    today = info.context.get("today") if isinstance(info.context, dict) else None
    latest = _add_years(today, HORIZON_YEARS) if isinstance(today, date) else LATEST_DATE
    if value > latest:
        raise ValueError(
            f"must not be after {latest.isoformat()} ({HORIZON_YEARS} years from today)"
            if isinstance(today, date)
            else f"must not be after {latest.isoformat()}"
        )
    return value


# A date of a task payload: between 2000-01-01 and 20 years from the context's `today`.
BoundedDate = Annotated[date, AfterValidator(within_horizon)]


def within_horizon_from_today(value: date) -> date:
    """`value` unchanged when between 2000-01-01 and 20 years from today (API side only)."""
    today = date.today()
    if value < EARLIEST_DATE:
        raise ValueError(f"must not be before {EARLIEST_DATE.isoformat()}")
    latest = _add_years(today, HORIZON_YEARS)
    if value > latest:
        raise ValueError(
            f"must not be after {latest.isoformat()} ({HORIZON_YEARS} years from today)"
        )
    return value


# A date of an API request body (never validated inside a workflow, so it may read the clock).
RequestDate = Annotated[date, AfterValidator(within_horizon_from_today)]


# How deep an extra field's JSON may nest (deeper is no business data, and walking it costs).
EXTRA_DEPTH_MAX = 16


def _check_json_value(path: str, value: Any, depth: int = 0) -> None:
    if depth > EXTRA_DEPTH_MAX:
        raise ValueError(f"{path} nests deeper than {EXTRA_DEPTH_MAX} levels")
    if isinstance(value, str):
        try:
            refuse_control_characters(value)
        except ValueError as exc:
            raise ValueError(f"{path} {exc}") from None
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{path} must be a finite number")
    elif isinstance(value, dict):
        for key, inner in value.items():
            _check_json_value(f"{path} key", str(key), depth + 1)
            _check_json_value(f"{path}.{str(key)[:40]!r}", inner, depth + 1)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            _check_json_value(f"{path}[{index}]", inner, depth + 1)


def check_extra_fields(data: Any, known: set[str], *, where: str = "payload") -> None:
    """ValueError when the fields of `data` not in `known` are too many, too big or not clean.

    Extra fields are kept as sent (in the task's JSONB payload and the workflow history), so
    they get the same rules as text (no control characters), finite numbers, and a size cap.
    """
    if not isinstance(data, dict):
        return
    extras = {key: value for key, value in data.items() if key not in known}
    if not extras:
        return
    if len(extras) > EXTRA_FIELDS_MAX:
        raise ValueError(
            f"{where} has {len(extras)} extra fields; at most {EXTRA_FIELDS_MAX} are kept"
        )
    for key, value in extras.items():
        name = str(key)
        if len(name) > CODE_LEN:
            raise ValueError(f"extra field name {name[:20]!r}… is over {CODE_LEN} characters")
        _check_json_value(f"extra field {name!r}", name)
        _check_json_value(f"extra field {name!r}", value)
    size = len(json.dumps(extras, default=str, ensure_ascii=False).encode())
    if size > EXTRA_BYTES_MAX:
        names = ", ".join(sorted(str(key) for key in extras))[:200]
        raise ValueError(
            f"extra fields ({names}) take {size} bytes; at most {EXTRA_BYTES_MAX} are kept"
        )
