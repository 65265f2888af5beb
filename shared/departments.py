"""The plant's eight departments, on their own so the settings and the channels' routing can
both name them without importing each other (`shared.settings.DEPARTMENTS` is this tuple)."""

from __future__ import annotations

DEPARTMENTS: tuple[str, ...] = (
    "sales",
    "planning",
    "engineering",
    "procurement",
    "warehouse",
    "quality",
    "production",
    "aftersales",
)
