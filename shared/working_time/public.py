"""Public holidays and make-up working days from the `holidays` library (issue 13).

`holidays` is maintained, covers 150+ countries, and for China carries the State Council's
published schedules (days off and the weekend days worked in exchange, 调休) through the last
announced year; later years get the statutory holidays by rule, which the calendar marks
`official: False` so planning confirms them.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

import holidays

from shared.working_time.data import PublicCalendar

# What turns public holidays off in `ORDERFLOW_HOLIDAYS_COUNTRY`.
NO_COUNTRY = "none"
# Labels the library appends to a holiday's name for a moved or estimated day; a make-up day
# is named after the holiday itself.
_QUALIFIER = re.compile(r"\s*\((observed|estimated)[^)]*\)", re.IGNORECASE)


def country_code(country: str | None) -> str | None:
    """The library's code for `country` (`cn` → `CN`); None for no public holidays.

    Raises ValueError for a code the library does not know."""
    text = (country or "").strip()
    if not text or text.lower() == NO_COUNTRY:
        return None
    code = text.upper()
    supported = holidays.list_supported_countries(include_aliases=True)
    if code not in supported:
        count = len(holidays.list_supported_countries(include_aliases=False))
        raise ValueError(
            f"unknown country {text!r}: the holidays library knows {count} ISO 3166-1 codes "
            f"(e.g. CN, DE, US), or give {NO_COUNTRY!r} for no public holidays"
        )
    return code


def public_calendar(country: str | None, years: range) -> PublicCalendar:
    """The public holidays and make-up working days of `country` in `years`; an empty
    calendar for None or "none". Cached per (country, years)."""
    code = country_code(country)
    if code is None:
        return PublicCalendar(country=None)
    return _public_calendar(code, years)


@lru_cache(maxsize=32)
def _public_calendar(code: str, years: range) -> PublicCalendar:
    wanted = set(years)
    # A year either side too: a make-up day can fall in the year before its holiday.
    around = range(min(wanted, default=0) - 1, max(wanted, default=0) + 2) if wanted else range(0)
    found = holidays.country_holidays(code, years=around, language=_language(code))
    days = {d: str(name) for d, name in found.items() if d.year in wanted}
    make_up = sorted(d for d in found.weekend_workdays if d.year in wanted)
    return PublicCalendar(
        country=code,
        holidays=dict(sorted(days.items())),
        working_weekends=_name_make_up_days(found, make_up),
        official_through=_last_published_year(found),
    )


def _language(code: str) -> str | None:
    # English names when the country has them, so notes read alike across plants.
    probe = holidays.country_holidays(code, years=[])
    return "en_US" if "en_US" in getattr(probe, "supported_languages", ()) else None


def _name_make_up_days(found: holidays.HolidayBase, make_up: list[date]) -> dict[date, str]:
    """Each make-up working day named after the holiday whose day off it pays for."""
    label = getattr(found, "substituted_date_format", None)
    form = found.tr(label) if label else None
    marker = {d: d.strftime(form) for d in make_up} if form else {}
    paid_by = {
        w: next((d for d, name in found.items() if text in str(name)), w)
        for w, text in marker.items()
    }
    substituted = set(paid_by.values())
    named = sorted(d for d in found if d not in substituted)
    names: dict[date, str] = {}
    for day in make_up:
        paid = paid_by.get(day, day)
        nearest = min(named, key=lambda d: (abs((d - paid).days), d), default=None)
        names[day] = _QUALIFIER.sub("", str(found[nearest])) if nearest else "public holiday"
    return names


def _last_published_year(found: holidays.HolidayBase) -> int | None:
    """The last year whose schedule of substituted days was published (China: the State
    Council's yearly notice); None for a country whose holidays follow fixed rules only."""
    special = getattr(found, "special_public_holidays", {})
    published = [
        year
        for year, entries in special.items()
        if any(isinstance(entry, tuple) and len(entry) >= 4 for entry in _entries(entries))
    ]
    return max(published, default=None)


def _entries(entries: object) -> tuple[object, ...]:
    # The library keeps one entry as a bare tuple and several as a tuple of tuples.
    if isinstance(entries, tuple) and entries and not isinstance(entries[0], tuple):
        return (entries,)
    return entries if isinstance(entries, tuple) else ()
