"""How `Settings` reads the text of its environment variables: durations (ISO-8601 or seconds),
comma-separated lists, and the plant's working time (zone, shifts, work week, holiday country),
each refused with the variable it came from and what to write instead."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import isodate
from pydantic import AfterValidator, BeforeValidator

from shared.working_time.public import NO_COUNTRY, country_code
from shared.working_time.text import parse_shifts, parse_work_week


def parse_duration(value: object) -> timedelta:
    """Read a duration given as ISO-8601 (`PT8H`, `P3D`), seconds (`28800`) or a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    text = str(value).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return timedelta(seconds=float(text))
    try:
        parsed = isodate.parse_duration(text)
    except (isodate.ISO8601Error, ValueError) as exc:
        raise ValueError(f"{text!r} is neither an ISO-8601 duration (PT8H) nor seconds") from exc
    if not isinstance(parsed, timedelta):  # years or months have no fixed length
        raise ValueError(f"{text!r} uses years or months; give days or hours instead")
    return parsed


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def split_csv(value: object) -> object:
    """A comma-separated string as its non-empty parts; anything else as it is."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"ORDERFLOW_TIMEZONE {value!r} is not an IANA time zone: write e.g. "
            "Asia/Shanghai or Europe/Berlin"
        ) from None
    return value


def _readable_shifts(value: str) -> str:
    try:
        parse_shifts(value)
    except ValueError as exc:
        raise ValueError(f"ORDERFLOW_SHIFTS: {exc}") from None
    return value


def _readable_work_week(value: str) -> str:
    try:
        parse_work_week(value)
    except ValueError as exc:
        raise ValueError(f"ORDERFLOW_WORK_WEEK: {exc}") from None
    return value


def _known_country(value: str) -> str:
    try:
        return country_code(value) or NO_COUNTRY
    except ValueError as exc:
        raise ValueError(f"ORDERFLOW_HOLIDAYS_COUNTRY: {exc}") from None


# The plant's working time as the settings keep it (text, checked when read): an IANA zone,
# shifts such as `08:00-12:00,13:00-17:30`, a work week such as `MON-FRI`, and a country code
# (upper case) or `none`.
PlantZone = Annotated[str, AfterValidator(_known_zone)]
ShiftsText = Annotated[str, AfterValidator(_readable_shifts)]
WorkWeekText = Annotated[str, AfterValidator(_readable_work_week)]
HolidaysCountry = Annotated[str, AfterValidator(_known_country)]
