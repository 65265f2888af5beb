"""LIKE patterns from user text: its `%`, `_` and `\\` match themselves, not anything."""

from __future__ import annotations

LIKE_ESCAPE = "\\"


def escape_like(text: str) -> str:
    """`text` for a LIKE/ILIKE pattern matched with `escape=LIKE_ESCAPE`: literal throughout."""
    return (
        text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", f"{LIKE_ESCAPE}%")
        .replace("_", f"{LIKE_ESCAPE}_")
    )
