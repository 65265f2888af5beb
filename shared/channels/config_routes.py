"""The `routes` of the channels' configuration, each read into a `Route`.

A route is `{"channels": [...], "kind": ..., "level": ..., "department": ..., "role": ...}`
for escalations, or `{"channels": [...], "event": ..., "department": ...}` for business events
(`department` there picks one department's digest); each of kind, level, department, role and
event is one value or a list, and left out it matches anything.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TypeVar, cast

from shared.channels.config_raw import NAME, ChannelConfigError, Raw
from shared.channels.model import ROUTED_EVENT_KINDS, Channel, Route
from shared.departments import DEPARTMENTS

ROUTE_KEYS = ("channels", "kind", "level", "department", "role", "event")
LEVELS = (1, 2)
# Escalations are raised to `ops` too (a failing channel, a stuck workflow).
ROUTE_DEPARTMENTS: tuple[str, ...] = (*DEPARTMENTS, "ops")
# The roles an escalation is raised to: the roles tokens carry (shared/auth.py KNOWN_ROLES).
ROUTE_ROLES: tuple[str, ...] = (
    *DEPARTMENTS,
    *(f"head:{department}" for department in DEPARTMENTS),
    "division",
    "ops",
    "admin",
)
_EXAMPLE = '{"channels": ["quality-group"], "department": "quality", "level": 1}'

T = TypeVar("T")


def parse_routes(objects: list[object], channels: Mapping[str, Channel]) -> list[Route]:
    """Every route object as a `Route` over the configured `channels` (route 1 first)."""
    return [_route(obj, index, channels) for index, obj in enumerate(objects, 1)]


def _route(obj: object, index: int, channels: Mapping[str, Channel]) -> Route:
    if not isinstance(obj, dict):
        raise ChannelConfigError(f"route {index}: must be a JSON object such as {_EXAMPLE}")
    raw = Raw(f"route {index}", obj)
    raw.known_keys(ROUTE_KEYS, "a route")
    events = _words(raw, "event", ROUTED_EVENT_KINDS)
    if events and {"kind", "level", "role"} & set(obj):
        raw.fail(
            "an event route takes only channels, event and department (a department's "
            "digest): put kind, level and role on a route of their own"
        )
    return Route(
        channels=_channels(raw, channels),
        kinds=_words(raw, "kind", None),
        levels=_levels(raw),
        departments=_words(raw, "department", ROUTE_DEPARTMENTS),
        roles=_words(raw, "role", ROUTE_ROLES),
        events=events,
    )


def _channels(raw: Raw, channels: Mapping[str, Channel]) -> tuple[str, ...]:
    """The route's channel names, each once, each configured."""
    names = _listed(raw, "channels", str)
    if not names:
        raw.fail(f"needs channels, the names of the channels it sends to, e.g. {_EXAMPLE}")
    unknown = [name for name in names if name not in channels]
    if unknown:
        shown = ", ".join(f'"{n}"' if NAME.match(n) else "(not a channel name)" for n in unknown)
        raw.fail(
            f"channel(s) {shown} are not configured; configured: {', '.join(channels) or 'none'}"
        )
    return tuple(dict.fromkeys(names))


def _words(raw: Raw, key: str, allowed: Collection[str] | None) -> frozenset[str]:
    """A key's string or strings, each in `allowed` when that is given; empty if absent."""
    words = _listed(raw, key, str)
    if any(not word for word in words):
        raw.fail(f"{key} must not be an empty string")
    unknown = sorted(set(words) - set(allowed)) if allowed is not None else []
    if unknown:
        raw.fail(f"unknown {key}(s) {', '.join(unknown)}; use {', '.join(allowed or ())}")
    return frozenset(words)


def _levels(raw: Raw) -> frozenset[int]:
    levels = _listed(raw, "level", int)
    if any(isinstance(level, bool) or level not in LEVELS for level in levels):
        raw.fail("level must be 1 (the first escalation) or 2 (the second), or a list of them")
    return frozenset(levels)


def _listed(raw: Raw, key: str, of: type[T]) -> list[T]:
    """A key's value as a list: one value or a list of them, every one of type `of`; an
    absent key is an empty list, an empty list an error (leave the key out to match any)."""
    if key not in raw.data:
        return []
    value = raw.data[key]
    values = value if isinstance(value, list) else [value]
    if not values:
        raw.fail(f"{key} is an empty list: leave it out to match any")
    if not all(isinstance(item, of) for item in values):
        what = "a string" if of is str else "a whole number"
        raw.fail(f"{key} must be {what} or a list of them")
    return cast(list[T], values)
