"""Which channels an escalation or a business event goes to: the configured channels by name
and the routes over them (shared/channels/config.py builds the book from the settings).

An escalation goes to the channels of every route without events that matches its kind,
level, department and escalated role (a route's empty field matches anything). An event goes
to the channels of every route listing that event: a route without departments takes the
event whatever its department; a route with departments takes only events of those
departments, so a plant-wide event (no department, e.g. `plan_report`) never reaches a
department's own channel by accident. Each channel is named once, in the order the routes
first name it, so deliveries are made in a predictable order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeVar

from shared.channels.model import Channel, Route


@dataclass(frozen=True)
class ChannelBook:
    """The configured channels (by name, in configuration order) and the routes over them."""

    channels: Mapping[str, Channel] = field(default_factory=dict)
    routes: tuple[Route, ...] = ()

    def __post_init__(self) -> None:
        # A read-only copy: the book is shared by every activity of a worker.
        object.__setattr__(self, "channels", MappingProxyType(dict(self.channels)))
        for route in self.routes:
            missing = [name for name in route.channels if name not in self.channels]
            if missing:
                raise ValueError(f"a route names channel(s) {missing}, which the book lacks")

    def get(self, name: str) -> Channel:
        """The channel of that name; KeyError saying which names there are if none."""
        try:
            return self.channels[name]
        except KeyError:
            known = ", ".join(self.channels) or "none"
            raise KeyError(f"no channel named {name!r} is configured (channels: {known})") from None

    def for_escalation(self, *, kind: str, level: int, department: str, role: str) -> list[str]:
        """The channels an escalation goes to: those of every escalation route it matches."""
        matching = (
            route
            for route in self.routes
            if not route.events
            and _matches(route.kinds, kind)
            and _matches(route.levels, level)
            and _matches(route.departments, department)
            and _matches(route.roles, role)
        )
        return _union(matching)

    def for_event(self, event: str, *, department: str | None = None) -> list[str]:
        """The channels a business event goes to: those of every route listing the event whose
        departments (if it has any) include the event's department."""
        matching = (
            route
            for route in self.routes
            if event in route.events and _matches(route.departments, department)
        )
        return _union(matching)


T = TypeVar("T")


def _matches(allowed: frozenset[T], value: T | None) -> bool:
    """Whether a route's field takes the value: an empty field takes anything, even none."""
    return not allowed or value in allowed


def _union(routes: Iterable[Route]) -> list[str]:
    """The routes' channels, each once, in the order first named."""
    names: dict[str, None] = {}
    for route in routes:
        names.update(dict.fromkeys(route.channels))
    return list(names)
